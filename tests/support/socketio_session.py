"""Run in the Rasa environment: one web-chat session over socket.io that the caller drives line
by line, on HTTP long-polling (the transport the chat page starts with; the Rasa environment's
aiohttp is too old for python-engineio's websocket client, and the browser tests cover the
upgrade).

    python socketio_session.py <url>

Prints ``{"session": "<id>", "transport": ...}`` once the server confirmed the session (a new
one: no id is asked for), then for every line read from standard input (one message)
``{"replies": [...], "transport": ...}`` with the bot's replies to it, one line each, or
``{"error": "disconnected"}`` when the socket is gone. Stops at the end of its input. The replies of a message are those that arrive until a second and a half
passes without one (at least one is awaited, for up to 90 seconds).
"""

from __future__ import annotations

import asyncio
import json
import sys

import socketio

FIRST_REPLY_TIMEOUT = 90.0
QUIET = 1.5


def emit_line(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


async def main() -> None:
    url = sys.argv[1]
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue[str] = asyncio.Queue()
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    session: dict[str, str] = {}

    @client.on("session_confirm")
    async def _confirm(data):  # noqa: ANN001
        sid = data if isinstance(data, str) else (data or {}).get("session_id", "")
        if not confirmed.done():
            confirmed.set_result(sid)

    @client.on("bot_uttered")
    async def _bot(data):  # noqa: ANN001
        await replies.put(data.get("text", ""))

    await client.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
    await client.emit("session_request", {"session_id": None})
    session["id"] = await asyncio.wait_for(confirmed, 30)
    emit_line({"session": session["id"], "transport": client.transport()})
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        message = line.rstrip("\n")
        if not client.connected:
            emit_line({"error": "disconnected"})
            continue
        await client.emit("user_uttered", {"message": message, "session_id": session["id"]})
        got: list[str] = []
        try:
            got.append(await asyncio.wait_for(replies.get(), FIRST_REPLY_TIMEOUT))
            while True:
                got.append(await asyncio.wait_for(replies.get(), QUIET))
        except asyncio.TimeoutError:
            pass
        emit_line({"replies": got, "transport": client.transport()})
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main())

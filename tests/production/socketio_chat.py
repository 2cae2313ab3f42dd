"""Run in the Rasa environment: one web-chat session over socket.io (HTTP long-polling, as the
chat page starts), printing the session id the server confirmed, then the bot's replies to
each message as a JSON list (one line each).

    python socketio_chat.py <url> <session id> <message> [<message> ...]

The server keeps a session id only when it signed it; any other gets a new one.
"""

from __future__ import annotations

import json
import sys
import threading

import socketio


def main() -> None:
    url, session_id, messages = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = socketio.Client(reconnection=False)
    replies: list[list[str]] = []
    got = threading.Event()
    confirmed = threading.Event()
    session: list[str] = []

    @client.on("session_confirm")
    def _confirm(data):  # noqa: ANN001
        session.append(data if isinstance(data, str) else (data or {}).get("session_id", ""))
        confirmed.set()

    @client.on("bot_uttered")
    def _bot(data):  # noqa: ANN001
        replies[-1].append(data.get("text", ""))
        got.set()

    client.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
    client.emit("session_request", {"session_id": session_id})
    confirmed.wait(30)
    for message in messages:
        replies.append([])
        got.clear()
        client.emit("user_uttered", {"message": message, "session_id": session_id})
        got.wait(60)
        while True:  # further replies of the same turn, until a second passes without one
            got.clear()
            if not got.wait(1.0):
                break
    client.disconnect()
    print(session[0] if session else "")
    print(json.dumps(replies, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Run in the Rasa environment (python-socketio): one web-chat page over socket.io.

    python conversation_ownership_support.py <url> <session id or ""> <message> ...

Asks to continue ``<session id>`` (a new conversation when empty), sends each message (``@title``
presses the button of that title in the last reply) and prints, as JSON, the session id the
server confirmed and the bot's replies to each message.
"""

from __future__ import annotations

import json
import sys
import threading

import socketio


def main() -> None:
    url, requested, messages = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = socketio.Client(reconnection=False)
    replies: list[list[dict]] = [[]]
    confirmed: list[str] = []
    got, ready = threading.Event(), threading.Event()

    @client.on("session_confirm")
    def _confirm(data):  # noqa: ANN001
        confirmed.append(data)
        ready.set()

    @client.on("bot_uttered")
    def _bot(data):  # noqa: ANN001
        replies[-1].append(data)
        got.set()

    client.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
    client.emit("session_request", {"session_id": requested or None})
    ready.wait(30)
    for message in messages:
        if message.startswith("@"):
            buttons = {b["title"]: b["payload"] for r in replies[-1] for b in r.get("quick_replies") or []}
            message = buttons[message[1:]]
        replies.append([])
        got.clear()
        client.emit("user_uttered", {"message": message, "session_id": requested})
        got.wait(60)
        got.wait(1.5)  # further replies of the same turn
    client.disconnect()
    texts = [[r.get("text", "") for r in turn] for turn in replies[1:]]
    print(json.dumps({"session_id": confirmed[0] if confirmed else None, "replies": texts},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()

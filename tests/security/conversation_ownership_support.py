"""Run in the Rasa environment (python-socketio): one web-chat page over socket.io.

    python conversation_ownership_support.py <url> <session id or ""> <message> ...

Asks to continue ``<session id>`` (a new conversation when empty), sends each message (``@title``
presses the button of that title in the last reply) and prints, as JSON, the session id the
server confirmed and the bot's replies to each message.

A turn is over when the server's tracker (read with the token in ``RASA_TOKEN``) holds the
message followed by ``action_listen``: on a slow machine the replies of one turn can be
seconds apart, and a quiet period alone would send the next message into the last turn.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request

import socketio


def user_turns_done(url: str, session_id: str) -> tuple[int, bool]:
    """The number of user messages in the tracker, and whether the last one has been answered."""
    quoted = urllib.parse.quote(session_id, safe="")
    token = urllib.parse.quote(os.environ["RASA_TOKEN"], safe="")
    with urllib.request.urlopen(f"{url}/conversations/{quoted}/tracker?token={token}", timeout=60) as resp:
        events = json.loads(resp.read())["events"]
    users = sum(1 for e in events if e["event"] == "user")
    answered = bool(events) and events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    return users, answered


def wait_for_turn(url: str, session_id: str, expected_users: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        users, answered = user_turns_done(url, session_id)
        if users >= expected_users and answered:
            time.sleep(0.3)  # the replies were emitted before the tracker was saved; let them arrive
            return
        time.sleep(0.2)
    raise SystemExit(f"turn {expected_users} of {session_id} not answered within {timeout} s")


def main() -> None:
    url, requested, messages = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = socketio.Client(reconnection=False)
    replies: list[list[dict]] = [[]]
    confirmed: list[str] = []
    ready = threading.Event()

    @client.on("session_confirm")
    def _confirm(data):  # noqa: ANN001
        confirmed.append(data)
        ready.set()

    @client.on("bot_uttered")
    def _bot(data):  # noqa: ANN001
        replies[-1].append(data)

    client.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
    client.emit("session_request", {"session_id": requested or None})
    ready.wait(30)
    session_id = confirmed[0] if confirmed else requested
    # a new conversation has no messages yet (reading its tracker would start a session early)
    users = user_turns_done(url, session_id)[0] if messages and session_id == requested else 0
    for message in messages:
        if message.startswith("@"):
            buttons = {b["title"]: b["payload"] for r in replies[-1] for b in r.get("quick_replies") or []}
            message = buttons[message[1:]]
        replies.append([])
        client.emit("user_uttered", {"message": message, "session_id": requested})
        users += 1
        wait_for_turn(url, session_id, users)
    client.disconnect()
    texts = [[r.get("text", "") for r in turn] for turn in replies[1:]]
    print(json.dumps({"session_id": confirmed[0] if confirmed else None, "replies": texts},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()

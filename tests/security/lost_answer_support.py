"""A proxy between Rasa and the action server that loses the action server's answer.

``ActionAnswerDropper(upstream)`` forwards every call of Rasa to the action server. Armed
with ``drop_answer_to("action_complete_petition")``, the next call that runs that action is
forwarded, the action server does all of its work (the back office files the case), and
then the connection to Rasa is closed without a byte of the answer: Rasa sees the action
server vanish in the middle of the call and carries on without the action's events.
"""

from __future__ import annotations

import re
import socket
import threading

from tests.production.netfault import _close
from tests.support.stack import free_port


class ActionAnswerDropper:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.dropped: list[str] = []  # the actions whose answers were dropped
        self._armed: str | None = None
        self._lock = threading.Lock()
        self._server: socket.socket | None = None

    def start(self) -> "ActionAnswerDropper":
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            _close(self._server)
            self._server = None

    def drop_answer_to(self, action: str) -> None:
        with self._lock:
            self._armed = action

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    # --- forwarding ------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        server = self._server
        while server is not None:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            state = {"request": b"", "drop": None}
            threading.Thread(target=self._requests, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._answers, args=(upstream, client, state), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        try:
            while data := client.recv(65536):
                seen = state["request"] + data  # a field split between two reads is found too
                state["request"] = seen[-256:]
                with self._lock:
                    armed = self._armed
                    if armed and state["drop"] is None and re.search(
                        rb'"next_action"\s*:\s*"' + re.escape(armed.encode()) + rb'"', seen
                    ):
                        state["drop"], self._armed = armed, None
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)

    def _answers(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while data := upstream.recv(65536):
                if state["drop"] is not None:
                    with self._lock:
                        self.dropped.append(state["drop"])
                    break  # the action server answered: lose the answer and the connection
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)

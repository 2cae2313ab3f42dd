"""A TCP proxy that can play a service being down, or a connection cut in mid-request.

The processes under test are pointed at the proxy's port instead of the service's:

- ``TcpProxy(upstream)`` is created *down*: nothing listens, a client gets "connection
  refused" exactly as with a stopped PostgreSQL or Redis. ``up()`` starts forwarding,
  ``down()`` stops listening and cuts every open connection.
- ``cut_responses(n)`` makes the next ``n`` responses (on new or kept-alive connections)
  be dropped: the request is forwarded, the upstream's first response bytes arrive (the
  upstream has done the work), and the client's connection is closed without passing any
  of them on: the client sees the server vanish in the middle of its request, after the
  work was done.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

from tests.support.stack import free_port


@dataclass
class TcpProxy:
    upstream: tuple[str, int]
    port: int = field(default_factory=free_port)
    accepted: int = 0
    cut: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._cut_next = 0

    @property
    def is_up(self) -> bool:
        return self._server is not None

    # --- control -----------------------------------------------------------------------
    def up(self) -> "TcpProxy":
        with self._lock:
            if self._server is not None:
                return self
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", self.port))
            server.listen(128)
            self._server = server
        threading.Thread(target=self._accept_loop, args=(server,), daemon=True).start()
        return self

    def down(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            conns, self._conns = self._conns, set()
        if server is not None:
            _close(server)
        for conn in conns:
            _close(conn)

    def cut_responses(self, count: int = 1) -> None:
        with self._lock:
            self._cut_next = count

    # --- forwarding --------------------------------------------------------------------
    def _accept_loop(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed by down()
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._server is not server:  # went down meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self.accepted += 1
                self._conns.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _take_cut(self) -> bool:
        with self._lock:
            if self._cut_next <= 0:
                return False
            self._cut_next -= 1
            self.cut += 1
            return True

    def _pump(self, source: socket.socket, target: socket.socket, responses: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if responses and self._take_cut():
                    break  # the upstream answered: drop the answer and the connection
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                _close(sock)
            with self._lock:
                self._conns.discard(source)
                self._conns.discard(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass

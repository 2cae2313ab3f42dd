"""Debian's nginx running the shipped ``deploy/nginx.conf`` in front of a test stack.

The shipped file is used as it is, inside a minimal main configuration (pid, temp and log
files in a directory of the test), with only the addresses rewritten to loopback: the listen
port and the ``server`` line of each upstream. Every rewritten line must occur exactly once in
the shipped file, so a change of its shape fails loudly instead of being silently skipped.

The access log records which upstream answered each request (``$upstream_addr``,
``$upstream_status``): a request that nginx passed to a second Rasa replica after the first
refused the connection shows both addresses and both statuses.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.stack import ROOT, _http_ok

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SHIPPED = ROOT / "deploy" / "nginx.conf"

# What the shipped file says for each address, as the deployment (deploy/compose.yml) names them.
LISTEN = "listen 80;"
RASA_REST = "server rasa:5005;"
RASA_SOCKETIO = "server rasa-socketio:5006;"
BACKOFFICE = "server backoffice:8080;"
# The shipped front answers 404 on the REST channel (trusted integrations call Rasa inside the
# network). A load driver playing such an integration through the front opens it onto the
# same `rasa_rest` upstream, with the proxy settings of the `/webhooks/` location (no per-IP
# limit: that location's is for WeChat's servers), and a read timeout longer than Rasa's lock
# lifetime (TICKET_LOCK_LIFETIME, 60 s): a message sent again after its replica died waits
# until the dead process's ticket for the conversation expires, and nginx giving up earlier
# would make Rasa cancel the message's processing half-way (Sanic cancels a request whose
# client went away).
REST_CLOSED = "return 404;"
REST_OPENED = (
    "proxy_pass http://rasa_rest;\n"
    "        proxy_set_header Host $http_host;\n"
    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
    "        proxy_read_timeout 120s;"
)
ACCESS_FORMAT = (
    "log_format upstreams '$msec $status \"$request\" upstream=$upstream_addr "
    "upstream_status=$upstream_status request_time=$request_time';"
)


def nginx_conf(
    prefix: Path,
    port: int,
    rasa_ports: list[int],
    socketio_port: int,
    backoffice_port: int,
    *,
    open_rest: bool = False,
) -> Path:
    """deploy/nginx.conf inside a minimal main configuration; only addresses rewritten (and,
    with ``open_rest``, the REST channel routed to the Rasa replicas)."""
    shipped = SHIPPED.read_text(encoding="utf-8")
    rewrites = {
        LISTEN: f"listen 127.0.0.1:{port};",
        RASA_REST: "\n    ".join(f"server 127.0.0.1:{p};" for p in rasa_ports),
        RASA_SOCKETIO: f"server 127.0.0.1:{socketio_port};",
        BACKOFFICE: f"server 127.0.0.1:{backoffice_port};",
    }
    if open_rest:
        rewrites[REST_CLOSED] = REST_OPENED
    for old, new in rewrites.items():
        assert shipped.count(old) == 1, f"deploy/nginx.conf changed shape: {old!r}"
        shipped = shipped.replace(old, new)
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    {ACCESS_FORMAT}\n    access_log {prefix / 'access.log'} upstreams;\n{temp}\n{shipped}\n}}\n",
        encoding="utf-8",
    )
    return conf


@dataclass
class Nginx:
    """One nginx master (and its worker) in its own process group."""

    prefix: Path
    port: int
    popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def start(self, conf: Path, timeout: float = 20) -> "Nginx":
        self.popen = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(self.prefix), "-e", str(self.error_log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not _http_ok(self.url + "/healthz"):
            if self.popen.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not answer")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGQUIT)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def upstream_lines(self, path_prefix: str = "") -> list["Proxied"]:
        """The access log's requests (under ``path_prefix``) with their upstream attempts."""
        found = []
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return found
        for line in text.splitlines():
            match = _ACCESS.match(line)
            if not match or not match["path"].startswith(path_prefix):
                continue
            found.append(Proxied(
                at=float(match["msec"]), status=int(match["status"]), path=match["path"],
                upstreams=[a.strip() for a in match["addr"].split(",")],
                upstream_statuses=[s.strip() for s in match["ustatus"].split(",")],
            ))
        return found


_ACCESS = re.compile(
    r'(?P<msec>[\d.]+) (?P<status>\d+) "\S+ (?P<path>\S+)[^"]*" upstream=(?P<addr>.*?) '
    r"upstream_status=(?P<ustatus>.*?) request_time="
)


@dataclass
class Proxied:
    at: float  # epoch seconds
    status: int  # what the client got
    path: str
    upstreams: list[str]  # every replica nginx tried, in order ("127.0.0.1:5005")
    upstream_statuses: list[str]  # "502" for a replica that refused or dropped the request

"""The scale-out topology of the README, for ``tests/production/test_scale_out.py`` and
``bench/scale.py``: two Rasa REST replicas (``rasa-a``, ``rasa-b``) and the socket.io process
sharing the PostgreSQL tracker store and the Redis lock store, the action server and the back
office, all started by scripts/prod.py, with Debian's nginx in front running the shipped
``deploy/nginx.conf`` (addresses rewritten to loopback; the REST channel, which the shipped
front does not route, opened onto the same ``rasa_rest`` upstream for the load driver).
"""

from __future__ import annotations

import json
import random
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from bench.conversations import make_citizen, wage_arrears
from tests.support.nginx import Nginx, nginx_conf
from tests.support.stack import ProductionStack, create_database, free_port, query

REPLICAS = ("rasa-a", "rasa-b")
SOCKETIO = "rasa-socketio"


@dataclass
class ScaleOutStack(ProductionStack):
    """The production profile with the REST replicas of ``REPLICAS``; each replica may reach
    the action server at an address of its own (``action_urls``, e.g. through a test proxy)."""

    action_urls: dict[str, str] = field(default_factory=dict)
    _starting: str = ""

    def process_env(self) -> dict[str, str]:
        env = super().process_env()
        if self._starting in self.action_urls:
            env["ACTION_ENDPOINT_URL"] = self.action_urls[self._starting]
        return env

    def start_rasa(self, extra: list[str] | None = None, name: str | None = None) -> None:
        for replica in [name] if name else list(self.replica_ports):
            self._starting = replica
            try:
                super().start_rasa(extra, name=replica)
            finally:
                self._starting = ""


def new_stack(name: str, workdir: Path, *, model: Path | None = None, rasa_workers: int = 1,
              action_workers: int = 2, env: dict[str, str] | None = None) -> ScaleOutStack:
    """The stack (not started yet) on two fresh databases: ``REPLICAS`` with ``rasa_workers``
    Sanic workers each and the socket.io process, which the back office talks to."""
    suffix = uuid.uuid4().hex[:10]
    database, tracker = f"xf_scale_{suffix}", f"xf_scaletr_{suffix}"
    create_database(database)
    create_database(tracker)
    stack = ScaleOutStack(
        name=name, workdir=workdir, env=dict(env or {}), database=database, tracker_database=tracker,
        model=model, rasa_workers=rasa_workers, action_workers=action_workers,
    )
    del stack.replica_ports["rasa"], stack.replica_workers["rasa"]
    for replica in REPLICAS:
        stack.add_replica(replica, workers=rasa_workers)
    stack.rasa_port = stack.add_replica(SOCKETIO)  # RASA_URL: the process holding web chats
    return stack


@dataclass
class ScaleOut:
    stack: ScaleOutStack
    nginx: Nginx

    @property
    def rest_url(self) -> str:
        """The REST channel through nginx."""
        return f"{self.nginx.url}/webhooks/rest/webhook"

    def alive(self) -> list[str]:
        return [n for n in (*REPLICAS, SOCKETIO) if self.stack.processes[n].popen.poll() is None]

    def api_bases(self) -> list[str]:
        """Rasa's HTTP API (not routed by nginx) on every Rasa process still running."""
        return [f"http://127.0.0.1:{self.stack.replica_ports[n]}" for n in self.alive()]

    def replica_of(self, address: str) -> str:
        """``rasa-a`` for the upstream address ``127.0.0.1:<its port>`` of nginx's log."""
        for name, port in self.stack.replica_ports.items():
            if address == f"127.0.0.1:{port}":
                return name
        return address

    def warm_up(self, conversations: int = 2, turns: int = 6) -> None:
        """The first messages of a fresh Rasa process are slow: a few through nginx, which
        hands them to the replicas in turn."""
        rng = random.Random(3)
        headers = {"Content-Type": "application/json", **self.stack.rest_headers()}
        for _ in range(conversations):
            sender = f"rest-warmup-{uuid.uuid4().hex[:8]}"
            for turn in wage_arrears(make_citizen(rng))[:turns]:
                body = json.dumps({"sender": sender, "message": turn.message}).encode()
                request = urllib.request.Request(self.rest_url, data=body, headers=headers)
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()

    def stop(self) -> None:
        self.nginx.stop()
        for name in list(self.stack.processes):  # the stores are dropped next: no clean shutdown
            self.stack.kill(name)
        self.stack.drop_stores()


def start(stack: ScaleOutStack, prefix: Path) -> ScaleOut:
    """Start every process, wait until each Rasa process has its model, then nginx. On a
    failure everything started is stopped and the databases are dropped."""
    prefix.mkdir(parents=True, exist_ok=True)
    deployment = ScaleOut(stack, Nginx(prefix, free_port()))
    try:
        stack.workdir.mkdir(parents=True, exist_ok=True)
        stack.start()
        conf = nginx_conf(prefix, deployment.nginx.port, [stack.replica_ports[r] for r in REPLICAS],
                          stack.replica_ports[SOCKETIO], stack.backoffice_port, open_rest=True)
        deployment.nginx.start(conf)
    except BaseException:
        deployment.stop()
        raise
    return deployment


# --- what the store holds ----------------------------------------------------------------------


@dataclass
class CaseCheck:
    """The ``cases`` table against what the citizens were told."""

    cases: int = 0
    told: int = 0  # conversations whose citizen read a case number
    lost: list[str] = field(default_factory=list)  # told a number that is not a case of the conversation
    duplicated: dict[str, list[str]] = field(default_factory=dict)  # conversation -> its case numbers (> 1)
    filed_untold: list[str] = field(default_factory=list)  # a case whose citizen never read its number

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated


def check_cases(rows: Iterable[tuple[str, str]], told: dict[str, str], senders: Iterable[str] = ()) -> CaseCheck:
    """``rows``: (conversation_id, case_no) of the cases table; ``told``: conversation -> the
    case number its citizen read; ``senders``: the conversations of the run (for cases filed
    without the citizen reading the number)."""
    by_conversation: dict[str, list[str]] = {}
    count = 0
    for conversation_id, case_no in rows:
        by_conversation.setdefault(conversation_id, []).append(case_no)
        count += 1
    check = CaseCheck(cases=count, told=len(told))
    check.lost = sorted(s for s, n in told.items() if not n or n not in by_conversation.get(s, []))
    check.duplicated = {c: sorted(n) for c, n in by_conversation.items() if len(n) > 1}
    check.filed_untold = sorted(s for s in senders if s in by_conversation and s not in told)
    return check


def case_rows(stack: ProductionStack) -> list[tuple[str, str]]:
    return [(c, n) for c, n in query(stack.database, "SELECT conversation_id, case_no FROM cases ORDER BY id")]

"""The production profile on the real PostgreSQL and Redis, shared by the tests of this folder.

One stack for the session, started by ``scripts/prod.py`` as ``make run-prod`` starts it:
the back office, the action server (2 Sanic workers), the Rasa server ``rasa`` (2 Sanic
workers, REST) and the socket.io Rasa server ``rasa-socketio`` (1 worker, socket.io and
REST), both sharing the PostgreSQL tracker store and the Redis lock store: two replicas, as
behind a load balancer.
Each run gets its own two databases and Redis key prefix, removed afterwards.

The processes reach PostgreSQL and Redis through proxies that are *down* when the stack
starts: the start-up is the test that the profile waits for its database (``Startup``
records what was seen; ``test_startup.py`` asserts it). The action server reaches the back
office through a third proxy that can cut a response after the back office did the work.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Iterator

import pytest

from tests.production.netfault import TcpProxy
from tests.support.stack import (
    TEST_POSTGRES_SERVER,
    TEST_REDIS_SERVER,
    ProductionStack,
    create_database,
    with_port,
)

WAITING_DB = "waiting for PostgreSQL"
WAITING_REDIS = "waiting for Redis"
# Processes that must wait for the stores (the action server needs neither).
WAITERS = ("backoffice", "rasa", "rasa-socketio")
# Per-sender channel limit of this stack: a whole conversation fits, a flood does not; the
# window is long so the rate-limit test never straddles two windows by accident.
CHANNEL_LIMIT = 24
CHANNEL_WINDOW = 3600


@dataclass
class Startup:
    """What the processes did while PostgreSQL, then Redis, could not be reached."""

    waiting_lines: dict[str, dict[str, int]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)  # each log once every process was ready
    alive_while_down: dict[str, bool] = field(default_factory=dict)
    down_seconds: float = 0.0
    ready_seconds: float = 0.0


@dataclass
class Profile:
    stack: ProductionStack
    postgres: TcpProxy
    redis: TcpProxy
    backoffice_link: TcpProxy  # between the action server and the back office
    startup: Startup


def _count(stack: ProductionStack, name: str, text: str) -> int:
    return stack.processes[name].tail(100000).count(text)


def _wait_for_lines(stack: ProductionStack, text: str, times: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_count(stack, name, text) >= times for name in WAITERS):
            return
        for name in WAITERS:
            if stack.processes[name].popen.poll() is not None:
                return  # exited: the test reports it
        time.sleep(0.5)


@pytest.fixture(scope="session")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Profile]:
    suffix = uuid.uuid4().hex[:12]
    database, tracker_database = f"xf_prod_{suffix}", f"xf_prodtr_{suffix}"
    create_database(database)
    create_database(tracker_database)
    postgres = TcpProxy(("127.0.0.1", 5432))
    redis = TcpProxy(("127.0.0.1", 6379))
    stack = ProductionStack(
        name="production",
        workdir=tmp_path_factory.mktemp("production"),
        env={
            "CHANNEL_RATE_LIMIT_MESSAGES": str(CHANNEL_LIMIT),
            "CHANNEL_RATE_LIMIT_WINDOW_SECONDS": str(CHANNEL_WINDOW),
        },
        database=database,
        tracker_database=tracker_database,
        database_url=with_port(f"{TEST_POSTGRES_SERVER}/{database}", postgres.port),
        tracker_db_url=with_port(f"{TEST_POSTGRES_SERVER}/{tracker_database}", postgres.port),
        redis_url=with_port(TEST_REDIS_SERVER, redis.port),
    )
    stack.add_replica("rasa-socketio", workers=1)
    link = TcpProxy(("127.0.0.1", stack.backoffice_port)).up()
    stack.actions_backoffice_url = f"http://127.0.0.1:{link.port}"
    startup = Startup()
    try:
        stack.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        stack.start_backoffice()
        stack.start_actions()
        stack.start_rasa()
        # PostgreSQL down: every waiter retries (at least twice) and stays alive.
        _wait_for_lines(stack, WAITING_DB, 2, timeout=90)
        postgres.up()
        # Then Redis down: they move on to it and wait again.
        _wait_for_lines(stack, WAITING_REDIS, 1, timeout=90)
        startup.down_seconds = time.monotonic() - started
        for name in stack.processes:
            startup.alive_while_down[name] = stack.processes[name].popen.poll() is None
            startup.waiting_lines[name] = {
                WAITING_DB: _count(stack, name, WAITING_DB),
                WAITING_REDIS: _count(stack, name, WAITING_REDIS),
            }
        redis.up()
        stack.wait_ready()
        startup.ready_seconds = time.monotonic() - started
        startup.logs = {name: proc.tail(100000) for name, proc in stack.processes.items()}
        yield Profile(stack, postgres, redis, link, startup)
    finally:
        stack.stop()
        for proxy in (postgres, redis, link):
            proxy.down()
        stack.drop_stores()

"""The database is unreachable at start: the processes wait and retry, then serve.

The session's stack (``conftest.py``) was started with PostgreSQL and Redis down (their
proxies refused connections); PostgreSQL came back first, then Redis. This reads what the
processes wrote meanwhile and checks they serve now.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.production.conftest import WAITERS, WAITING_DB, WAITING_REDIS, Profile
from tests.production.helpers import ReplicaChat

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def test_processes_waited_for_postgresql_and_redis_with_a_clear_log_line(profile: Profile) -> None:
    startup = profile.startup
    assert all(startup.alive_while_down.values()), startup.alive_while_down
    for name in WAITERS:
        seen = startup.waiting_lines[name]
        log = startup.logs[name]
        assert seen[WAITING_DB] >= 2, (name, seen, log[-3000:])
        assert seen[WAITING_REDIS] >= 1, (name, seen, log[-3000:])
        line = next(l for l in log.splitlines() if WAITING_DB in l)
        # what, where, why, and what happens next, on one line
        assert "127.0.0.1:" in line and "not reachable" in line and "retrying in" in line, line
        assert "PostgreSQL" in log and "reachable after" in log, name
    # The action server depends on neither store and was up all along.
    assert startup.alive_while_down["actions"]


def test_after_the_stores_came_back_every_process_serves(profile: Profile) -> None:
    stack = profile.stack
    with urllib.request.urlopen(f"{stack.backoffice_url}/readyz", timeout=10) as resp:
        ready = json.load(resp)
    assert ready["checks"] == {"database": "ok", "redis": "ok"}
    for replica in ("rasa", "rasa-socketio"):
        chat = ReplicaChat(stack, f"after-start-{replica}", replica)
        chat.expect("你好", "智能助手")
    # Both Sanic workers of the two-worker replica loaded the model (Rasa allows more than
    # one worker only with the Redis lock store, so this also shows which lock store is used).
    assert stack.processes["rasa"].log.read_text().count("Rasa server is up and running.") == 2

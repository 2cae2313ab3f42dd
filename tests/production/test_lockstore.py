"""The lock store of the production profile keeps one conversation to one process at a time.

Six processes (as Sanic workers and replicas are) take the lock of one conversation 30 times
each, all starting at the same instant, against the real Redis. Rasa 3.6's own
``RedisLockStore`` fails this on this machine (two holders at once, and waiting processes
ending in ``LockError`` when a lock is deleted under them); ``AtomicRedisLockStore`` must not.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.support.stack import ROOT, TEST_REDIS_SERVER, delete_redis_keys, rasa_python

pytestmark = [pytest.mark.redis]

PROCESSES, TICKETS = 6, 30


def test_atomic_lock_store_never_lets_two_processes_hold_one_conversation() -> None:
    prefix = f"xflockrace{uuid.uuid4().hex[:10]}"
    try:
        result = subprocess.run(
            [str(rasa_python()), "-W", "ignore", str(ROOT / "tests" / "production" / "lockstore_race.py"),
             TEST_REDIS_SERVER, prefix, "atomic", str(PROCESSES), str(TICKETS)],
            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=300,
        )
    finally:
        delete_redis_keys(f"{prefix}:")
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"completed": PROCESSES * TICKETS, "peak_holders": 1, "failed_processes": 0}

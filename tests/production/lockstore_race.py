"""Run in the Rasa environment: several processes take tickets of one conversation at once.

    python lockstore_race.py <redis-url> <key-prefix> <class: atomic|rasa> <processes> <tickets>

Prints a JSON object: every ticket number issued, and the largest number of processes that
believed they held the lock at the same moment.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import time
from urllib.parse import urlsplit


def store(kind: str, url: str, prefix: str):
    from rasa.core.lock_store import RedisLockStore

    from connectors.lockstore import AtomicRedisLockStore

    parts = urlsplit(url)
    cls = AtomicRedisLockStore if kind == "atomic" else RedisLockStore
    return cls(host=parts.hostname, port=parts.port or 6379, db=int(parts.path.strip("/") or 0), key_prefix=prefix)


def worker(kind, url, prefix, count, start, tickets, inside, peak, lock):
    lock_store = store(kind, url, prefix)

    async def run() -> None:
        while time.time() < start:
            await asyncio.sleep(0.001)
        for _ in range(count):
            async with lock_store.lock("race", wait_time_in_seconds=0.01) as _:
                with lock:
                    inside.value += 1
                    peak.value = max(peak.value, inside.value)
                await asyncio.sleep(0.002)
                with lock:
                    inside.value -= 1
            tickets.append(1)

    asyncio.run(run())


def main() -> None:
    url, prefix, kind, processes, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ctx = multiprocessing.get_context("fork")
    manager = ctx.Manager()
    tickets = manager.list()
    inside, peak, lock = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Lock()
    start = time.time() + 1.0
    procs = [
        ctx.Process(target=worker, args=(kind, url, prefix, count, start, tickets, inside, peak, lock))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    failed = sum(1 for p in procs if p.exitcode != 0)
    print(json.dumps({"completed": len(tickets), "peak_holders": peak.value, "failed_processes": failed}))


if __name__ == "__main__":
    main()

"""The load driver: simulated citizens through complete intake conversations on the REST channel.

Each citizen is an asyncio task with its own HTTP connection pool: it starts a conversation
(a new sender id, a scripted petition from ``bench/conversations.py``), sends every turn,
checks every reply, optionally "types" between messages (think time), and starts the next
conversation until the phase's duration is over. Conversations in flight then finish
within a grace period; whatever is still unfinished after it is cancelled and counted as
such (not as an error). All traffic goes to 127.0.0.1.

A message is an error when the HTTP status is not 200 (the rate-limited channel answers 413,
429 or 503 instead), the request fails or times out, the reply is empty, or the reply lacks
what the script expects (the conversation went elsewhere). A conversation stops at its
first error.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from bench.conversations import CASE_MARK, conversation
from tests.production.helpers import case_no_in

TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class PhaseResult:
    name: str
    citizens: int
    think: tuple[float, float]
    duration: float = 0.0  # seconds from the first message to the last reply
    window: float = 0.0  # the phase's set duration: throughput counts replies within it
    window_replies: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    conversations: int = 0
    completed: dict[str, str] = field(default_factory=dict)  # sender -> case number told
    unfinished: int = 0
    senders: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        """Replies per second while every citizen was active (the set duration)."""
        return self.window_replies / self.window if self.window else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]


async def _citizen(
    index: int,
    url: str,
    run_id: str,
    result: PhaseResult,
    until: float,
    rng: random.Random,
    headers: dict[str, str] | None = None,
) -> None:
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector, headers=headers) as session:
        number = 0
        while time.monotonic() < until:
            number += 1
            sender = f"rest-bench-{run_id}-{index}-{number}"  # REST senders are namespaced
            _, turns = conversation(rng)
            result.conversations += 1
            result.senders.append(sender)
            for turn in turns:
                started = time.perf_counter()
                kind = None
                try:
                    async with session.post(url, json={"sender": sender, "message": turn.message}) as resp:
                        body = await resp.json(content_type=None)
                        status = resp.status
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                    kind, body, status = f"request:{type(exc).__name__}", None, 0
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                if time.monotonic() <= until:
                    result.window_replies += 1
                if kind is None and status != 200:
                    kind = f"http_{status}"
                reply = "\n".join(m.get("text", "") for m in body or []) if isinstance(body, list) else ""
                if kind is None and not reply:
                    kind = "empty_reply"
                if kind is None and turn.missing(reply):
                    kind = "unexpected_reply"
                if kind is not None:
                    result.errors[kind] += 1
                    if len(result.error_examples) < 5:
                        result.error_examples.append(f"{kind} after {turn.message[:12]!r}: {reply[:80]!r}")
                    break
                if CASE_MARK in turn.expect:
                    result.completed[sender] = case_no_in(reply) or ""
                think = rng.uniform(*result.think) if result.think[1] > 0 else 0.0
                if think:
                    await asyncio.sleep(think)


async def run_phase(
    name: str,
    url: str,
    citizens: int,
    duration: float,
    think: tuple[float, float],
    run_id: str,
    grace: float = 90.0,
    seed: int = 7,
    headers: dict[str, str] | None = None,
) -> PhaseResult:
    """Play ``citizens`` concurrent citizens for ``duration`` seconds (plus ``grace``)."""
    result = PhaseResult(name, citizens, think, window=duration)
    started = time.monotonic()
    until = started + duration
    tasks = [
        asyncio.create_task(_citizen(i, url, run_id, result, until, random.Random(seed * 1000 + i), headers))
        for i in range(citizens)
    ]
    done, pending = await asyncio.wait(tasks, timeout=duration + grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            result.errors[f"driver:{type(task.exception()).__name__}"] += 1
    result.unfinished = len(pending)
    result.duration = time.monotonic() - started
    return result

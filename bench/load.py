"""The load driver: simulated citizens through complete intake conversations on the REST channel.

Each citizen is an asyncio task with its own HTTP connections (``CONNECTIONS``): it starts a
conversation (a new sender id, a scripted petition from ``bench/conversations.py``), sends
every turn, checks every reply, optionally "types" between messages (think time; typing
citizens also begin at a random moment within the first pause), and starts the next
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
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional

import aiohttp

from bench.conversations import CASE_MARK, Citizen, Turn, conversation
from tests.production.helpers import case_no_in

TIMEOUT = aiohttp.ClientTimeout(total=60)

# How a citizen's messages reach Rasa.
# - "per-conversation" (the default): each conversation on a keep-alive connection of its own,
#   as a client holds one while its citizen chats; the next conversation (another citizen)
#   opens a new one. Rasa's Sanic workers accept from one shared socket, so a new connection
#   goes to the worker that is free first, and the load spreads as conversations come and go.
# - "keep-alive": one connection per simulated citizen for the whole phase, pinned to the
#   worker that accepted it when the phase started (how the 20 connections of the first
#   moment split between the workers then decides the whole phase).
# - "per-message": each message on a connection of its own, as deploy/nginx.conf passes
#   requests on (its upstream has no ``keepalive``): a conversation's messages go to either
#   worker.
CONNECTIONS = ("per-conversation", "keep-alive", "per-message")


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
    # latencies by the step of the conversation, named by the first fragment its reply must hold
    by_step: dict[str, list[float]] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        """Replies per second while every citizen was active (the set duration)."""
        return self.window_replies / self.window if self.window else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def slowest_steps(self, count: int = 5) -> list[tuple[str, int, float, float]]:
        """The steps with the highest p95: (step, messages, p50, p95)."""
        rows = [(step, len(values), percentile(values, 50), percentile(values, 95))
                for step, values in self.by_step.items()]
        return sorted(rows, key=lambda row: row[3], reverse=True)[:count]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0-100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(round(q / 100 * len(ordered), 9)) - 1))
    return ordered[index]


async def _citizen(
    index: int,
    url: str,
    run_id: str,
    result: PhaseResult,
    until: float,
    rng: random.Random,
    headers: dict[str, str] | None = None,
    connections: str = CONNECTIONS[0],
) -> None:
    def new_session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=1, force_close=connections == "per-message")
        return aiohttp.ClientSession(timeout=TIMEOUT, connector=connector, headers=headers)

    session = new_session()
    try:
        if result.think[1] > 0:
            # Typing citizens arrive at moments of their own, as people do; started together,
            # the 20 first messages would reach Rasa in the same millisecond at every phase start.
            await asyncio.sleep(rng.uniform(0.0, result.think[1]))
        number = 0
        while time.monotonic() < until:
            number += 1
            if number > 1 and connections == "per-conversation":
                await session.close()
                session = new_session()
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
                elapsed = (time.perf_counter() - started) * 1000
                result.latencies_ms.append(elapsed)
                result.by_step.setdefault(turn.expect[0] if turn.expect else "", []).append(elapsed)
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
    finally:
        await session.close()


async def _collect(result: PhaseResult, tasks: list[asyncio.Task], timeout: float, started: float) -> PhaseResult:
    """Wait for the citizens up to ``timeout``, cancel the rest; count driver errors and the unfinished."""
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            result.errors[f"driver:{type(task.exception()).__name__}"] += 1
    result.unfinished = len(pending)
    result.duration = time.monotonic() - started
    return result


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
    connections: str = CONNECTIONS[0],
) -> PhaseResult:
    """Play ``citizens`` concurrent citizens for ``duration`` seconds (plus ``grace``), their
    messages sent as ``connections`` says (``CONNECTIONS``)."""
    if connections not in CONNECTIONS:
        raise ValueError(f"connections: one of {CONNECTIONS}")
    result = PhaseResult(name, citizens, think, window=duration)
    started = time.monotonic()
    until = started + duration
    tasks = [
        # Each phase its own citizens: the same person with the same matter again would be a
        # repeat petition, added to the first case (bot/store/repeats.py), not a new one.
        asyncio.create_task(_citizen(i, url, run_id, result, until, random.Random(f"{seed}:{name}:{i}"), headers,
                                     connections))
        for i in range(citizens)
    ]
    return await _collect(result, tasks, duration + grace, started)


# --- citizens who send a failed message again: a Rasa replica dies under load ----------------
# (``bench/scale.py`` and ``tests/production/test_scale_out.py``: two replicas behind nginx,
# one of them killed while the citizens talk.)
#
# What a client sees when the replica holding its request dies: nginx answers 502 (the request
# had been sent, so nginx does not pass a POST on to another replica), or the connection
# breaks. The client sends the same message again after a pause (1 s, doubling up to 8 s) until
# it is answered; nginx passes it to the surviving replica (the dead one refuses connections
# and is skipped). The first answer can take up to Rasa's lock lifetime (TICKET_LOCK_LIFETIME,
# 60 s): the dead process still holds the conversation's ticket in the Redis lock store, and
# the survivor waits for it to expire. A 503 (the channel's "please send it again" answer) and
# a 504 are retried the same way.
#
# Before sending a message again the driver looks at the conversation in the tracker store
# (``recover``): when the dead process had processed and saved the message but died before its
# answer left, the saved answer is taken instead of sending the message twice (a client that
# cannot look would send it twice, and the assistant would answer the repeated message).

FAILOVER_TIMEOUT = aiohttp.ClientTimeout(total=150)  # longer than nginx's wait for Rasa
RETRY_STATUSES = (502, 503, 504)
RETRY_PAUSES = (1.0, 2.0, 4.0, 8.0)

# (sender, message, messages of the conversation answered so far) -> the replies stored for
# that message when it was processed without its answer reaching the client, else None.
Recover = Callable[[str, str, int], Awaitable[Optional[list[dict[str, Any]]]]]
# Awaited before each message is sent (e.g. to hold some messages back for a moment).
Gate = Callable[[str, Turn], Awaitable[None]]


@dataclass
class Retried:
    """A message that needed more than one attempt, as its client saw it."""

    sender: str
    message: str
    started: float  # time.monotonic() of the first attempt
    attempts: list[str]  # what each failed attempt got: http_502, request:ServerDisconnectedError, ...
    waited_ms: float  # from the first attempt to the accepted answer
    recovered: bool = False  # the answer was read back from the tracker store, not sent again
    answered: bool = True


@dataclass
class FailoverResult(PhaseResult):
    sent_at: list[float] = field(default_factory=list)  # time.monotonic() of each message's first attempt
    failed_attempts: Counter = field(default_factory=Counter)  # attempts that were retried, by kind
    retried: list[Retried] = field(default_factory=list)
    transcripts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # sender -> (message, reply)
    people: dict[str, Citizen] = field(default_factory=dict)  # sender -> whose petition it is
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)  # sender -> first sent, last answered

    def latencies_between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in zip(self.sent_at, self.latencies_ms) if start <= at < end]


def tracker_recovery(bases: Callable[[], list[str]], token: str) -> Recover:
    """``Recover`` reading the conversation from the first Rasa server of ``bases()`` (its HTTP
    API, with ``token``) that answers: the message was processed when the tracker holds one
    more user message than the client had answers, and it is this message."""

    async def recover(sender: str, message: str, answered: int) -> Optional[list[dict[str, Any]]]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            for base in bases():
                try:
                    async with session.get(f"{base}/conversations/{sender}/tracker",
                                           params={"token": token}) as resp:
                        if resp.status != 200:
                            continue
                        tracker = await resp.json()
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    continue
                return stored_answer(tracker.get("events") or [], message, answered)
        return None

    return recover


def stored_answer(events: list[dict[str, Any]], message: str, answered: int) -> Optional[list[dict[str, Any]]]:
    """The bot's replies to the ``answered + 1``-th user message when it is ``message``."""
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) != answered + 1 or events[users[-1]].get("text") != message:
        return None
    return [
        {"text": e.get("text") or "", **({"buttons": e["data"]["buttons"]} if (e.get("data") or {}).get("buttons") else {})}
        for e in events[users[-1] + 1:]
        if e.get("event") == "bot"
    ]


async def send_until_answered(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    message: str,
    result: FailoverResult,
    *,
    answered: int,
    recover: Optional[Recover] = None,
    max_wait: float = 240.0,
) -> tuple[int, Any, str]:
    """Send ``message`` until it is answered (see above): status, body and the kind of error of
    the last attempt ("" when answered), recorded in ``result``."""
    started_at, started = time.monotonic(), time.perf_counter()
    failures: list[str] = []
    recovered = False
    while True:
        kind, body, status = "", None, 0
        try:
            async with session.post(url, json={"sender": sender, "message": message}) as resp:
                status = resp.status
                raw = await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            kind = f"request:{type(exc).__name__}"
        if not kind and status != 200:
            kind = f"http_{status}"  # nginx's own error pages are HTML
        if not kind:
            try:
                body = json.loads(raw)
            except ValueError:
                kind = "invalid_json"
        if not kind or not (kind.startswith("request:") or status in RETRY_STATUSES):
            break
        failures.append(kind)
        result.failed_attempts[kind] += 1
        if recover is not None:
            stored = await recover(sender, message, answered)
            if stored is not None:
                kind, body, status, recovered = "", stored, 200, True
                break
        if time.perf_counter() - started > max_wait:
            break
        await asyncio.sleep(RETRY_PAUSES[min(len(failures), len(RETRY_PAUSES)) - 1])
    waited = (time.perf_counter() - started) * 1000
    result.sent_at.append(started_at)
    result.latencies_ms.append(waited)
    if failures:
        result.retried.append(Retried(sender, message, started_at, failures, waited, recovered, not kind))
    return status, body, kind


async def play(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    turns: list[Turn],
    result: FailoverResult,
    *,
    until: float = float("inf"),
    think: tuple[float, float] = (0.0, 0.0),
    rng: Optional[random.Random] = None,
    recover: Optional[Recover] = None,
    gate: Optional[Gate] = None,
) -> Optional[str]:
    """One conversation, every failed message sent again; the case number told (or None).
    The conversation stops at a reply that is not what the script expects (an error)."""
    rng = rng or random.Random()
    result.conversations += 1
    result.senders.append(sender)
    transcript = result.transcripts.setdefault(sender, [])
    for answered, turn in enumerate(turns):
        if gate is not None:
            await gate(sender, turn)
        first = result.spans.get(sender, (time.monotonic(), 0.0))[0]
        status, body, kind = await send_until_answered(
            session, url, sender, turn.message, result, answered=answered, recover=recover
        )
        result.spans[sender] = (first, time.monotonic())
        if time.monotonic() <= until:
            result.window_replies += 1
        reply = "\n".join(m.get("text", "") for m in body or []) if isinstance(body, list) else ""
        transcript.append((turn.message, reply if not kind else f"<{kind}> {reply}"))
        if not kind and not reply:
            kind = "empty_reply"
        if not kind and turn.missing(reply):
            kind = "unexpected_reply"
        if kind:
            result.errors[kind] += 1
            if len(result.error_examples) < 5:
                result.error_examples.append(f"{kind} after {turn.message[:12]!r}: {reply[:80]!r}")
            return None
        if CASE_MARK in turn.expect:
            result.completed[sender] = case_no_in(reply) or ""
        pause = rng.uniform(*think) if think[1] > 0 else 0.0
        if pause:
            await asyncio.sleep(pause)
    return result.completed.get(sender)


def citizen_connector(index: int) -> aiohttp.TCPConnector:
    """One connection per citizen, from an address of its own (127.0.0.2, 127.0.0.3, ...):
    per-IP limits and ip_hash in front see distinct citizens, as from the internet."""
    return aiohttp.TCPConnector(limit=1, local_addr=(f"127.0.{index // 250}.{2 + index % 250}", 0))


async def run_failover_phase(
    name: str,
    url: str,
    citizens: int,
    duration: float,
    think: tuple[float, float],
    run_id: str,
    *,
    headers: Optional[dict[str, str]] = None,
    recover: Optional[Recover] = None,
    gate: Optional[Gate] = None,
    grace: float = 240.0,
    seed: int = 7,
    result: Optional[FailoverResult] = None,
    keep_going: Optional[Callable[[], bool]] = None,
) -> FailoverResult:
    """``citizens`` concurrent citizens starting conversations for ``duration`` seconds (and
    for as long as ``keep_going()`` says so), every failed message sent again until answered;
    conversations in flight then get ``grace``. ``result`` (optional) is filled as the phase
    goes, for whoever watches it meanwhile."""
    result = result or FailoverResult(name, citizens, think, window=duration)
    started = time.monotonic()
    until = started + duration

    def going() -> bool:
        return time.monotonic() < until or (keep_going is not None and keep_going())

    async def citizen(index: int) -> None:
        rng = random.Random(f"{seed}:{name}:{index}")  # each phase its own citizens
        async with aiohttp.ClientSession(
            timeout=FAILOVER_TIMEOUT, connector=citizen_connector(index), headers=headers
        ) as session:
            number = 0
            while going():
                number += 1
                person, turns = conversation(rng)
                sender = f"rest-scale-{run_id}-{index}-{number}"
                result.people[sender] = person
                await play(session, url, sender, turns, result,
                           until=until, think=think, rng=rng, recover=recover, gate=gate)

    tasks = [asyncio.create_task(citizen(i)) for i in range(citizens)]
    while going() and not all(task.done() for task in tasks):
        await asyncio.sleep(0.2)
    return await _collect(result, tasks, grace, started)  # grace: from when no conversation may start

"""Fixed-window rate limiting with interchangeable backends.

A ``Limit`` allows ``max_hits`` within windows of ``window_seconds`` aligned to the epoch.
``RateLimiter.hit()`` counts one more attempt atomically and returns the count and the time
until the window ends (over ``max_hits`` means refused); ``release()`` gives an attempt back.
The status lookup counts every attempt up front and releases the successful ones, so only
failed lookups use up the window, and parallel guesses cannot slip past the limit.

``MemoryBackend`` serves one process (development, tests); ``RedisBackend`` is shared by all
back office processes. Keys are hashed, so requester identities never appear in Redis.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


@dataclass(frozen=True)
class WindowState:
    count: int
    reset_in: float  # seconds until the current window ends


class RateLimitBackend(Protocol):
    async def increment(self, key: str, ttl_seconds: int) -> int:
        """Add one to ``key`` (created with ``ttl_seconds`` to live) and return the count."""

    async def decrement(self, key: str) -> None:
        """Subtract one from ``key`` if it exists and is positive."""

    async def get(self, key: str) -> int:
        """The current count of ``key`` (0 when absent or expired)."""

    async def close(self) -> None: ...


class MemoryBackend:
    """Counters in a dict; expired windows are pruned as new ones are written."""

    def __init__(self, clock: Clock = time.time):
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires_at)
        self._next_prune = 0.0

    def _prune(self, now: float) -> None:
        if now < self._next_prune:
            return
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._next_prune = now + 60

    async def increment(self, key: str, ttl_seconds: int) -> int:
        now = self._clock()
        self._prune(now)
        count, expires_at = self._counts.get(key, (0, now + ttl_seconds))
        if expires_at <= now:
            count, expires_at = 0, now + ttl_seconds
        self._counts[key] = (count + 1, expires_at)
        return count + 1

    async def decrement(self, key: str) -> None:
        count, expires_at = self._counts.get(key, (0, 0.0))
        if count > 0 and expires_at > self._clock():
            self._counts[key] = (count - 1, expires_at)

    async def get(self, key: str) -> int:
        count, expires_at = self._counts.get(key, (0, 0.0))
        return count if expires_at > self._clock() else 0

    async def close(self) -> None:
        self._counts.clear()


# DECR that never creates a key (an expired one would come back without a TTL) nor goes < 0.
_DECREMENT_SCRIPT = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisBackend:
    """Counters in Redis (``INCR`` + ``EXPIRE`` in one transaction)."""

    def __init__(self, client, prefix: str = "backoffice:rl:"):  # client: redis.asyncio.Redis
        self._client = client
        self._prefix = prefix

    async def increment(self, key: str, ttl_seconds: int) -> int:
        name = self._prefix + key
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, ttl_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def decrement(self, key: str) -> None:
        await self._client.eval(_DECREMENT_SCRIPT, 1, self._prefix + key)

    async def get(self, key: str) -> int:
        value = await self._client.get(self._prefix + key)
        return int(value) if value is not None else 0

    async def close(self) -> None:
        """The client belongs to the application; it is closed where it was opened."""


class RateLimiter:
    def __init__(self, backend: RateLimitBackend, clock: Clock = time.time):
        self.backend = backend
        self._clock = clock

    def _window(self, limit: Limit, key: str) -> tuple[str, float, int]:
        now = self._clock()
        index = int(now // limit.window_seconds)
        reset_in = (index + 1) * limit.window_seconds - now
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        # The key outlives its window by a little so a slow clock never resets it early.
        ttl = math.ceil(reset_in) + 1
        return f"{limit.name}:{digest}:{index}", reset_in, ttl

    async def hit(self, limit: Limit, key: str) -> WindowState:
        name, reset_in, ttl = self._window(limit, key)
        count = await self.backend.increment(name, ttl)
        return WindowState(count=count, reset_in=reset_in)

    async def state(self, limit: Limit, key: str) -> WindowState:
        name, reset_in, _ = self._window(limit, key)
        return WindowState(count=await self.backend.get(name), reset_in=reset_in)

    async def release(self, limit: Limit, key: str) -> None:
        """Give back one attempt counted by ``hit`` in the current window."""
        name, _, _ = self._window(limit, key)
        await self.backend.decrement(name)

"""The fixed-window limiter, with the memory backend and the real Redis backend."""

from __future__ import annotations

import uuid

import pytest

from bot.store.ratelimit import Limit, MemoryBackend, RateLimiter, RedisBackend
from tests.conftest import TEST_REDIS_URL


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


LIMIT = Limit("probe", max_hits=3, window_seconds=60)


async def _redis_backend():
    from redis.asyncio import Redis

    client = Redis.from_url(TEST_REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex}:"
    try:
        yield RedisBackend(client, prefix=prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def redis_backend():
    async for backend in _redis_backend():
        yield backend


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request):
    clock = Clock(1_200_020.0)  # 20 s into a 60 s window
    if request.param == "memory":
        yield RateLimiter(MemoryBackend(clock=clock), clock=clock), clock
        return
    async for backend in _redis_backend():
        yield RateLimiter(backend, clock=clock), clock


async def test_counts_within_a_window_and_resets_in_the_next(limiter):
    rl, clock = limiter
    counts = [(await rl.hit(LIMIT, "k")).count for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    state = await rl.state(LIMIT, "k")
    assert state.count == 4
    assert state.reset_in == pytest.approx(40.0)
    # Other keys and other limits are independent.
    assert (await rl.hit(LIMIT, "other")).count == 1
    assert (await rl.hit(Limit("else", 3, 60), "k")).count == 1
    clock.now += 40  # next window
    assert (await rl.state(LIMIT, "k")).count == 0
    assert (await rl.hit(LIMIT, "k")).count == 1


async def test_release_gives_an_attempt_back_but_never_below_zero(limiter):
    rl, _ = limiter
    await rl.hit(LIMIT, "k")
    await rl.hit(LIMIT, "k")
    await rl.release(LIMIT, "k")
    assert (await rl.state(LIMIT, "k")).count == 1
    await rl.release(LIMIT, "k")
    await rl.release(LIMIT, "k")
    assert (await rl.state(LIMIT, "k")).count == 0
    await rl.release(LIMIT, "never-hit")
    assert (await rl.state(LIMIT, "never-hit")).count == 0


@pytest.mark.redis
async def test_redis_keys_expire_and_do_not_contain_the_requester(redis_backend):
    rl = RateLimiter(redis_backend)
    await rl.hit(LIMIT, "sender:wx-openid-123")
    client = redis_backend._client
    keys = [key async for key in client.scan_iter(match=f"{redis_backend._prefix}*")]
    assert len(keys) == 1
    assert b"wx-openid-123" not in keys[0]
    ttl = await client.ttl(keys[0])
    assert 0 < ttl <= 61

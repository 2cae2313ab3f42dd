"""Typed application keys shared by the web modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.ratelimit import Limit, RateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.rules.roles import Principal


@dataclass(frozen=True)
class StatusLimits:
    """Failed status lookups allowed per case number and per requester."""

    per_case: Limit
    per_requester: Limit


Authenticator = Callable[[web.Request], Awaitable[Optional["Principal"]]]

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
CRYPTO = web.AppKey("crypto", Crypto)
LIMITER = web.AppKey("limiter", RateLimiter)
REDIS = web.AppKey("redis", Optional["Redis"])
CLOCK = web.AppKey("clock", Callable[[], datetime])
STATUS_LIMITS = web.AppKey("status_limits", StatusLimits)
# Ways to identify the caller, tried in order; the staff console adds its session here.
AUTHENTICATORS = web.AppKey("authenticators", list[Authenticator])

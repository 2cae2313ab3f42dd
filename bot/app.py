"""The back office aiohttp application: ``init_app(settings)`` builds it and mounts the JSON
API (``bot.api``), the staff console (``bot.console``) and the citizen pages
(``bot.citizen``) on the shared web plumbing (``bot.web``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from bot.api import setup_api
from bot.citizen import setup_citizen_routes
from bot.console import setup_console
from bot.rules.deadlines import local_date, log_calendar_coverage
from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.db import make_engine, make_sessionmaker, ping
from bot.store.models import utcnow
from bot.store.ratelimit import Limit, MemoryBackend, RateLimiter, RedisBackend
from bot.web.accesslog import AccessLogger
from bot.web.auth import service_token_authenticator
from bot.web.errors import ApiError, body_size_middleware, error_middleware, json_response
from bot.web.vendor import setup_vendor_routes
from bot.web.keys import (
    AUTHENTICATORS,
    CLOCK,
    CRYPTO,
    ENGINE,
    LIMITER,
    REDIS,
    SESSIONMAKER,
    SETTINGS,
    STATUS_LIMITS,
    StatusLimits,
)

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 3.0
# Options of the runner serving the app (``web.run_app``, test servers): an access log that
# leaves out query strings, so query codes never reach a log file.
RUNNER_OPTIONS = {"access_log_class": AccessLogger}


# --- resources (opened at start-up, closed at shutdown) -------------------------------------


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    app[ENGINE] = engine
    app[SESSIONMAKER] = make_sessionmaker(engine)
    try:
        yield
    finally:
        await engine.dispose()


async def rate_limit_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = None
    if settings.rate_limit_backend == "redis":
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
        backend = RedisBackend(client, prefix=f"{settings.redis_key_prefix}rl:")
    else:
        backend = MemoryBackend()
    app[REDIS] = client
    app[LIMITER] = RateLimiter(backend)
    try:
        yield
    finally:
        await backend.close()
        if client is not None:
            await client.aclose()


async def check_holiday_calendar(app: web.Application) -> None:
    """Warn at start-up when the official holiday calendar does not cover the coming 90 days
    (working days and review windows there would be counted Monday-Friday)."""
    log_calendar_coverage(log, local_date(app[CLOCK]()))


# --- health ------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """The process is up (no dependency checked)."""
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready to serve: the database (and Redis, when used) answer."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(ping(request.app[ENGINE]), READY_TIMEOUT_SECONDS)
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: database not reachable (%s)", type(exc).__name__)
        checks["database"] = "unreachable"
    client = request.app[REDIS]
    if client is not None:
        try:
            await asyncio.wait_for(client.ping(), READY_TIMEOUT_SECONDS)
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("readiness: redis not reachable (%s)", type(exc).__name__)
            checks["redis"] = "unreachable"
    if all(value == "ok" for value in checks.values()):
        return json_response({"status": "ready", "checks": checks})
    raise ApiError(503, "not_ready", checks=checks)


# --- assembly ----------------------------------------------------------------------------------


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_api(app)  # every /api/v1 route (bot/api)
    setup_vendor_routes(app)
    setup_console(app)  # staff console pages and their resources (bot/console)
    setup_citizen_routes(app)  # citizen chat page at / and /privacy (bot/citizen.py)


def setup_middlewares(app: web.Application, settings: Settings) -> None:
    app.middlewares.append(error_middleware)
    app.middlewares.append(body_size_middleware(settings.max_body_bytes))


async def init_app(
    settings: Settings, *, clock: Callable[[], datetime] | None = None
) -> web.Application:
    """Build the application; refuses production with development secrets."""
    settings.check_production()
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[CLOCK] = clock or utcnow
    app[CRYPTO] = Crypto(settings.encryption_keys, settings.hmac_key)
    app[AUTHENTICATORS] = [service_token_authenticator]
    window = settings.status_window_seconds
    app[STATUS_LIMITS] = StatusLimits(
        per_case=Limit("status-case", settings.status_max_failures_per_case, window),
        per_requester=Limit("status-requester", settings.status_max_failures_per_requester, window),
    )
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(rate_limit_ctx)
    app.on_startup.append(check_holiday_calendar)
    setup_middlewares(app, settings)
    setup_routes(app)
    return app

"""Async engine and session factory. The caller owns the session (one per request or task)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

# How long a SQLite writer waits for another one to finish (seconds).
SQLITE_BUSY_TIMEOUT = 30


def ensure_sqlite_dir(url: str) -> None:
    """Create the directory of a SQLite database file (``var/`` on a fresh checkout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, *, schema: str = "", echo: bool = False) -> AsyncEngine:
    """An async engine for ``url``; ``schema`` sets the PostgreSQL ``search_path``."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # hide_parameters: statement parameters (names, addresses, facts) never reach logs or
    # exception messages.
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True, "hide_parameters": True}
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        ensure_sqlite_dir(url)
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT
    elif backend == "postgresql" and schema:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def ensure_schema(connection: Connection, schema: str) -> None:
    """Create the PostgreSQL schema named by DATABASE_SCHEMA if missing (sync; run_sync)."""
    if schema and connection.dialect.name == "postgresql":
        quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise when the database cannot run a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def wait_for_database(
    engine: AsyncEngine,
    *,
    first_delay: float = 1.0,
    max_delay: float = 10.0,
    attempts: int | None = None,
) -> None:
    """Retry until the database answers (forever unless ``attempts`` is given)."""
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            await ping(engine)
        except Exception as exc:  # any driver error means "not yet"
            if attempts is not None and attempt >= attempts:
                raise
            log.warning(
                "database not reachable at %s (%s), retrying in %gs",
                engine.url.render_as_string(hide_password=True),
                type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
        else:
            if attempt > 1:
                log.info("database reachable after %d attempts", attempt)
            return

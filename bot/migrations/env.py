"""Alembic environment of the case store (async engines, programmatic or CLI use).

``bot.store.migrate`` passes an open connection in ``config.attributes["connection"]``; the
Alembic command line gets its database from ``DATABASE_URL``/``DATABASE_SCHEMA`` (bot.settings).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from bot.settings import load_settings
from bot.store.db import ensure_schema, make_engine
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(**kwargs) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, **kwargs)


def do_run_migrations(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode recreates tables when needed.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) instead of running it."""
    _configure(
        url=load_settings().database_url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(ensure_schema, settings.database_schema)
            await connection.commit()
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

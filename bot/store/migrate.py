"""Run the Alembic migrations of the case store from code (``python -m bot migrate``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import normalize_database_url
from bot.store.db import ensure_schema, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The application configures logging itself; env.py must not replace it.
    config.attributes["configure_logger"] = False
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head", *, schema: str = "") -> None:
    """Upgrade the database behind ``engine`` (creating the PostgreSQL schema if named)."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        ensure_schema(connection, schema)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade_engine(engine: AsyncEngine, revision: str) -> None:
    """Downgrade the database behind ``engine`` to ``revision`` ("base": drop everything)."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def upgrade_async(url: str, revision: str = "head", *, schema: str = "") -> None:
    engine = make_engine(normalize_database_url(url), schema=schema)
    try:
        await upgrade_engine(engine, revision, schema=schema)
    finally:
        await engine.dispose()


def upgrade(url: str, revision: str = "head", *, schema: str = "") -> None:
    """Upgrade ``url`` to ``revision`` (SQLite: the file and its directory are created)."""
    asyncio.run(upgrade_async(url, revision, schema=schema))

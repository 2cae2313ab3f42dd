"""Shared fixtures: a migrated case database (SQLite file and real PostgreSQL), settings, and
an aiohttp test client of the back office.

Every test using ``database`` runs twice: against a temporary SQLite file and against the
PostgreSQL server on 127.0.0.1:5432 (marked ``postgres``; deselect with ``-m "not postgres"``).
Each PostgreSQL test gets its own freshly created schema, built by the Alembic migration and
dropped afterwards, so parallel runs and other users of the database are unaffected.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from bot.settings import Settings, load_settings
from bot.store.db import make_engine
from bot.store.migrate import upgrade_async

TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Every Rasa process the tests start compares each tracker it kept in memory with the one
# stored (connectors/tracker_store.py) and logs an error on a difference; the stacks fail a
# test that leaves such an error in a log (tests/support/stack.py).
os.environ.setdefault("TRACKER_CACHE_CHECK", "1")


@dataclass(frozen=True)
class Database:
    backend: str  # "sqlite" or "postgresql"
    url: str
    schema: str = ""


async def _drop_schema(url: str, schema: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request, tmp_path) -> AsyncIterator[Database]:
    """An empty case database at the newest migration."""
    if request.param == "sqlite":
        db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'backoffice.db'}")
        await upgrade_async(db.url)
        yield db
        return
    db = Database("postgresql", TEST_POSTGRES_URL, f"test_{uuid.uuid4().hex[:16]}")
    try:
        await upgrade_async(db.url, schema=db.schema)
        yield db
    finally:
        await _drop_schema(db.url, db.schema)


@pytest.fixture
async def raw_engine(database: Database):
    """An engine on the test database, to look at the stored rows directly."""
    engine = make_engine(database.url, schema=database.schema)
    yield engine
    await engine.dispose()


class FakeClock:
    """The application's clock; a test may move it (``clock.now = ...``)."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


SERVICE_TOKEN = "test-service-token"


@pytest.fixture(autouse=True)
def new_citizens() -> None:
    """Each test's first ``case_body()`` is the documented citizen again (tests/api/helpers.py)."""
    from tests.api.helpers import CITIZENS

    CITIZENS.reset()


@pytest.fixture(autouse=True)
def process_configuration() -> Iterator[None]:
    """Every test starts and ends with this process's configuration as at its start: the rule
    files in use, and the action server's and channels' settings read again on next use (from
    the environment the test sets)."""
    from bot.rules import deadlines, jurisdiction
    from bot.settings.actions import set_action_settings
    from bot.settings.channels import set_channel_settings

    files = jurisdiction.jurisdiction_file(), deadlines.holidays_file()
    set_action_settings(None)
    set_channel_settings(None)
    yield
    jurisdiction.use_file(files[0])
    deadlines.use_holidays_file(files[1])
    set_action_settings(None)
    set_channel_settings(None)


@pytest.fixture
def make_settings(database: Database) -> Callable[..., Settings]:
    """Settings for the test database; keyword arguments override environment variables."""

    def make(**env: str) -> Settings:
        base = {
            "DATABASE_URL": database.url,
            "DATABASE_SCHEMA": database.schema,
            "BACKOFFICE_SERVICE_TOKEN": SERVICE_TOKEN,
            "REDIS_URL": TEST_REDIS_URL,
            "STATUS_LOOKUP_MAX_FAILURES_PER_CASE": "5",
            "STATUS_LOOKUP_MAX_FAILURES_PER_REQUESTER": "10",
            "STATUS_LOOKUP_WINDOW_SECONDS": "900",
        }
        base.update(env)
        return load_settings(base)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def serve_app(aiohttp_client):
    """A test client of ``app`` served with the production runner options (access log)."""
    from aiohttp.test_utils import TestServer

    from bot.app import RUNNER_OPTIONS

    async def serve(app):
        server = TestServer(app)
        # TestServer ignores runner options given to its constructor; start it ourselves.
        await server.start_server(**RUNNER_OPTIONS)
        return await aiohttp_client(server)

    return serve


@pytest.fixture
def make_client(serve_app, clock):
    """Start the back office with given settings and return a test client."""
    from bot.app import init_app

    async def make(settings: Settings):
        return await serve_app(await init_app(settings, clock=clock))

    return make


@pytest.fixture
async def client(make_client, settings):
    return await make_client(settings)

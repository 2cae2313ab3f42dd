"""The Alembic migration builds exactly the schema the models describe; `python -m bot migrate`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.settings import REPO_ROOT
from bot.store.migrate import current_revision, downgrade_engine, head_revision, upgrade_engine
from bot.store.models import Base
from tests.conftest import TEST_POSTGRES_URL, _drop_schema


async def test_migrated_schema_matches_the_models(raw_engine):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with raw_engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables == {
        "alembic_version",
        "cases",
        "case_sequences",
        "idempotency_keys",
        "case_events",
        "audit_log",
        # staff console (0002)
        "staff_users",
        "staff_sessions",
        "login_attempts",
        "notifications",
        "handoffs",
        "conversation_index",
        "tracker_sync",
        "nlu_annotations",
        # repeat petitions and early warning (0008)
        "case_links",
        "case_materials",
        "ledger_entries",
        "ledger_cases",
        "ledger_steps",
        # leader reception days (0010)
        "reception_days",
        "reception_bookings",
        # citizen evaluation (0009)
        "case_ratings",
    }
    assert await current_revision(raw_engine) == head_revision()


async def test_downgrade_removes_everything_and_upgrade_restores_it(raw_engine, database):
    async def tables() -> set[str]:
        async with raw_engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    await downgrade_engine(raw_engine, "base")
    assert await tables() == {"alembic_version"}
    assert await current_revision(raw_engine) is None
    await upgrade_engine(raw_engine, schema=database.schema)
    assert "cases" in await tables()
    assert await current_revision(raw_engine) == head_revision()


def run_migrate(env: dict[str, str]) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd="/",
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_command_creates_a_sqlite_database_and_its_directory(tmp_path):
    path = tmp_path / "var" / "nested" / "backoffice.db"
    for _ in range(2):  # running it again is harmless
        result = run_migrate({"DATABASE_URL": f"sqlite:///{path}"})
        assert result.returncode == 0, result.stderr
        assert f"is at revision {head_revision()}" in result.stderr
    assert path.exists()


@pytest.mark.postgres
async def test_migrate_command_on_postgresql_schema():
    schema = f"test_{uuid.uuid4().hex[:16]}"
    try:
        result = run_migrate({"DATABASE_URL": TEST_POSTGRES_URL, "DATABASE_SCHEMA": schema})
        assert result.returncode == 0, result.stderr
        assert f"is at revision {head_revision()}" in result.stderr
    finally:
        await _drop_schema(TEST_POSTGRES_URL, schema)

"""/healthz (process up) and /readyz (dependencies reachable)."""

from __future__ import annotations

import json

import pytest

from bot.settings import load_settings


async def test_healthz_and_readyz(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready", "checks": {"database": "ok"}}


@pytest.mark.redis
async def test_readyz_checks_redis_when_used(make_client, make_settings):
    client = await make_client(make_settings(RATE_LIMIT_BACKEND="redis"))
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_reports_an_unreachable_database(make_client):
    # Nothing listens on port 9: the process is up, but not ready.
    settings = load_settings({"DATABASE_URL": "postgresql://postgres@127.0.0.1:9/test"})
    client = await make_client(settings)
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["error"] == "not_ready"
    assert body["checks"] == {"database": "unreachable"}
    assert "Traceback" not in await response.text()


async def test_waiting_for_the_database_logs_a_clear_line(caplog):
    from bot.store.db import make_engine, wait_for_database

    engine = make_engine("postgresql+asyncpg://postgres:pw@127.0.0.1:9/test")
    try:
        with pytest.raises(OSError):
            await wait_for_database(engine, first_delay=0.05, attempts=3)
    finally:
        await engine.dispose()
    lines = [r.getMessage() for r in caplog.records if "not reachable" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith(
        "database not reachable at postgresql+asyncpg://postgres:***@127.0.0.1:9/test"
    )
    assert lines[0].endswith("(ConnectionRefusedError), retrying in 0.05s")
    assert lines[1].endswith("retrying in 0.1s")
    assert "pw@" not in caplog.text


async def test_unexpected_errors_are_json_500_without_details(client, monkeypatch, caplog):
    from bot.store import cases

    async def broken(*args, **kwargs):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(cases, "statistics", broken)
    response = await client.get(
        "/api/v1/stats", headers={"Authorization": "Bearer test-service-token"}
    )
    assert response.status == 500
    text = await response.text()
    assert json.loads(text) == {
        "error": "internal_error",
        "message": "系统暂时无法处理您的请求，请稍后再试。",
    }
    assert "boom" not in text and "Traceback" not in text
    assert "boom" in caplog.text  # the details go to the log

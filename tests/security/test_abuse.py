"""Abuse resistance, performed against the real back office (SQLite and PostgreSQL): parallel
password guessing, a guesser spreading over user names, the password-change form, the
status lookup behind a reverse proxy and a flood of wrong query codes, two officers taking one
conversation, a supervisor's release, the idle return, ``python -m bot serve`` on a public
address, and responses with revealed numbers kept out of caches."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bot.store import users as store_users
from tests.api.helpers import auth, case_body, create_case, fetch_rows
from tests.console.conftest import (  # noqa: F401  (fixtures of the real console app)
    CSRF_RE,
    LONG_SESSIONS,
    PASSWORD,
    add_user,
    anonymous,
    cheap_password_hashes,
    console_settings,
    login,
    now_utc,
    rasa,
    server,
    staff,
    tracker,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def console_env() -> dict[str, str]:
    # The test client connects from 127.0.0.1, which plays the reverse proxy here: each
    # simulated client is an X-Forwarded-For address.
    return {**LONG_SESSIONS, "TRUSTED_PROXIES": "127.0.0.1", "LOGIN_MAX_FAILURES_PER_IP": "8"}


def from_ip(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def login_token(client: TestClient) -> str:
    page = await client.get("/console/login")
    return CSRF_RE.search(await page.text()).group(1)


async def post_login(client: TestClient, token: str, username: str, password: str,
                     address: str = "198.51.100.1"):
    return await client.post("/console/login", data={
        "csrf_token": token, "username": username, "password": password, "next": "/console/",
    }, headers=from_ip(address), allow_redirects=False)


# --- login --------------------------------------------------------------------------------


async def test_twenty_parallel_wrong_logins_check_at_most_five_passwords(
    server, anonymous, raw_engine, monkeypatch
):
    await add_user(server, "wang", "officer")
    verified = []
    real_verify = store_users.verify_password_async

    async def counting_verify(password_hash, password):
        verified.append(password)
        await asyncio.sleep(0.05)  # keep the guesses overlapping
        return await real_verify(password_hash, password)

    monkeypatch.setattr(store_users, "verify_password_async", counting_verify)
    token = await login_token(anonymous)
    # A distributed guesser: twenty addresses at once, so no per-address limit interferes.
    responses = await asyncio.gather(*(
        post_login(anonymous, token, "wang", f"guess-{n}-xxxxxx", f"203.0.113.{n + 1}")
        for n in range(20)
    ))
    statuses = [r.status for r in responses]
    bodies = [await r.text() for r in responses]
    assert len(verified) <= 5, verified
    assert statuses.count(401) + statuses.count(429) == 20, statuses
    assert statuses.count(429) >= 15
    assert all("临时锁定" in b for s, b in zip(statuses, bodies) if s == 429)
    rows = await fetch_rows(raw_engine, "SELECT outcome FROM login_attempts WHERE username = 'wang'")
    assert [r["outcome"] for r in rows] == ["failure"] * 5
    # Locked: the right password is refused without being checked.
    before = len(verified)
    locked = await post_login(anonymous, token, "wang", PASSWORD)
    assert locked.status == 429 and len(verified) == before


async def test_one_address_guessing_many_names_is_stopped(server, anonymous):
    await add_user(server, "li", "officer")
    token = await login_token(anonymous)
    for n in range(8):  # one guess per name: no name reaches its own lock-out
        response = await post_login(anonymous, token, f"name{n}", "guess-xxxxxxx", "203.0.113.50")
        assert response.status == 401
    refused = await post_login(anonymous, token, "li", PASSWORD, "203.0.113.50")
    assert refused.status == 429
    assert "网络地址" in await refused.text()
    assert not [name for name in refused.cookies if "session" in name]
    # Another address (the real officer) is not affected.
    assert (await post_login(anonymous, token, "li", PASSWORD, "198.51.100.77")).status == 303


async def test_the_attempts_table_stays_bounded(server, anonymous, clock, raw_engine):
    start = now_utc()
    clock.now = start
    token = await login_token(anonymous)
    for n in range(3):
        await post_login(anonymous, token, f"old{n}", "guess-xxxxxxx", f"203.0.113.{n + 1}")
    clock.now = start + timedelta(days=1, minutes=1)
    await post_login(anonymous, token, "new", "guess-xxxxxxx", "203.0.113.9")
    rows = await fetch_rows(raw_engine, "SELECT username FROM login_attempts")
    assert [r["username"] for r in rows] == ["new"]


async def test_the_password_change_form_is_throttled(server, staff):
    officer = await staff("officer", "zhao")
    await officer.page("/console/account")
    for n in range(5):
        response = await officer.post("/console/account/password", {
            "current": f"guess-{n}-xxxxxx", "new": "another-good-pass", "again": "another-good-pass"})
        assert response.status == 422
    refused = await officer.post("/console/account/password", {
        "current": PASSWORD, "new": "another-good-pass", "again": "another-good-pass"})
    assert refused.status == 429
    assert "当前密码输入错误次数过多" in await refused.text()
    # Nothing changed: the old password still logs in, the guessed new one does not.
    fresh = TestClient(server)
    await fresh.start_server()
    try:
        token = await login_token(fresh)
        assert (await post_login(fresh, token, "zhao", "another-good-pass")).status == 401
        assert (await post_login(fresh, token, "zhao", PASSWORD)).status == 303
    finally:
        await fresh.close()


# --- status lookup ----------------------------------------------------------------------------


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def lookup(client, case_no: str, code: str, address: str | None = None):
    headers = from_ip(address) if address else None
    return await client.get(f"/api/v1/status/{case_no}", params={"code": code}, headers=headers)


async def test_a_flood_of_wrong_codes_does_not_lock_the_citizen_out(make_client, make_settings):
    client = await make_client(make_settings(TRUSTED_PROXIES="127.0.0.1"))
    created = await create_case(client)
    case_no, code = created["case"]["case_no"], created["query_code"]
    statuses = [(await lookup(client, case_no, wrong(code), "203.0.113.66")).status for _ in range(40)]
    assert statuses[:5] == [404] * 5 and set(statuses[5:]) == {429}
    # The citizen, from their own address, still gets the status of their case.
    answer = await lookup(client, case_no, code, "198.51.100.20")
    assert answer.status == 200 and (await answer.json())["case_no"] == case_no
    # The attacker is still refused, even with the right code.
    assert (await lookup(client, case_no, code, "203.0.113.66")).status == 429


async def test_guessing_spread_over_many_addresses_is_capped_per_case(make_client, make_settings):
    client = await make_client(make_settings(TRUSTED_PROXIES="127.0.0.1",
                                             STATUS_LOOKUP_MAX_FAILURES_PER_CASE_TOTAL="12"))
    created = await create_case(client)
    case_no, code = created["case"]["case_no"], created["query_code"]
    statuses = [(await lookup(client, case_no, wrong(code), f"203.0.113.{n}")).status
                for n in range(1, 16)]
    assert statuses == [404] * 12 + [429] * 3


async def test_forwarded_for_counts_only_from_a_trusted_proxy(make_client, make_settings):
    # Behind the trusted proxy: each client address is its own requester.
    proxied = await make_client(make_settings(TRUSTED_PROXIES="127.0.0.1",
                                              STATUS_LOOKUP_MAX_FAILURES_PER_REQUESTER="3",
                                              STATUS_LOOKUP_MAX_FAILURES_PER_CASE="100"))
    created = await create_case(proxied)
    case_no, code = created["case"]["case_no"], created["query_code"]
    for n in range(3):
        assert (await lookup(proxied, f"XF2020{n:06d}", code, "203.0.113.7")).status == 404
    assert (await lookup(proxied, case_no, code, "203.0.113.7")).status == 429
    # The proxy appends the real address; what the client wrote to the left is not trusted.
    assert (await lookup(proxied, case_no, code, "203.0.113.99, 203.0.113.7")).status == 429
    assert (await lookup(proxied, case_no, code, "203.0.113.8")).status == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_client, make_settings):
    # The peer (127.0.0.1) is not the configured proxy: a new X-Forwarded-For on every guess
    # does not make a new requester.
    direct = await make_client(make_settings(TRUSTED_PROXIES="10.9.9.9",
                                             STATUS_LOOKUP_MAX_FAILURES_PER_REQUESTER="3",
                                             STATUS_LOOKUP_MAX_FAILURES_PER_CASE="100"))
    created = await create_case(direct)
    case_no, code = created["case"]["case_no"], created["query_code"]
    for n in range(3):
        assert (await lookup(direct, f"XF2021{n:06d}", code, f"203.0.113.{n}")).status == 404
    assert (await lookup(direct, case_no, code, "198.51.100.1")).status == 429


# --- responses with revealed numbers ---------------------------------------------------------------


async def test_revealed_numbers_and_query_codes_are_not_cached(server, anonymous, staff):
    response = await anonymous.post("/api/v1/cases", json=case_body(),
                                    headers={**auth(), "Idempotency-Key": "abuse-no-store-1"})
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"  # it carries the query code
    case_no = (await response.json())["case"]["case_no"]
    supervisor = await staff("supervisor")
    revealed = await supervisor.client.get(f"/api/v1/cases/{case_no}?reveal=1")
    assert revealed.status == 200
    body = await revealed.json()
    assert "*" not in body["petitioner"]["id_number"]
    assert revealed.headers["Cache-Control"] == "no-store"
    listed = await supervisor.client.get("/api/v1/cases", params={
        "conversation_id": body["conversation_id"], "reveal": "1"})
    assert listed.status == 200 and listed.headers["Cache-Control"] == "no-store"
    masked = await supervisor.client.get(f"/api/v1/cases/{case_no}")
    assert "*" in (await masked.json())["petitioner"]["id_number"]


# --- handoff -------------------------------------------------------------------------------------


async def request_handoff(client, conversation: str) -> int:
    response = await client.post("/api/v1/handoffs", json={
        "conversation_id": conversation, "channel": "rest", "reason": "我要找人工"}, headers=auth())
    assert response.status == 201
    return (await response.json())["handoff"]["id"]


async def test_two_officers_taking_at_once_one_wins_the_other_is_told(anonymous, staff, rasa, raw_engine):
    handoff_id = await request_handoff(anonymous, "conv-race")
    first, second = await staff("officer"), await staff("officer")
    await first.page(f"/console/handoffs/{handoff_id}")
    await second.page(f"/console/handoffs/{handoff_id}")
    responses = await asyncio.gather(first.post(f"/console/handoffs/{handoff_id}/take"),
                                     second.post(f"/console/handoffs/{handoff_id}/take"))
    statuses = sorted(r.status for r in responses)
    assert statuses == [303, 409]
    loser = next(r for r in responses if r.status == 409)
    winner = first if responses[0].status == 303 else second
    assert "已由" in await loser.text() and "接入" in await loser.text()
    [row] = await fetch_rows(raw_engine, f"SELECT status, taken_by FROM handoffs WHERE id = {handoff_id}")
    assert row["status"] == "active" and row["taken_by"] == winner.username
    pauses = [e for _, _, body in rasa.of("events") for e in body if e.get("event") == "pause"]
    assert len(pauses) == 1


async def test_a_supervisor_releases_a_conversation_another_officer_took(anonymous, staff, rasa, raw_engine):
    handoff_id = await request_handoff(anonymous, "conv-release")
    officer, colleague, supervisor = await staff("officer"), await staff("officer"), await staff("supervisor")
    assert (await officer.post(f"/console/handoffs/{handoff_id}/take")).status == 303
    status, page = await colleague.page(f"/console/handoffs/{handoff_id}")
    assert status == 200 and 'id="handoff-release"' not in page
    refused = await colleague.post(f"/console/handoffs/{handoff_id}/release")
    assert refused.status == 409 and "只有其本人或负责人" in await refused.text()
    status, page = await supervisor.page(f"/console/handoffs/{handoff_id}")
    assert status == 200 and 'id="handoff-release"' in page
    assert (await supervisor.post(f"/console/handoffs/{handoff_id}/release")).status == 303
    [row] = await fetch_rows(raw_engine, f"SELECT status, closed_by FROM handoffs WHERE id = {handoff_id}")
    assert row["status"] == "closed" and row["closed_by"] == supervisor.username
    assert not rasa.paused
    assert any("智能助手将继续为您服务" in t for t in rasa.bot_texts("conv-release"))


async def test_an_idle_taken_conversation_returns_to_the_assistant(anonymous, staff, rasa, clock, raw_engine):
    start = now_utc()
    clock.now = start
    handoff_id = await request_handoff(anonymous, "conv-idle")
    officer = await staff("officer")
    assert (await officer.post(f"/console/handoffs/{handoff_id}/take")).status == 303
    clock.now = start + timedelta(minutes=20)
    await officer.page(f"/console/handoffs/{handoff_id}")
    assert (await officer.post(f"/console/handoffs/{handoff_id}/reply", {"text": "请稍等。"})).status == 303
    # 29 minutes after the last reply: still the officer's.
    clock.now = start + timedelta(minutes=49)
    status, _ = await officer.page("/console/handoffs")
    assert status == 200 and rasa.paused
    [row] = await fetch_rows(raw_engine, f"SELECT status FROM handoffs WHERE id = {handoff_id}")
    assert row["status"] == "active"
    # 31 minutes: back to the assistant, and the citizen is told.
    clock.now = start + timedelta(minutes=51)
    status, page = await officer.page("/console/handoffs")
    assert status == 200
    [row] = await fetch_rows(raw_engine, f"SELECT status, closed_by FROM handoffs WHERE id = {handoff_id}")
    assert row["status"] == "closed" and row["closed_by"] == "system:idle"
    assert not rasa.paused
    assert any("本次人工服务已结束" in t for t in rasa.bot_texts("conv-idle"))
    # Listed again: not returned a second time.
    await officer.page("/console/handoffs")
    idle_texts = [t for t in rasa.bot_texts("conv-idle") if "本次人工服务已结束" in t]
    assert len(idle_texts) == 1
    # The citizen can ask for a person again.
    assert await request_handoff(anonymous, "conv-idle") != handoff_id


async def test_an_idle_conversation_returns_without_anyone_opening_the_console(anonymous, staff, rasa, clock, raw_engine):
    """The back office's background sweep hands it back: the citizen is not left waiting for
    an officer who went quiet just because nobody looked at the handoff list."""
    from bot.console import idle_handoff_sweep

    start = now_utc()
    clock.now = start
    handoff_id = await request_handoff(anonymous, "conv-idle-sweep")
    officer = await staff("officer")
    assert (await officer.post(f"/console/handoffs/{handoff_id}/take")).status == 303
    clock.now = start + timedelta(minutes=31)
    sweep = asyncio.create_task(idle_handoff_sweep(anonymous.server.app, every=0.05))
    try:
        for _ in range(100):
            [row] = await fetch_rows(raw_engine, f"SELECT status, closed_by FROM handoffs WHERE id = {handoff_id}")
            if row["status"] == "closed":
                break
            await asyncio.sleep(0.05)
    finally:
        sweep.cancel()
    assert row == {"status": "closed", "closed_by": "system:idle"}
    assert not rasa.paused
    assert any("本次人工服务已结束" in t for t in rasa.bot_texts("conv-idle-sweep"))


# --- development server --------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_serve_refuses_a_public_address_outside_production(host, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKOFFICE_", "APP_ENV"))}
    env.update(BACKOFFICE_HOST=host, APP_ENV="development",
               DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}")
    result = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("error: refusing to listen on BACKOFFICE_HOST=" + host)
    assert not (tmp_path / "never.db").exists()

"""Login, sessions, lock-out, logout, password changes, the first administrator and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import text

from bot.settings import REPO_ROOT
from bot.store import users as store_users
from bot.web.keys import SESSIONMAKER
from tests.api.helpers import count_rows, fetch_rows
from tests.console.conftest import CSRF_RE, PASSWORD, add_user, login, now_utc

PRODUCTION_SECRETS = {
    "APP_ENV": "production",
    "BACKOFFICE_SERVICE_TOKEN": "prod-service-token-0123456789",
    "BACKOFFICE_ENCRYPTION_KEYS": "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OTA=",
    "BACKOFFICE_HMAC_KEY": "prod-hmac-key-0123456789",
    "BACKOFFICE_SESSION_SECRET": "prod-session-secret",
    "ADMIN_PASSWORD": "prod-admin-password",
    "RASA_TOKEN": "prod-rasa-token-0123456789",
    "TRACKER_ENCRYPTION_KEYS": "dHJhY2tlci1rZXktZm9yLXRlc3RzLTAxMjM0NTY3ODk=",
}


def session_cookie(response, name="xf_session"):
    return response.cookies.get(name)


async def test_login_sets_a_secure_session_cookie_and_stores_an_argon2_hash(server, anonymous, raw_engine):
    await add_user(server, "wang", "officer")
    [row] = await fetch_rows(raw_engine, "SELECT password_hash FROM staff_users WHERE username = 'wang'")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert PasswordHasher().verify(row["password_hash"], PASSWORD)

    response = await login(anonymous, "WANG ")  # user names are not case-sensitive
    assert response.status == 303 and response.headers["Location"] == "/console/"
    cookie = session_cookie(response)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # development over plain HTTP
    # The database keeps a keyed hash of the token, never the token.
    [stored] = await fetch_rows(raw_engine, "SELECT id FROM staff_sessions")
    assert stored["id"] != cookie.value and len(stored["id"]) == 64
    page = await anonymous.get("/console/")
    assert page.status == 200 and "工作台" in await page.text()


def test_the_production_hasher_uses_the_rfc_9106_profile():
    hasher = PasswordHasher()  # what bot.store.users uses outside these tests
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)


async def test_in_production_the_cookie_is_secure_and_host_only(make_client, console_settings):
    client = await make_client(console_settings(**PRODUCTION_SECRETS))
    app = client.server.app
    async with app[SESSIONMAKER]() as session:
        await store_users.create_user(session, username="li", password=PASSWORD, role="admin", now=now_utc())
        await session.commit()
    page = await client.get("/console/login")
    assert page.cookies["xf_login_csrf"]["secure"] is True
    token = page.cookies["xf_login_csrf"].value
    # The test client speaks plain HTTP and keeps Secure cookies to itself: send it by hand,
    # as a browser would over HTTPS.
    response = await client.post(
        "/console/login",
        data={"csrf_token": token, "username": "li", "password": PASSWORD},
        headers={"Cookie": f"xf_login_csrf={token}"},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = session_cookie(response, "__Host-xf_session")
    assert cookie is not None and cookie["secure"] is True and cookie["path"] == "/"
    assert session_cookie(response) is None


async def test_wrong_password_and_unknown_user_read_the_same(server, anonymous):
    await add_user(server, "wang", "officer")
    for username in ("wang", "nobody"):
        response = await login(anonymous, username, "wrong-password-1")
        assert response.status == 401
        body = await response.text()
        assert "用户名或密码不正确" in body
        assert session_cookie(response) is None


async def test_lock_out_after_five_failures_in_fifteen_minutes(server, anonymous, clock, raw_engine):
    await add_user(server, "wang", "officer")
    start = now_utc()
    clock.now = start
    for attempt in range(4):
        assert (await login(anonymous, "wang", f"wrong-{attempt}-xxxxx")).status == 401
    fifth = await login(anonymous, "wang", "wrong-5-xxxxxx")
    assert fifth.status == 429
    assert "临时锁定" in await fifth.text()
    # Locked: even the right password is refused, without being checked.
    clock.now = start + timedelta(minutes=14)
    locked = await login(anonymous, "wang")
    assert locked.status == 429 and session_cookie(locked) is None
    # Unknown names lock the same way (nothing tells which names exist).
    for attempt in range(5):
        await login(anonymous, "ghost", f"wrong-{attempt}-xxxxx")
    assert "临时锁定" in await (await login(anonymous, "ghost", "whatever-xxxx")).text()
    # Fifteen minutes after the last failure the account opens again.
    clock.now = start + timedelta(minutes=15, seconds=1)
    assert (await login(anonymous, "wang")).status == 303
    outcomes = await fetch_rows(raw_engine, "SELECT outcome FROM login_attempts WHERE username = 'wang' ORDER BY id")
    assert [o["outcome"] for o in outcomes] == ["failure"] * 5 + ["success"]


async def test_failures_spread_over_more_than_the_window_do_not_lock(server, anonymous, clock):
    await add_user(server, "wang", "officer")
    start = now_utc()
    for attempt in range(8):
        clock.now = start + timedelta(minutes=4 * attempt)
        assert (await login(anonymous, "wang", f"wrong-{attempt}-xxxxx")).status == 401
    assert (await login(anonymous, "wang")).status == 303


async def test_an_administrator_unlocks_an_account(server, anonymous, staff):
    await add_user(server, "wang", "officer")
    for attempt in range(5):
        await login(anonymous, "wang", f"wrong-{attempt}-xxxxx")
    assert (await login(anonymous, "wang")).status == 429
    admin = await staff("admin")
    status, page = await admin.page("/console/users")
    assert "已锁定" in page
    async with server.app[SESSIONMAKER]() as session:
        user = await store_users.get_user_by_name(session, "wang")
    response = await admin.post(f"/console/users/{user.id}/unlock")
    assert response.status == 303
    assert (await login(anonymous, "wang")).status == 303


async def test_logout_ends_the_session(staff, raw_engine):
    officer = await staff("officer")
    assert await count_rows(raw_engine, "staff_sessions") == 1
    response = await officer.post("/console/logout")
    assert response.status == 303 and response.headers["Location"] == "/console/login"
    assert await count_rows(raw_engine, "staff_sessions") == 0
    response = await officer.client.get("/console/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/console/login")


async def test_sessions_end_after_idle_time_and_for_deactivated_accounts(server, staff, clock):
    clock.now = now_utc()
    officer = await staff("officer")
    clock.now += timedelta(minutes=29)
    assert (await officer.client.get("/console/", allow_redirects=False)).status == 200
    clock.now += timedelta(minutes=29)  # still active: the last request was 29 minutes ago
    assert (await officer.client.get("/console/", allow_redirects=False)).status == 200
    clock.now += timedelta(minutes=31)
    assert (await officer.client.get("/console/", allow_redirects=False)).status == 303

    other = await staff("officer")
    admin = await staff("admin")
    async with server.app[SESSIONMAKER]() as session:
        user = await store_users.get_user_by_name(session, other.username)
    assert (await admin.post(f"/console/users/{user.id}/active", {"active": "0"})).status == 303
    assert (await other.client.get("/console/", allow_redirects=False)).status == 303
    assert (await login(other.client, other.username)).status == 401


async def test_login_form_needs_its_csrf_token_and_next_stays_on_this_site(server, anonymous):
    await add_user(server, "wang", "officer")
    response = await anonymous.post("/console/login", data={"username": "wang", "password": PASSWORD},
                                    allow_redirects=False)
    assert response.status == 403 and session_cookie(response) is None
    for target, expected in (("https://evil.example/x", "/console/"), ("//evil.example", "/console/"),
                             ("/console/stats", "/console/stats")):
        anonymous.session.cookie_jar.clear()
        page = await anonymous.get("/console/login")
        token = CSRF_RE.search(await page.text()).group(1)
        response = await anonymous.post("/console/login", data={
            "csrf_token": token, "username": "wang", "password": PASSWORD, "next": target,
        }, allow_redirects=False)
        assert response.headers["Location"] == expected
    # An anonymous visit remembers where it was going.
    anonymous.session.cookie_jar.clear()
    response = await anonymous.get("/console/cases?status=registered", allow_redirects=False)
    assert response.headers["Location"].startswith("/console/login?next=")


async def test_changing_the_password_closes_other_sessions(server, staff, raw_engine):
    officer = await staff("officer")
    second = await staff("officer", username=officer.username + "x")
    response = await officer.post("/console/account/password", {"current": "wrong", "new": "x", "again": "x"})
    assert response.status == 422 and "当前密码不正确" in await response.text()
    response = await officer.post("/console/account/password",
                                  {"current": PASSWORD, "new": "short", "again": "short"})
    assert response.status == 422 and "至少需要10个字符" in await response.text()
    # log the same account in a second time, then change the password in the first browser
    again = second.client
    again.session.cookie_jar.clear()
    assert (await login(again, officer.username)).status == 303
    before = await count_rows(raw_engine, "staff_sessions")
    response = await officer.post("/console/account/password",
                                  {"current": PASSWORD, "new": "a-new-password-9", "again": "a-new-password-9"})
    assert response.status == 303
    assert (await officer.client.get("/console/", allow_redirects=False)).status == 200  # new session
    assert (await again.get("/console/", allow_redirects=False)).status == 303  # closed
    assert await count_rows(raw_engine, "staff_sessions") == before - 1
    rows = await fetch_rows(raw_engine, "SELECT actor, action FROM audit_log WHERE action = 'password_change'")
    assert rows == [{"actor": officer.username, "action": "password_change"}]


async def test_accounts_are_managed_by_administrators(server, staff, raw_engine):
    admin = await staff("admin")
    response = await admin.post("/console/users", {"username": "zhao", "display_name": "赵科员",
                                                   "role": "officer", "password": "zhao-password-1"})
    assert response.status == 303
    response = await admin.post("/console/users", {"username": "zhao", "role": "officer",
                                                   "password": "zhao-password-1"})
    assert response.status == 422 and "已存在" in await response.text()
    response = await admin.post("/console/users", {"username": "qian", "role": "officer", "password": "1234"})
    assert response.status == 422
    async with server.app[SESSIONMAKER]() as session:
        zhao = await store_users.get_user_by_name(session, "zhao")
    assert (await admin.post(f"/console/users/{zhao.id}/role", {"role": "supervisor"})).status == 303
    # the only administrator cannot demote or deactivate themself
    async with server.app[SESSIONMAKER]() as session:
        me = await store_users.get_user_by_name(session, admin.username)
    response = await admin.post(f"/console/users/{me.id}/role", {"role": "officer"})
    assert response.status == 422 and "唯一系统管理员" in await response.text()
    response = await admin.post(f"/console/users/{me.id}/active", {"active": "0"})
    assert response.status == 422
    actions = await fetch_rows(raw_engine, "SELECT action FROM audit_log WHERE action LIKE 'user_%' ORDER BY id")
    assert [a["action"] for a in actions] == ["user_create", "user_role"]


async def test_first_administrator_comes_from_the_settings(server, anonymous, raw_engine):
    from bot.console.views.auth import ensure_first_admin

    assert await count_rows(raw_engine, "staff_users") == 0
    # A login attempt with no account at all creates it (ADMIN_USERNAME/ADMIN_PASSWORD).
    response = await login(anonymous, "admin", "admin-dev-password")
    assert response.status == 303
    [row] = await fetch_rows(raw_engine, "SELECT username, role FROM staff_users")
    assert row == {"username": "admin", "role": "admin"}
    assert await ensure_first_admin(server.app) is False  # never a second time


def run_cli(database, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DATABASE_URL": database.url,
           "DATABASE_SCHEMA": database.schema, "ADMIN_USERNAME": "chief", "ADMIN_PASSWORD": "chief-password-1"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd="/", env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


async def test_create_admin_and_friends_on_the_command_line(database, raw_engine):
    result = run_cli(database, "create-admin")
    assert result.returncode == 0, result.stderr
    assert "created admin account chief" in result.stdout
    again = run_cli(database, "create-admin")
    assert again.returncode == 1 and "已存在" in again.stderr
    result = run_cli(database, "create-user", "--username", "sun", "--role", "officer",
                     "--display-name", "孙科员", "--password-stdin", stdin="sun-password-12\n")
    assert result.returncode == 0, result.stderr
    rows = await fetch_rows(raw_engine, "SELECT username, role, display_name, password_hash FROM staff_users ORDER BY id")
    assert [(r["username"], r["role"]) for r in rows] == [("chief", "admin"), ("sun", "officer")]
    assert all(r["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$") for r in rows)
    assert PasswordHasher().verify(rows[1]["password_hash"], "sun-password-12")
    result = run_cli(database, "set-password", "--username", "sun", "--password-stdin", stdin="short\n")
    assert result.returncode == 1 and "至少需要10个字符" in result.stderr
    result = run_cli(database, "unlock-user", "--username", "sun")
    assert result.returncode == 0 and "lifted" in result.stdout
    async with raw_engine.connect() as conn:
        assert (await conn.execute(text("SELECT outcome FROM login_attempts"))).scalar_one() == "unlock"

"""Staff see what their unit handles (§4): an officer of one 责任单位 tries every route with a
case, transcript and handoff of another unit, and a member of staff without the right tries a
检举控告 matter (信访工作条例 第30条). Each attempt must look exactly like an unknown case (404),
leave the case untouched and be written to the audit log; lists, searches, counts and CSV
exports must leave the other unit's and the confidential cases out.

Runs the real back office app (the console's fixtures) against SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import re

from aiohttp.test_utils import TestClient

from bot.store.visibility import REFUSAL_ACTION
from sqlalchemy import text

from tests.api.helpers import auth, fetch_rows
from tests.console.conftest import (  # noqa: F401  (fixtures used by name)
    CSRF_RE,
    Staff,
    anonymous,
    cheap_password_hashes,
    console_env,
    console_settings,
    file_case,
    login,
    rasa,
    server,
    staff,
    tracker,
)

UNIT_A = "北山街道办事处"
UNIT_B = "西溪街道办事处"
AGENCY = "杭州市西湖区信访局"
ACCUSATION = "揭发控告"


async def new_account(server, admin: Staff, clients: list, username: str, role: str, unit: str) -> Staff:
    """Created by the administrator in the console (with its unit), then logged in."""
    await admin.page("/console/users")
    response = await admin.post("/console/users", {
        "username": username, "display_name": username, "role": role, "unit": unit,
        "password": "Lang-Passwort-2026",
    })
    assert response.status == 303, await response.text()
    client = TestClient(server)
    await client.start_server()
    clients.append(client)
    response = await login(client, username, "Lang-Passwort-2026")
    assert response.status == 303
    member = Staff(client, username, role)
    assert (await member.page("/console/account"))[0] == 200
    return member


async def request_handoff(client, conversation: str) -> int:
    response = await client.post("/api/v1/handoffs", headers=auth(), json={
        "conversation_id": conversation, "channel": "rest", "reason": "我要找人工"})
    assert response.status == 201, await response.text()
    return (await response.json())["handoff"]["id"]


def case_links(page: str) -> set[str]:
    return set(re.findall(r'href="/console/cases/(XF\d+)"', page))


async def refusals(raw_engine, actor: str) -> list[tuple[str, str | None]]:
    rows = await fetch_rows(
        raw_engine,
        "SELECT detail FROM audit_log WHERE action = :action AND actor = :actor ORDER BY id",
        action=REFUSAL_ACTION, actor=actor,
    )
    out = []
    for row in rows:
        detail = row["detail"]
        detail = json.loads(detail) if isinstance(detail, str) else detail
        out.append((detail["route"], detail.get("case_no")))
    return out


async def summary_total(member: Staff) -> int:
    response = await member.client.get("/api/v1/reports")
    assert response.status == 200
    rows = (await response.json())["tables"]
    table = rows["summary"] if isinstance(rows, dict) else next(t for t in rows if t["key"] == "summary")
    return dict((r[0], r[1]) for r in table["rows"])["信访总量"]


async def test_an_officer_sees_and_works_only_the_cases_of_their_unit(server, anonymous, staff, raw_engine):
    a = (await file_case(anonymous, conversation_id="conv-unit-a"))["case"]["case_no"]
    b = (await file_case(anonymous, conversation_id="conv-unit-b"))["case"]["case_no"]
    x = (await file_case(anonymous, conversation_id="conv-unit-x", purpose=ACCUSATION,
                         facts="村支书贪污了征地补偿款，装进自己的腰包。"))["case"]["case_no"]
    async with raw_engine.begin() as conn:
        await conn.execute(text("UPDATE cases SET responsible_unit = :u WHERE case_no IN (:a, :x)"),
                           {"u": UNIT_A, "a": a, "x": x})
        await conn.execute(text("UPDATE cases SET responsible_unit = :u WHERE case_no = :b"),
                           {"u": UNIT_B, "b": b})
    h_a = await request_handoff(anonymous, "conv-unit-a")
    h_b = await request_handoff(anonymous, "conv-unit-b")
    h_none = await request_handoff(anonymous, "conv-no-case")

    admin = await staff("admin")  # an existing account: a 信访局 account
    clients: list[TestClient] = []
    try:
        officer_a = await new_account(server, admin, clients, "officer-a", "officer", UNIT_A)
        head_a = await new_account(server, admin, clients, "head-a", "supervisor", UNIT_A)
        bureau = await new_account(server, admin, clients, "bureau-head", "supervisor", AGENCY)
        secret = await new_account(server, admin, clients, "discipline", "accusation", AGENCY)
        users = {r["username"]: r["unit"] for r in await fetch_rows(raw_engine, "SELECT username, unit FROM staff_users")}
        assert users["officer-a"] == UNIT_A and users[admin.username] == AGENCY

        # --- unit A: lists, opens and works its own case -----------------------------------
        status, page = await officer_a.page("/console/cases")
        assert status == 200 and case_links(page) == {a}
        status, page = await officer_a.page(f"/console/cases/{a}")
        assert status == 200 and a in page
        status, _ = await officer_a.act(a, "accept", {"expected_status": "registered"})
        assert status == 303
        assert (await fetch_rows(raw_engine, "SELECT status FROM cases WHERE case_no = :n", n=a))[0]["status"] == "accepted"
        assert (await officer_a.page(f"/console/handoffs/{h_a}"))[0] == 200

        # --- every route with unit B's case, its transcript and its handoff: 404 -------------
        attempts = [
            ("GET", f"/console/cases/{b}", None),
            ("POST", f"/console/cases/{b}/accept", {"expected_status": "registered"}),
            ("GET", "/console/conversations/view?id=conv-unit-b", None),
            ("GET", f"/console/handoffs/{h_b}", None),
            ("POST", f"/console/handoffs/{h_b}/take", {}),
            ("POST", f"/console/handoffs/{h_b}/reply", {"text": "您好"}),
            ("GET", f"/console/handoffs/{h_none}", None),  # no case: 信访局 only
        ]
        for method, path, form in attempts:
            if method == "GET":
                status, body = await officer_a.page(path)
            else:
                response = await officer_a.post(path, form)
                status, body = response.status, await response.text()
            assert status == 404, (path, status)
            assert b not in body and "西溪" not in body
        response = await head_a.post(f"/console/cases/{b}/reveal")
        assert response.status == 404 and "13812345678" not in await response.text()
        response = await officer_a.client.get(f"/api/v1/cases/{b}")
        assert response.status == 404 and (await response.json())["error"] == "not_found"
        response = await officer_a.client.get("/api/v1/cases", params={"conversation_id": "conv-unit-b"})
        assert (await response.json())["cases"] == []

        logged = await refusals(raw_engine, "officer-a")
        assert [route for route, _ in logged] == [f"{m} {p.split('?')[0]}" for m, p, _ in attempts] + [
            f"GET /api/v1/cases/{b}"]
        assert [no for _, no in logged][:6] + [logged[-1][1]] == [b] * 7
        assert await refusals(raw_engine, "head-a") == [(f"POST /console/cases/{b}/reveal", b)]
        # Nothing happened to B: not read, not accepted, not taken, numbers not revealed.
        row = (await fetch_rows(raw_engine, "SELECT status, first_read_at FROM cases WHERE case_no = :n", n=b))[0]
        assert row == {"status": "registered", "first_read_at": None}
        assert (await fetch_rows(raw_engine, "SELECT status FROM handoffs WHERE id = :i", i=h_b))[0]["status"] == "waiting"
        assert await fetch_rows(raw_engine, "SELECT id FROM audit_log WHERE action = 'reveal_personal_numbers'") == []

        # The notification of B's acceptance (accepted by the 信访局): its text and its resend.
        status, _ = await bureau.act(b, "accept", {"expected_status": "registered"})
        assert status == 303
        notification = (await fetch_rows(
            raw_engine, "SELECT n.id FROM notifications n JOIN cases c ON c.id = n.case_id WHERE c.case_no = :n",
            n=b))[0]["id"]
        response = await officer_a.client.get(f"/api/v1/notifications/{notification}")
        assert response.status == 404
        response = await officer_a.post(f"/console/notifications/{notification}/resend")
        assert response.status == 404
        assert (await refusals(raw_engine, "officer-a"))[-2:] == [
            (f"GET /api/v1/notifications/{notification}", b),
            (f"POST /console/notifications/{notification}/resend", b),
        ]

        # --- lists, search, counts, statistics and CSV leave B out ---------------------------
        status, page = await officer_a.page(f"/console/cases?q={b}")
        assert status == 200 and case_links(page) == set()
        status, page = await officer_a.page("/console/cases?unit=" + UNIT_B)
        assert case_links(page) == set()
        status, page = await officer_a.page("/console/handoffs")
        assert f"/console/handoffs/{h_a}" in page
        assert f"/console/handoffs/{h_b}" not in page and f"/console/handoffs/{h_none}" not in page
        assert 'title="等待接入">1</span>' in page  # the menu counts only A's waiting handoff
        # Labelled turns for retraining: the training page and its export leave B out.
        async with raw_engine.begin() as conn:
            for sender, words in (("conv-unit-a", "甲单位辖区的路灯坏了"), ("conv-unit-b", "乙单位辖区的噪音扰民")):
                await conn.execute(text(
                    "INSERT INTO nlu_annotations (sender_id, event_id, text, intent, labelled_by, labelled_at) "
                    "VALUES (:s, 1, :t, 'file_petition', 'admin', CURRENT_TIMESTAMP)"), {"s": sender, "t": words})
        status, page = await officer_a.page("/console/training")
        assert status == 200 and "甲单位辖区的路灯坏了" in page and "乙单位辖区的噪音扰民" not in page
        response = await head_a.client.get("/console/training/export.yml")
        exported = await response.text()
        assert response.status == 200 and "甲单位" in exported and "乙单位" not in exported
        assert await summary_total(officer_a) == 1
        response = await officer_a.client.get("/api/v1/stats")
        assert (await response.json())["total"] == 1
        response = await officer_a.client.get("/console/stats/unit.csv")
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        assert rows[1:] == [[UNIT_A, "1"]]

        # --- 检举控告 (第30条): invisible without the right, even in the 信访局 -----------------
        for member in (officer_a, bureau):
            status, page = await member.page("/console/cases")
            assert x not in case_links(page)
            status, _ = await member.page(f"/console/cases/{x}")
            assert status == 404
            assert (await refusals(raw_engine, member.username))[-1] == (f"GET /console/cases/{x}", x)
        status, page = await bureau.page("/console/cases")
        assert case_links(page) == {a, b}  # the 信访局 sees every unit's ordinary cases
        assert 'title="等待接入">3</span>' in page
        status, page = await bureau.page("/console/training")
        assert "甲单位辖区的路灯坏了" in page and "乙单位辖区的噪音扰民" in page
        assert await summary_total(bureau) == 2
        assert (await bureau.page(f"/console/cases/{b}"))[0] == 200
        assert (await bureau.page(f"/console/handoffs/{h_none}"))[0] == 200
        status, page = await secret.page("/console/cases")
        assert case_links(page) == {a, b, x}
        assert (await secret.page(f"/console/cases/{x}"))[0] == 200
        assert await summary_total(secret) == 3
        # The action server's token is not unit-scoped.
        response = await anonymous.get(f"/api/v1/cases/{x}", headers=auth())
        assert response.status == 200
    finally:
        for client in clients:
            await client.close()


async def test_moving_an_account_to_another_unit_ends_its_sessions(server, anonymous, staff, raw_engine):
    admin = await staff("admin")
    clients: list[TestClient] = []
    try:
        officer = await new_account(server, admin, clients, "mover", "officer", UNIT_A)
        user_id = (await fetch_rows(raw_engine, "SELECT id FROM staff_users WHERE username = 'mover'"))[0]["id"]
        await admin.page("/console/users")
        response = await admin.post(f"/console/users/{user_id}/unit", {"unit": "不存在的单位"})
        assert response.status == 422 and "请选择有效的所属单位" in await response.text()
        response = await admin.post(f"/console/users/{user_id}/unit", {"unit": UNIT_B})
        assert response.status == 303
        assert (await fetch_rows(raw_engine, "SELECT unit FROM staff_users WHERE id = :i", i=user_id))[0]["unit"] == UNIT_B
        status, _ = await officer.page("/console/cases")
        assert status == 303  # logged out: what the account may see has changed
    finally:
        for client in clients:
            await client.close()


async def test_existing_accounts_become_agency_accounts_in_the_migration(raw_engine):
    from bot.store.migrate import downgrade_engine, upgrade_engine

    await downgrade_engine(raw_engine, "0004")
    async with raw_engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO staff_users (username, display_name, role, password_hash, active, created_at,"
            " updated_at, password_changed_at) VALUES ('old-officer', '老账户', 'officer', 'x', :t,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"t": True})
    await upgrade_engine(raw_engine, "0005")
    rows = await fetch_rows(raw_engine, "SELECT username, unit FROM staff_users")
    assert rows == [{"username": "old-officer", "unit": AGENCY}]
    await upgrade_engine(raw_engine, "head")

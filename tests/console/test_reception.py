"""Leader reception days and 包案 in the console (SQLite and PostgreSQL): a 信访局 officer
publishes a day (mistakes explained, nothing stored), the booking from the chat shows on the
day's page, a unit's officer cannot publish; a supervisor assigns a leader to a case and the
dashboard lists it."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot.rules.deadlines import TZ
from tests.api.helpers import auth, fetch_rows
from tests.console.conftest import (  # noqa: F401  (fixtures used by name)
    Staff,
    anonymous,
    cheap_password_hashes,
    console_env,
    console_settings,
    file_case,
    rasa,
    server,
    staff,
    tracker,
)
from tests.security.test_unit_scoping import new_account

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=TZ).astimezone(timezone.utc)


async def test_publish_a_day_and_see_its_bookings(server, staff, anonymous, clock, raw_engine) -> None:
    clock.now = NOW
    officer = await staff("officer")
    admin = await staff("admin")
    status, page = await officer.page("/console/reception")
    assert status == 200 and "尚未发布接访日" in page

    form = {"leader": "区长 王某", "day": "2026-12-03", "start": "09:00", "end": "11:30",
            "place": "西湖区信访接待中心一楼", "topics": "征地拆迁", "capacity": "8"}
    response = await officer.post("/console/reception", {**form, "end": "08:00"})
    assert response.status == 422 and "结束时间应晚于开始时间" in await response.text()
    response = await officer.post("/console/reception", {**form, "day": "2026-11-20"})
    assert response.status == 422 and "不能早于今天" in await response.text()
    assert await fetch_rows(raw_engine, "SELECT id FROM reception_days") == []

    response = await officer.post("/console/reception", form)
    assert response.status == 303
    day_url = response.headers["Location"].split("?")[0]
    day_id = int(day_url.rsplit("/", 1)[1])

    # A citizen of a filed case books it from the chat (the action server's call).
    filed = await file_case(anonymous, conversation_id="citizen-r")
    response = await anonymous.post(f"/api/v1/reception-days/{day_id}/bookings", headers=auth(),
                                    json={"conversation_id": "citizen-r", "channel": "web"})
    assert response.status == 201, await response.text()
    status, page = await officer.page(day_url)
    assert status == 200 and f'data-case-no="{filed["case"]["case_no"]}"' in page and "前一天提醒" in page
    _, listing = await officer.page("/console/reception")
    assert "1 / 8" in listing

    clients: list = []
    try:
        unit_officer = await new_account(server, admin, clients, "unit-r", "officer", "三墩镇人民政府")
        status, _ = await unit_officer.page("/console/reception")
        assert status == 403
    finally:
        for client in clients:  # closing a client stops the shared test server: last
            await client.close()


async def test_a_supervisor_assigns_a_leader_and_the_dashboard_lists_it(server, staff, anonymous, clock, raw_engine) -> None:
    clock.now = NOW
    filed = await file_case(anonymous, conversation_id="citizen-l")
    case_no = filed["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    response = await officer.post(f"/console/cases/{case_no}/lead", {"leader": "副区长 周某"})
    assert response.status == 403  # an officer cannot

    supervisor = await staff("supervisor")
    _, page = await supervisor.page(f"/console/cases/{case_no}")
    assert "尚无包案领导" in page
    response = await supervisor.post(f"/console/cases/{case_no}/lead", {"leader": "副区长 周某", "note": "牵头协调住建、街道"})
    assert response.status == 303
    _, page = await supervisor.page(f"/console/cases/{case_no}")
    assert "包案领导：<strong>副区长 周某</strong>" in page and "登记包案领导" in page
    _, dashboard = await supervisor.page("/console/")
    assert f'class="led-case" data-case-no="{case_no}"' in dashboard
    rows = await fetch_rows(raw_engine, "SELECT action FROM audit_log WHERE action = 'case_lead'")
    assert len(rows) == 1
    assert date(2026, 12, 1) == NOW.astimezone(TZ).date()

"""Unit assessment (责任单位考核): every indicator of a seeded month, per unit and in total, on
the statistics page and in its CSV; a unit's officer sees only their unit; the citizen's
rating is recorded once, after the reply, shown read-only, and loses its comment with
retention."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.store import ratings as store_ratings
from bot.store import users as store_users
from bot.store.models import Case, CaseRating
from bot.web.keys import CLOCK, SESSIONMAKER
from tests.console.conftest import LONG_SESSIONS, Staff, file_case, login
from tests.console.test_stats import table_of
from tests.console.test_workflow import at

HOUSING = "西湖区住房和城乡建设局"
MARKET = "西湖区市场监督管理局"
EDUCATION = "西湖区教育局"
REPLY = "经核查，已责令相关单位整改，现将处理结果书面答复如下。"


@pytest.fixture
def console_env():
    return LONG_SESSIONS


async def rate(server, case_no: str, rating: str, comment: str | None = None) -> None:
    """The citizen's rating, recorded by the store function the chat uses."""
    async with server.app[SESSIONMAKER]() as session:
        case = await session.scalar(select(Case).where(Case.case_no == case_no))
        await store_ratings.record_rating(session, case, rating, comment, "rest",
                                          case.conversation_id, server.app[CLOCK]())
        await session.commit()


async def seed_october(server, anonymous, staff, clock) -> tuple[Staff, dict[str, str]]:
    """Eight cases registered in October 2026 (and one in September), worked until 10 December:

    a 城乡建设  accept 10-05 (in time), reply 10-20, close 10-21, rated 满意
    b 城乡建设  repeat; accept 10-25 (notice due 10-17: late), reply 10-26, rated 基本满意
    c 市场监管  not accepted 10-10 (in time)
    d 市场监管  nothing done (notice due 10-19)
    e 教育      registered 10-28, nothing done (notice due 11-12)
    f 城乡建设  accept 10-06, reply 12-10 (handling due 12-05: late), rated 不满意
    g 城乡建设  accept 10-07, extended by 20 days (due 12-26), not replied
    h 城乡建设  accept 10-08, not replied (due 12-07)
    """
    clock.now = at("2026-09-20")
    await file_case(anonymous, conversation_id="september")
    cases: dict[str, str] = {}

    async def filed(key: str, day: str, **fields) -> None:
        clock.now = at(day)
        body = await file_case(anonymous, conversation_id=f"conv-{key}", **fields)
        cases[key] = body["case"]["case_no"]

    await filed("a", "2026-10-01")
    await filed("b", "2026-10-02", is_repeat=True,
                prior_case={"body": "西湖区住建局", "case_no": None, "review_stage": "replied"})
    await filed("c", "2026-10-03", category="市场监管")
    await filed("d", "2026-10-04", category="市场监管")
    await filed("f", "2026-10-06")
    await filed("g", "2026-10-07")
    await filed("h", "2026-10-08")
    await filed("e", "2026-10-28", category="教育")
    officer = await staff("officer")
    supervisor = await staff("supervisor")

    async def step(day: str, key: str, action: str, data: dict[str, str] | None = None,
                   member: Staff | None = None) -> None:
        clock.now = at(day)
        status, page = await (member or officer).act(cases[key], action, data)
        assert status == 303, page[:2000]

    async def accept_and_assign(day: str, key: str) -> None:
        await step(day, key, "accept")
        await step(day, key, "assign", {"unit": HOUSING})

    await accept_and_assign("2026-10-05", "a")
    await accept_and_assign("2026-10-06", "f")
    await accept_and_assign("2026-10-07", "g")
    await step("2026-10-08", "g", "extend", {"days": "20", "reason": "涉及多个部门，需要进一步调查核实。"},
               member=supervisor)
    await accept_and_assign("2026-10-08", "h")
    await step("2026-10-10", "c", "not_accept", {"reason": "属于已进入诉讼程序的事项",
                                                 "referred_to": "人民法院（诉讼、执行等法定程序）"})
    await step("2026-10-20", "a", "reply", {"reply": REPLY})
    await step("2026-10-21", "a", "close")
    await rate(server, cases["a"], "satisfied", "处理及时，谢谢。")
    await accept_and_assign("2026-10-25", "b")
    await step("2026-10-26", "b", "reply", {"reply": REPLY})
    clock.now = at("2026-10-27")
    await rate(server, cases["b"], "basic")
    await step("2026-12-10", "f", "reply", {"reply": REPLY})
    await rate(server, cases["f"], "dissatisfied", "问题没有解决，联系电话13812345678。")
    return officer, cases


def rows_by_unit(tables: dict) -> dict[str, dict[str, object]]:
    table = tables["assessment"]
    return {row[0]: dict(zip(table["columns"], row)) for row in table["rows"]}


def rate_cells(row: dict[str, object]) -> dict[str, tuple]:
    """{indicator: (counted, over, rate)} of one row."""
    return {
        "及时受理率": (row["及时受理"], row["应受理"], row["及时受理率"]),
        "按期办结率": (row["按期答复"], row["应办结"], row["按期办结率"]),
        "群众满意率": (row["满意和基本满意"], row["参评"], row["群众满意率"]),
        "参评率": (row["参评"], row["已答复"], row["参评率"]),
        "重复信访率": (row["重复信访"], row["信访件"], row["重复信访率"]),
        "回告率": (row["已回告"], row["信访件"], row["回告率"]),
    }


async def test_every_indicator_per_unit_and_in_total(server, anonymous, staff, clock):
    officer, _ = await seed_october(server, anonymous, staff, clock)
    clock.now = at("2026-12-10", hour=18)
    status, page = await officer.page("/console/stats?from=2026-10-01&to=2026-10-31")
    assert status == 200
    units = rows_by_unit(table_of(page))
    assert list(units) == [HOUSING, MARKET, EDUCATION, "合计"]
    assert rate_cells(units[HOUSING]) == {
        "及时受理率": (4, 5, "80.0%"),  # b's notice came after its limit
        "按期办结率": (2, 4, "50.0%"),  # a, b in time; f late; h overdue; g not due yet
        "群众满意率": (2, 3, "66.7%"),
        "参评率": (3, 3, "100.0%"),
        "重复信访率": (1, 5, "20.0%"),
        "回告率": (3, 5, "60.0%"),
    }
    assert rate_cells(units[MARKET]) == {
        "及时受理率": (1, 2, "50.0%"),
        "按期办结率": (0, 0, "—"),
        "群众满意率": (0, 0, "—"),
        "参评率": (0, 0, "—"),
        "重复信访率": (0, 2, "0.0%"),
        "回告率": (1, 2, "50.0%"),  # told it is not accepted
    }
    assert rate_cells(units[EDUCATION])["及时受理率"] == (0, 1, "0.0%")  # due 11-12, not given
    assert rate_cells(units["合计"]) == {
        "及时受理率": (5, 8, "62.5%"),
        "按期办结率": (2, 4, "50.0%"),
        "群众满意率": (2, 3, "66.7%"),
        "参评率": (3, 3, "100.0%"),
        "重复信访率": (1, 8, "12.5%"),
        "回告率": (4, 8, "50.0%"),
    }
    assert units["合计"]["信访件"] == 8
    # the chart and its definitions are on the page
    assert 'id="chart-assessment"' in page and "按期办结率：在办理期限" in page
    # the page's 回告率 of the "四个百分之百" agrees with the assessment's
    rates = {row[0]: row[1:] for row in table_of(page)["rates"]["rows"]}
    assert rates["回告率"] == [4, 8, "50.0%"]


async def test_steps_and_ratings_after_the_day_of_the_figures_do_not_count(server, anonymous, staff, clock):
    officer, _ = await seed_october(server, anonymous, staff, clock)
    clock.now = at("2026-10-31", hour=18)  # as the month ended: f's reply and rating came later
    _, page = await officer.page("/console/stats?from=2026-10-01&to=2026-10-31")
    total = rate_cells(rows_by_unit(table_of(page))["合计"])
    assert total["按期办结率"] == (2, 2, "100.0%")  # no handling limit had run out yet
    assert total["及时受理率"] == (5, 7, "71.4%")  # e's notice not due yet
    assert total["群众满意率"] == (2, 2, "100.0%") and total["参评率"] == (2, 2, "100.0%")


async def test_the_assessment_exports_as_csv(server, anonymous, staff, clock):
    officer, _ = await seed_october(server, anonymous, staff, clock)
    clock.now = at("2026-12-10", hour=18)
    response = await officer.client.get("/console/stats/assessment.csv?from=2026-10-01&to=2026-10-31")
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8")[1:])))
    assert rows[0][:5] == ["责任单位", "信访件", "及时受理", "应受理", "及时受理率"]
    assert rows[1][:5] == [HOUSING, "5", "4", "5", "80.0%"]
    assert rows[-1][0] == "合计" and rows[-1][-3:] == ["4", "8", "50.0%"]
    assert len(rows) == 5


async def unit_officer(server, unit: str) -> Staff:
    async with server.app[SESSIONMAKER]() as session:
        await store_users.create_user(session, username="market-officer", password="correct-horse-battery",
                                      role="officer", display_name="市场监管局办理人员", unit=unit,
                                      now=server.app[CLOCK]())
        await session.commit()
    client = TestClient(server)
    await client.start_server()
    response = await login(client, "market-officer", "correct-horse-battery")
    assert response.status == 303
    member = Staff(client, "market-officer", "officer")
    assert (await member.page("/console/account"))[0] == 200
    return member


async def test_a_unit_officer_sees_only_the_numbers_of_their_unit(server, anonymous, staff, clock):
    await seed_october(server, anonymous, staff, clock)
    clock.now = at("2026-12-10", hour=18)
    member = await unit_officer(server, MARKET)
    try:
        _, page = await member.page("/console/stats?from=2026-10-01&to=2026-10-31")
        units = rows_by_unit(table_of(page))
        assert list(units) == [MARKET]  # no other unit, no district total
        assert rate_cells(units[MARKET])["及时受理率"] == (1, 2, "50.0%")
        assert HOUSING not in page
        response = await member.client.get("/console/stats/assessment.csv?from=2026-10-01&to=2026-10-31")
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8")[1:])))
        assert [r[0] for r in rows[1:]] == [MARKET]
    finally:
        await member.client.close()


async def test_a_rating_is_recorded_once_and_only_after_the_reply(server, anonymous, staff, clock):
    officer, cases = await seed_october(server, anonymous, staff, clock)
    for key, message in (("a", "已经评价过"), ("d", "尚未书面答复")):
        with pytest.raises(store_ratings.RatingError) as error:
            await rate(server, cases[key], "satisfied")
        assert message in error.value.message
    with pytest.raises(store_ratings.RatingError):
        await rate(server, cases["b"], "excellent")
    async with server.app[SESSIONMAKER]() as session:
        stored = {r.case_id: r.rating for r in await session.scalars(select(CaseRating))}
    assert sorted(stored.values()) == ["basic", "dissatisfied", "satisfied"]
    # the case page shows it, read-only, with numbers masked
    status, page = await officer.page(f"/console/cases/{cases['f']}")
    assert status == 200
    shown = page.split('id="rating"', 1)[1].split("</dd>", 1)[0]
    assert "不满意" in shown and "不能修改" in shown and "13812345678" not in shown
    assert "<form" not in shown
    # no console route changes a rating
    from bot.web.routes import ROUTE_PERMISSIONS

    from bot.rules.roles import ROLE_PERMISSIONS, Permission

    assert not [path for _, path in ROUTE_PERMISSIONS if "rating" in path and path.startswith("/console")]
    # the chat's rating routes are the action server's alone: no staff role may use them
    assert {ROUTE_PERMISSIONS[("POST", "/api/v1/cases/{case_no}/rating")]} == {Permission.CASE_RATE}
    assert not [role for role, granted in ROLE_PERMISSIONS.items() if Permission.CASE_RATE in granted]


async def test_retention_clears_the_comment_and_keeps_the_rating(server, anonymous, staff, clock):
    from bot.store.retention import purge

    _, cases = await seed_october(server, anonymous, staff, clock)
    async with server.app[SESSIONMAKER]() as session:
        report = await purge(session, None, now=datetime(2040, 1, 1, tzinfo=timezone.utc),
                             retention_years=3, unfiled_days=30)
        await session.commit()
        assert report.cases_anonymised == 2  # a (closed) and c (not accepted)
        a = await session.scalar(select(Case).where(Case.case_no == cases["a"]))
        rating = await session.scalar(select(CaseRating).where(CaseRating.case_id == a.id))
    assert rating.rating == "satisfied" and rating.comment is None
    assert rating.conversation_id == f"anonymised:{cases['a']}"

"""Statistics of a period: the numbers behind each chart and their CSV export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.api.helpers import auth, fetch_rows
from tests.console.conftest import LONG_SESSIONS, file_case
from tests.console.test_workflow import at


@pytest.fixture
def console_env():
    return LONG_SESSIONS


async def seed(anonymous, staff, clock):
    """Five cases in September 2026 and one in August, worked to different points."""
    clock.now = at("2026-08-20")
    await file_case(anonymous, conversation_id="august", channel="wechat")
    clock.now = at("2026-09-01")
    a = (await file_case(anonymous, conversation_id="a"))["case"]["case_no"]
    clock.now = at("2026-09-02")
    b = (await file_case(anonymous, conversation_id="b", channel="wechat", category="市场监管",
                         location="文新那边"))["case"]["case_no"]
    clock.now = at("2026-09-02", hour=21)
    c = (await file_case(anonymous, conversation_id="c", is_repeat=True, group_size=8,
                         prior_case={"body": "西湖区住建局", "case_no": None, "review_stage": "replied"},
                         location="三墩镇紫金港路"))["case"]["case_no"]
    clock.now = at("2026-09-05")
    d = (await file_case(anonymous, conversation_id="d", channel="wechat",
                         location="拱墅区米市巷街道"))["case"]["case_no"]
    clock.now = at("2026-09-06")
    e = (await file_case(anonymous, conversation_id="e", category="教育"))["case"]["case_no"]
    officer = await staff("officer")
    clock.now = at("2026-09-08")
    for case_no in (a, b, c):
        await officer.page(f"/console/cases/{case_no}")  # read (阅办)
    await officer.act(a, "accept")
    await officer.act(a, "assign", {"unit": "西湖区住房和城乡建设局"})
    await officer.act(a, "reply", {"reply": "经核查，已责令施工单位整改，夜间停止施工。"})
    await officer.act(b, "not_accept", {"reason": "属于已进入诉讼程序的事项",
                                        "referred_to": "人民法院（诉讼、执行等法定程序）"})
    await officer.act(c, "accept")
    return officer, {"a": a, "b": b, "c": c, "d": d, "e": e}


def table_of(page: str) -> dict:
    raw = page.split('id="stats-data">', 1)[1].split("</script>", 1)[0]
    return json.loads(raw)["tables"]


async def test_the_numbers_of_a_period(anonymous, staff, clock):
    officer, cases = await seed(anonymous, staff, clock)
    clock.now = at("2026-09-25")  # d and e are overdue (15 days), c is being handled
    status, page = await officer.page("/console/stats?from=2026-09-01&to=2026-09-30")
    assert status == 200
    tables = table_of(page)
    summary = dict(map(tuple, tables["summary"]["rows"]))
    assert summary["信访总量"] == 5  # the August case is outside the period
    assert (summary["初信初访"], summary["重复信访"]) == (4, 1)
    assert summary["集体访（5人以上）"] == 1
    assert summary["当前超期"] == 2 and summary["不予受理"] == 1
    assert dict(map(tuple, tables["first_repeat"]["rows"])) == {"初信初访": 4, "重复信访": 1}
    assert dict(map(tuple, tables["channel"]["rows"])) == {"网上信访（网页）": 3, "网上信访（微信公众号）": 2}
    assert dict(map(tuple, tables["category"]["rows"])) == {"城乡建设": 3, "市场监管": 1, "教育": 1}
    assert dict(map(tuple, tables["place"]["rows"])) == {
        "古荡街道": 2, "文新街道": 1, "三墩镇": 1, "杭州市拱墅区": 1}
    assert sum(n for _, n in tables["unit"]["rows"]) == 5
    overdue = dict(map(tuple, tables["overdue"]["rows"]))
    assert sum(overdue.values()) == 2
    rates = {row[0]: row[1:] for row in tables["rates"]["rows"]}
    assert rates == {
        "登记率": [5, 5, "100.0%"],
        "阅办率": [3, 5, "60.0%"],
        "交办率": [2, 5, "40.0%"],  # a assigned, b referred elsewhere
        "回告率": [2, 5, "40.0%"],  # a replied, b told it is not accepted
    }
    daily = dict(map(tuple, tables["daily"]["rows"]))
    assert len(daily) == 30 and daily["2026-09-02"] == 2 and daily["2026-09-03"] == 0
    # the charts' containers and the local ECharts build are on the page
    assert page.count('class="chart"') == len(tables) - 1
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in page


async def test_each_table_exports_as_csv(anonymous, staff, clock, raw_engine):
    officer, _ = await seed(anonymous, staff, clock)
    response = await officer.client.get("/console/stats/category.csv?from=2026-09-01&to=2026-09-30")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert 'filename="xinfang-category-2026-09-01-2026-09-30.csv"' in response.headers["Content-Disposition"]
    body = (await response.read()).decode("utf-8")
    assert body.startswith("\ufeff")  # spreadsheet programs read the Chinese correctly
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows == [["内容分类", "件数"], ["城乡建设", "3"], ["市场监管", "1"], ["教育", "1"]]
    response = await officer.client.get("/console/stats/rates.csv?from=2026-09-01&to=2026-09-30")
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8")[1:])))
    assert rows[0] == ["指标", "完成件数", "应完成件数", "比率"] and rows[2] == ["阅办率", "3", "5", "60.0%"]
    assert (await officer.client.get("/console/stats/nonsense.csv")).status == 404
    audit = await fetch_rows(raw_engine, "SELECT actor FROM audit_log WHERE action = 'stats_export'")
    assert len(audit) == 2


async def test_period_defaults_and_bad_dates(anonymous, staff, clock):
    clock.now = at("2026-09-15")
    await file_case(anonymous)
    officer = await staff("officer")
    status, page = await officer.page("/console/stats")
    assert status == 200 and 'value="2026-09-01"' in page and 'value="2026-09-15"' in page
    assert dict(map(tuple, table_of(page)["summary"]["rows"]))["信访总量"] == 1
    status, page = await officer.page("/console/stats?from=2026-09-30&to=2026-09-01")
    assert status == 200 and "已自动交换" in page
    status, page = await officer.page("/console/stats?from=yesterday")
    assert status == 200 and "日期格式不正确" in page


def test_csv_cells_cannot_become_spreadsheet_formulas():
    from bot.store.reporting import table_csv
    from bot.store.reporting import Table

    body = table_csv(Table("x", "x", ["单位", "件数"], [["=cmd|' /C calc'!A0", 1], ["-1+1", 2], ["普通", 3]]))
    assert body.splitlines() == ["单位,件数", "'=cmd|' /C calc'!A0,1", "'-1+1,2", "普通,3"]


async def test_the_stats_api_keeps_working_for_the_service(anonymous):
    response = await anonymous.get("/api/v1/stats", headers=auth())
    assert response.status == 200 and (await response.json())["total"] == 0


async def test_later_cases_do_not_change_a_closed_period(anonymous, staff, clock):
    officer, _ = await seed(anonymous, staff, clock)
    clock.now = at("2026-10-02")
    await file_case(anonymous, conversation_id="october")
    _, page = await officer.page("/console/stats?from=2026-09-01&to=2026-09-30")
    assert dict(map(tuple, table_of(page)["summary"]["rows"]))["信访总量"] == 5


async def test_the_period_report_api_gives_the_tables_of_the_charts(anonymous, staff, clock):
    officer, _ = await seed(anonymous, staff, clock)
    clock.now = at("2026-09-25")
    _, page = await officer.page("/console/stats?from=2026-09-01&to=2026-09-30")
    response = await anonymous.get("/api/v1/reports?from=2026-09-01&to=2026-09-30", headers=auth())
    assert response.status == 200
    body = await response.json()
    assert body["start"] == "2026-09-01" and body["end"] == "2026-09-30"
    assert body["tables"] == table_of(page)
    assert (await anonymous.get("/api/v1/reports")).status == 401
    response = await anonymous.get("/api/v1/reports?from=soon", headers=auth())
    assert response.status == 400

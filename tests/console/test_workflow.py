"""The workflow from registration to reply and the review stages, with the legal time limits
of 信访工作条例 (DOMAIN.md §5), through the console's forms."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from bot.rules.deadlines import TZ, add_working_days
from tests.api.helpers import ID_NUMBER, auth, fetch_rows
from tests.console.conftest import LONG_SESSIONS, file_case


@pytest.fixture
def console_env():
    return LONG_SESSIONS


def at(day: str, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock in Hangzhou."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), TZ).replace(hour=hour)


def deadline_cells(page: str) -> dict[str, str]:
    """{事项: 期限} from the case page's deadline table."""
    table = page.split('id="deadlines"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<td>([^<]+)<br>.*?</td>\s*<td class=\"nowrap\">([^<]+)</td>", table, re.S)
    return {label.strip(): due.strip() for label, due in rows}


async def status_of(client, case_no: str, code: str) -> dict:
    response = await client.get(f"/api/v1/status/{case_no}", params={"code": code})
    assert response.status == 200
    return await response.json()


async def test_the_holiday_calendar_counts_the_objection_period():
    # National Day 2026: 1-7 October off, Saturday 10 October a make-up working day.
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert add_working_days(date(2026, 10, 9), 5) == date(2026, 10, 15)  # Saturday 10th counts


async def test_from_registration_to_recheck_with_every_deadline(anonymous, staff, clock, raw_engine, rasa):
    clock.now = at("2026-09-10")
    created = await file_case(anonymous)
    case_no, code = created["case"]["case_no"], created["query_code"]
    officer, supervisor = await staff("officer"), await staff("supervisor")

    status, page = await officer.page(f"/console/cases/{case_no}")
    assert status == 200
    # two steps before the citizen hears from the responsible body (第二十二条, 第二十三条)
    assert deadline_cells(page) == {
        "登记并转送、交办": "2026年9月25日",
        "书面告知接收情况以及处理途径和程序": "2026年10月10日",
    }
    assert "已登记，待受理" in page and "剩15日" in page

    # accept (第23条): 60 days of handling from acceptance (第34条)
    clock.now = at("2026-09-12")
    status, page = await officer.act(case_no, "accept", {"expected_status": "registered"})
    assert status == 303 and "已受理" in page
    assert deadline_cells(page)["办结并书面答复"] == "2026年11月11日"
    lookup = await status_of(anonymous, case_no, code)
    assert lookup["status"] == "accepted"
    assert lookup["next_deadline"] == {"label": "办结并书面答复", "article": "第三十四条", "date": "2026-11-11"}

    # assign across the National Day holidays: 5 working days to object (第23条)
    clock.now = at("2026-09-30")
    status, page = await officer.act(case_no, "assign", {"unit": "other", "unit_other": "西湖区城市管理局",
                                                         "note": "属城管职责"})
    assert status == 303
    cells = deadline_cells(page)
    assert cells["责任单位提出异议"] == "2026年10月13日"
    assert 'id="responsible-unit">西湖区城市管理局' in page
    assert "智能助手建议：西湖区住房和城乡建设局" in page  # the routing proposal is kept

    # extension by the head of the body (supervisor), at most 30 days in all (第34条)
    clock.now = at("2026-10-20")
    status, page = await officer.act(case_no, "extend", {"days": "10", "reason": "需现场核查"})
    assert status == 403  # officers may not approve an extension
    status, page = await supervisor.act(case_no, "extend", {"days": "31", "reason": "需现场核查"})
    assert status == 422 and "1至30日" in page
    status, page = await supervisor.act(case_no, "extend", {"days": "20", "reason": "需会同住建部门现场核查"})
    assert status == 303
    assert deadline_cells(page)["办结并书面答复"] == "2026年12月1日"
    assert (await status_of(anonymous, case_no, code))["next_deadline"]["date"] == "2026-12-01"
    status, page = await supervisor.act(case_no, "extend", {"days": "11", "reason": "再延期"})
    assert status == 422 and "1至10日" in page

    # written reply: the citizen may ask for 复查 within 30 days (第35条)
    clock.now = at("2026-11-02")
    status, page = await officer.act(case_no, "reply", {"reply": "经核查，施工单位已承诺11月底前完工，夜间22时后停止施工。"})
    assert status == 303
    # shown in the chat the same day: delivered on 2 November, 30 days to request 复查
    assert deadline_cells(page)["信访人请求复查"] == "2026年12月2日"
    assert "2026年11月2日送达" in page
    status, page = await officer.act(case_no, "close")
    assert status == 303 and "已办结" in page

    # 复查 requested in time, opinion within 30 days (第35条)
    clock.now = at("2026-11-20")
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-11-18"})
    assert status == 303
    assert deadline_cells(page)["出具复查意见"] == "2026年12月18日"
    # the citizen's lookup shows the same next step as the console
    assert (await status_of(anonymous, case_no, code))["next_deadline"] == {
        "label": "出具复查意见", "article": "第三十五条", "date": "2026-12-18"
    }
    status, page = await officer.act(case_no, "review_opinion", {"opinion": "维持原处理意见，督促按期完工。"})
    assert status == 403  # an opinion is the head's decision
    clock.now = at("2026-12-10")
    status, page = await supervisor.act(case_no, "review_opinion", {"opinion": "维持原处理意见，督促按期完工。"})
    assert status == 303
    # delivered in the chat on 10 December: 30 days end on Saturday 9 January, so the window
    # runs to Monday 11 January (2027 is counted Monday-Friday until its notice is added)
    assert deadline_cells(page)["信访人请求复核"] == "2027年1月11日"

    # 复核 (第36条), after which the same matter is not accepted again
    clock.now = at("2026-12-20")
    status, page = await officer.act(case_no, "recheck_request", {"received_on": "2026-12-19"})
    assert status == 303
    assert deadline_cells(page)["出具复核意见"] == "2027年1月18日"
    clock.now = at("2027-01-05")
    status, page = await supervisor.act(case_no, "recheck_opinion", {"opinion": "同意复查意见，维持原处理意见。"})
    assert status == 303 and "已出具复核意见" in page
    status, page = await officer.act(case_no, "close")
    assert status == 303

    # history and audit: one entry per step, by whom
    events = await fetch_rows(raw_engine, "SELECT actor, action, from_status, to_status FROM case_events ORDER BY id")
    history = [(e["action"], e["to_status"]) for e in events if e["action"] not in ("create", "read")]
    assert history == [
        ("accept", "accepted"), ("assign", "assigned"), ("extend", "assigned"), ("reply", "replied"),
        ("chat_delivery", "replied"),
        ("close", "closed"), ("review_request", "review_requested"), ("review_opinion", "reviewed"),
        ("chat_delivery", "reviewed"),
        ("recheck_request", "recheck_requested"), ("recheck_opinion", "rechecked"), ("close", "closed"),
    ]
    steps = [step for step in history if step[0] != "chat_delivery"]  # by staff, audited
    audit = await fetch_rows(raw_engine, "SELECT actor, action FROM audit_log WHERE action LIKE 'case_%' ORDER BY id")
    assert [a["action"] for a in audit] == [f"case_{action}" for action, _ in steps]
    assert {a["actor"] for a in audit if a["action"] in ("case_extend", "case_review_opinion", "case_recheck_opinion")} == {supervisor.username}

    # the citizen was told each step (texts checked in test_notifications.py)
    kinds = await fetch_rows(raw_engine, "SELECT kind, status FROM notifications ORDER BY id")
    # (closed with its reply delivered: invited to rate once, 第二十一条)
    assert [k["kind"] for k in kinds] == [
        "accepted", "assigned", "extended", "replied", "closed", "rating_request", "review_requested",
        "reviewed", "recheck_requested", "rechecked", "closed",
    ]
    assert {k["status"] for k in kinds} == {"sent"}


async def test_steps_out_of_order_or_incomplete_are_refused(anonymous, staff, clock, raw_engine):
    clock.now = at("2026-09-10")
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    status, page = await officer.act(case_no, "reply", {"reply": "这是一份足够长的书面答复内容。"})
    assert status == 409 and "只能在以下状态进行" in page
    status, page = await officer.act(case_no, "not_accept", {"reason": "", "referred_to": "人民法院（诉讼、执行等法定程序）"})
    assert status == 422 and "请填写不予受理的理由" in page
    status, page = await officer.act(case_no, "not_accept", {"reason": "已进入诉讼程序", "referred_to": "other"})
    assert status == 422 and "引导信访人前往的渠道" in page
    assert await fetch_rows(raw_engine, "SELECT status FROM cases") == [{"status": "registered"}]
    # a stale page: somebody else accepted it meanwhile
    status, page = await officer.act(case_no, "accept", {"expected_status": "registered"})
    assert status == 303
    status, page = await officer.act(case_no, "accept", {"expected_status": "registered"})
    assert status == 409 and "请刷新页面" in page
    status, page = await officer.act(case_no, "assign", {"expected_status": "registered", "unit": "西湖区教育局"})
    assert status == 409
    assert (await officer.act("XF2026999999", "accept"))[0] == 404


async def test_not_accepted_matters_are_referred_and_the_citizen_is_told(anonymous, staff, clock, rasa):
    clock.now = at("2026-09-10")
    created = await file_case(anonymous, conversation_id="conv-court")
    case_no = created["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    status, page = await officer.act(case_no, "not_accept", {
        "reason": "该事项已由人民法院作出生效判决，属于涉法涉诉事项。",
        "referred_to": "人民法院（诉讼、执行等法定程序）",
    })
    assert status == 303 and "不予受理" in page
    lookup = await status_of(anonymous, case_no, created["query_code"])
    assert lookup["status"] == "not_accepted" and lookup["next_deadline"] is None
    [(conversation, text)] = rasa.said
    assert conversation == "conv-court"
    assert case_no in text and "生效判决" in text and "人民法院（诉讼、执行等法定程序）" in text
    assert "诉访分离" in text and "第二十二条" in text


async def test_objection_within_five_working_days_sends_the_case_back(anonymous, staff, clock):
    clock.now = at("2026-09-28")
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    await officer.act(case_no, "accept")
    clock.now = at("2026-09-30")
    status, page = await officer.act(case_no, "assign", {"unit": "西湖区教育局"})
    assert status == 303
    clock.now = at("2026-10-14")  # the 5 working days ended on 13 October
    status, page = await officer.act(case_no, "objection", {"note": "不属于本单位职责"})
    assert status == 422 and "异议期限已于2026年10月13日届满" in page
    clock.now = at("2026-10-13", hour=16)
    status, page = await officer.act(case_no, "objection", {"note": "不属于本单位职责"})
    assert status == 303 and "已受理，正在办理" in page
    status, page = await officer.act(case_no, "assign", {"unit": "西湖区住房和城乡建设局"})
    assert status == 303 and "2026年10月20日" in page  # a new objection period (5 working days)


async def test_extension_after_the_deadline_and_late_review_requests_are_refused(anonymous, staff, clock):
    clock.now = at("2026-01-05")
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer, supervisor = await staff("officer"), await staff("supervisor")
    await officer.page(f"/console/cases/{case_no}")
    await officer.act(case_no, "accept")
    await officer.act(case_no, "assign", {"unit": "西湖区教育局"})
    clock.now = at("2026-03-07")  # handling due 2026-03-06
    status, page = await supervisor.act(case_no, "extend", {"days": "10", "reason": "需补充调查"})
    assert status == 422 and "应在期限内批准延期" in page
    status, page = await officer.act(case_no, "reply", {"reply": "经调查，现答复如下：已责令整改。"})
    assert status == 303
    # delivered in the chat on 7 March: 30 days end on 6 April, 清明, so the window runs to the 7th
    clock.now = at("2026-04-20")
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-04-08"})
    assert status == 422 and "第三十五条" in page
    assert "书面答复于2026年3月7日送达，期限已于2026年4月7日届满" in page
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-04-21"})
    assert status == 422 and "不能晚于今天" in page
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-04-07"})
    assert status == 303


async def test_overdue_and_due_soon_cases_stand_out(anonymous, staff, clock):
    now = datetime.now(TZ)
    clock.now = now - timedelta(days=20)
    overdue = (await file_case(anonymous, conversation_id="late"))["case"]["case_no"]
    clock.now = now - timedelta(days=13)
    soon = (await file_case(anonymous, conversation_id="soon"))["case"]["case_no"]
    clock.now = now
    fresh = (await file_case(anonymous, conversation_id="fresh"))["case"]["case_no"]
    officer = await staff("officer")
    status, page = await officer.page("/console/cases?due=overdue")
    assert overdue in page and soon not in page and fresh not in page
    assert re.search(rf'<tr class="overdue" data-case-no="{overdue}"', page)
    assert "超期5日" in page
    status, page = await officer.page("/console/cases?due=due_soon")
    assert soon in page and overdue not in page and fresh not in page
    assert "2日后到期" in page
    status, page = await officer.page("/console/")
    assert re.search(r'id="count-overdue">1<', page) and re.search(r'id="count-due-soon">1<', page)
    # the default order puts the most urgent first
    status, page = await officer.page("/console/cases")
    assert page.index(overdue) < page.index(soon) < page.index(fresh)


@pytest.mark.parametrize("query, expected", [
    ("status=registered", {"first", "repeat", "group"}),
    ("repeat=repeat", {"repeat"}),
    ("repeat=first&group=group", {"group"}),
    ("category=市场监管", {"repeat"}),
    ("place=三墩镇", {"group"}),
    ("q=李四", {"repeat"}),
    ("q=11010519491231002X", {"first", "repeat", "group"}),
    ("q=噪声", {"first", "group"}),
])
async def test_case_list_filters_and_search(anonymous, staff, clock, query, expected):
    clock.now = at("2026-09-10")
    names = {}
    # One citizen (one ID number, searched for below) with three different matters.
    same = {"petitioner__id_number": ID_NUMBER}
    names["first"] = (await file_case(anonymous, conversation_id="first"))["case"]["case_no"]
    names["repeat"] = (await file_case(
        anonymous, conversation_id="repeat", category="市场监管", petitioner__name="李四", **same,
        facts="超市出售过期食品，多次反映没有结果。", request="要求查处超市，退还货款。", respondent="某超市",
        is_repeat=True,
        prior_case={"body": "西湖区市场监督管理局", "case_no": None, "review_stage": "replied"},
    ))["case"]["case_no"]
    names["group"] = (await file_case(anonymous, conversation_id="group", group_size=12,
                                      location="三墩镇紫金港路", respondent="某机械厂", **same,
                                      facts="厂里的机器日夜运转，噪声很大，十二户居民晚上无法入睡。",
                                      request="要求机械厂夜间停产。"))["case"]["case_no"]
    officer = await staff("officer")
    status, page = await officer.page(f"/console/cases?{query}")
    assert status == 200
    shown = {key for key, no in names.items() if no in page}
    assert shown == expected
    table = page.split('id="case-table"', 1)[1]
    assert "11010519491231002X" not in table  # never listed in full, not even when searched for


async def test_date_range_filter_uses_local_dates(anonymous, staff, clock):
    clock.now = at("2026-09-10", hour=23)  # 15:00 UTC
    late = (await file_case(anonymous, conversation_id="late-evening"))["case"]["case_no"]
    clock.now = at("2026-09-11", hour=0) + timedelta(minutes=30)  # 16:30 UTC on the 10th
    early = (await file_case(anonymous, conversation_id="after-midnight"))["case"]["case_no"]
    officer = await staff("officer")
    _, page = await officer.page("/console/cases?from=2026-09-10&to=2026-09-10")
    assert late in page and early not in page
    _, page = await officer.page("/console/cases?from=2026-09-11&to=2026-09-11")
    assert early in page and late not in page


async def test_api_case_json_and_status_follow_the_workflow(anonymous, staff, clock):
    clock.now = at("2026-09-10")
    created = await file_case(anonymous)
    case_no = created["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    await officer.act(case_no, "accept")
    response = await anonymous.get(f"/api/v1/cases/{case_no}", headers=auth())
    case = await response.json()
    assert case["status"] == "accepted" and case["status_label"] == "已受理，正在办理"
    assert case["deadlines"]["handling_due"] == "2026-11-09"

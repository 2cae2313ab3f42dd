"""Time limits told exactly as 《信访工作条例》 sets them (DOMAIN.md §5), in the console, the
notifications and the citizen's lookup: the two steps before the responsible body's notice
(第二十二条、第二十三条), 60 days only for 第三十一条(六) matters (第三十四条), the 复查/复核
windows counted from the day the citizen received the document (第三十五条、第三十六条), and
the holiday calendar that must know the coming 90 days."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.console.notifier import NOTIFIER
from bot.rules import deadlines
from tests.api.helpers import fetch_rows
from tests.console.conftest import LONG_SESSIONS, file_case
from tests.console.test_workflow import at, deadline_cells, status_of

# Test data only (the shape of holidays.yml); the repository lists no year before its notice.
YEAR_2027 = "years:\n  2027:\n    holidays: [2027-01-01]\n"
REPLY = "经核查，施工单位已承诺月底前完工，夜间22时后停止施工。"


@pytest.fixture
def console_env():
    return LONG_SESSIONS


@pytest.fixture
def holidays_with_2027(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "holidays-2027.yml"
    path.write_text(YEAR_2027, encoding="utf-8")
    deadlines.use_holidays_file(path)  # as the back office does at start with HOLIDAYS_FILE
    return path


async def assigned_case(anonymous, staff, clock, day: str, **overrides):
    """A case filed on ``day``, accepted and assigned the same day; (case_no, code, officer)."""
    clock.now = at(day)
    created = await file_case(anonymous, **overrides)
    case_no = created["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    assert (await officer.act(case_no, "accept"))[0] == 303
    assert (await officer.act(case_no, "assign", {"unit": "西湖区城市管理局"}))[0] == 303
    return case_no, created["query_code"], officer


async def case_row(raw_engine, case_no: str) -> dict:
    [row] = await fetch_rows(
        raw_engine,
        "SELECT reply_delivered_on, review_request_due, review_opinion_delivered_on, "
        "recheck_request_due, handling_due FROM cases WHERE case_no = :no",
        no=case_no,
    )
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


# --- the 复查/复核 windows run from delivery ---------------------------------------------------


async def test_a_reply_recorded_and_delivered_late_never_makes_the_request_late(
    anonymous, staff, clock, rasa, raw_engine
):
    case_no, code, officer = await assigned_case(anonymous, staff, clock, "2026-03-02")
    rasa.down = True  # the chat message does not get through: the letter is the delivery
    clock.now = at("2026-04-01")
    status, page = await officer.act(case_no, "reply", {
        "reply": REPLY, "delivery_method": "post", "delivered_on": "",
    })
    assert status == 303
    assert deadline_cells(page)["信访人请求复查"] == "待送达后起算"
    assert "待送达" in page and "邮寄送达，送达日期待登记" in page
    assert (await case_row(raw_engine, case_no))["review_request_due"] is None
    lookup = await status_of(anonymous, case_no, code)
    assert lookup["deadlines"]["review_request_due"] is None

    # the letter was signed for on 20 April; staff record it on 6 May
    clock.now = at("2026-05-06")
    status, page = await officer.act(case_no, "reply_delivery", {"delivery_method": "post", "delivered_on": ""})
    assert status == 422 and "请填写送达日期" in page
    status, page = await officer.act(case_no, "reply_delivery", {
        "delivery_method": "post", "delivered_on": "2026-03-31",
    })
    assert status == 422 and "送达日期不能早于2026年4月1日" in page
    status, page = await officer.act(case_no, "reply_delivery", {
        "delivery_method": "post", "delivered_on": "2026-05-07",
    })
    assert status == 422 and "不能晚于今天" in page
    status, page = await officer.act(case_no, "reply_delivery", {
        "delivery_method": "post", "delivered_on": "2026-04-20",
    })
    assert status == 303 and "已登记书面答复的送达日期" in page
    assert deadline_cells(page)["信访人请求复查"] == "2026年5月20日"
    assert "2026年4月20日送达" in page
    assert (await case_row(raw_engine, case_no))["reply_delivered_on"] == "2026-04-20"
    lookup = await status_of(anonymous, case_no, code)
    assert lookup["deadlines"]["reply_delivered_on"] == "2026-04-20"
    assert lookup["deadlines"]["review_request_due"] == "2026-05-20"

    # 49 days after the reply was recorded, but within 30 days of its receipt: in time
    clock.now = at("2026-05-25")
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-05-21"})
    assert status == 422
    assert "书面答复于2026年4月20日送达，期限已于2026年5月20日届满" in page
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-05-20"})
    assert status == 303 and "已登记复查请求" in page


async def test_a_request_before_any_recorded_delivery_is_never_late(anonymous, staff, clock, rasa):
    case_no, _, officer = await assigned_case(anonymous, staff, clock, "2026-03-02")
    rasa.down = True
    clock.now = at("2026-03-10")
    await officer.act(case_no, "reply", {"reply": REPLY, "delivery_method": "post"})
    clock.now = at("2026-06-30")  # months later: nobody recorded the delivery
    status, page = await officer.act(case_no, "review_request", {"received_on": "2026-06-29"})
    assert status == 303
    assert deadline_cells(page)["信访人请求复查"] == "—"
    assert "已完成 2026年6月29日" in page


async def test_a_reply_shown_in_the_chat_is_delivered_the_day_it_is_shown(
    server, anonymous, staff, clock, rasa, raw_engine
):
    case_no, _, officer = await assigned_case(anonymous, staff, clock, "2026-08-20")
    rasa.down = True
    clock.now = at("2026-09-04")
    status, page = await officer.act(case_no, "reply", {"reply": REPLY})  # 在线对话中送达
    assert status == 303 and "通知信访人暂未成功" in page
    assert deadline_cells(page)["信访人请求复查"] == "待送达后起算"

    # Rasa is back on Monday 7 September: the reply is shown, and delivered, that day
    rasa.down = False
    clock.now = at("2026-09-07")
    assert await server.app[NOTIFIER].retry_due() == 1
    text = rasa.said[-1][1]
    assert REPLY in text and "第三十五条" in text
    # 7 October is a National Day holiday: the window runs to Thursday 8 October
    assert "本消息即向您送达书面答复，请求复查的期限自今天（2026年9月7日）起算，至2026年10月8日" in text
    assert "顺延" in text
    row = await case_row(raw_engine, case_no)
    assert (row["reply_delivered_on"], row["review_request_due"]) == ("2026-09-07", "2026-10-08")
    _, page = await officer.page(f"/console/cases/{case_no}")
    assert deadline_cells(page)["信访人请求复查"] == "2026年10月8日"
    assert "书面答复已在线对话中送达信访人（2026年9月7日），复查请求期限至2026年10月8日" in page  # history
    # what was sent is what is stored
    [stored] = await fetch_rows(raw_engine, "SELECT text FROM notifications WHERE kind = 'replied'")
    assert stored["text"] == text


async def test_a_reply_too_long_for_the_chat_waits_for_its_written_delivery(
    anonymous, staff, clock, rasa, raw_engine
):
    case_no, _, officer = await assigned_case(anonymous, staff, clock, "2026-09-01")
    long_reply = "经调查核实，现将有关情况答复如下：" + "施工单位已按要求整改。" * 200
    clock.now = at("2026-09-10")
    status, page = await officer.act(case_no, "reply", {"reply": long_reply})
    assert status == 303
    text = rasa.said[-1][1]
    assert "以书面答复全文为准" in text and "书面答复全文将另行送达，请求复查的期限自您收到之日起计算" in text
    assert (await case_row(raw_engine, case_no))["reply_delivered_on"] is None
    assert deadline_cells(page)["信访人请求复查"] == "待送达后起算"
    status, page = await officer.act(case_no, "reply_delivery", {
        "delivery_method": "in_person", "delivered_on": "2026-09-10",
    })
    assert status == 303
    assert deadline_cells(page)["信访人请求复查"] == "2026年10月10日"  # a make-up working Saturday


async def test_the_review_opinion_window_runs_from_its_delivery(anonymous, staff, clock, rasa, raw_engine):
    case_no, code, officer = await assigned_case(anonymous, staff, clock, "2026-06-01")
    supervisor = await staff("supervisor")
    clock.now = at("2026-06-15")
    await officer.act(case_no, "reply", {"reply": REPLY})
    clock.now = at("2026-06-20")
    await officer.act(case_no, "review_request", {"received_on": "2026-06-19"})
    # the opinion is dated 10 July, handed over on 5 September (before the chat shows it)
    clock.now = at("2026-09-05")
    status, page = await supervisor.act(case_no, "review_opinion", {
        "opinion": "维持原处理意见，督促按期完工。", "given_on": "2026-07-10",
        "delivery_method": "in_person", "delivered_on": "2026-09-05",
    })
    assert status == 303
    # 5 October is in the National Day holiday: the window runs to 8 October
    assert deadline_cells(page)["信访人请求复核"] == "2026年10月8日"
    row = await case_row(raw_engine, case_no)
    assert (row["review_opinion_delivered_on"], row["recheck_request_due"]) == ("2026-09-05", "2026-10-08")
    said = [text for _, text in rasa.said if "复查意见如下" in text]
    assert said and "您于2026年9月5日收到复查意见，请求复核的期限至2026年10月8日" in said[0]
    assert "第三十六条" in said[0]
    lookup = await status_of(anonymous, case_no, code)
    assert lookup["deadlines"]["recheck_request_due"] == "2026-10-08"
    clock.now = at("2026-10-08")
    status, page = await officer.act(case_no, "recheck_request", {"received_on": "2026-10-08"})
    assert status == 303  # 90 days after the opinion's date, in time from its delivery


# --- what the agency owes, and which limits apply --------------------------------------------


async def test_the_acceptance_notice_tells_receipt_and_handling_route(anonymous, staff, clock, rasa):
    clock.now = at("2026-09-10")
    created = await file_case(anonymous)
    case_no = created["case"]["case_no"]
    lookup = await status_of(anonymous, case_no, created["query_code"])
    assert lookup["next_deadline"] == {
        "label": "登记转送，书面告知接收情况以及处理途径和程序",
        "article": "第二十二条、第二十三条",
        "date": "2026-09-25",
    }
    assert lookup["deadlines"]["forwarding_due"] == "2026-09-25"
    assert lookup["deadlines"]["receipt_notice_due_latest"] == "2026-10-10"
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    clock.now = at("2026-09-12")
    await officer.act(case_no, "accept")
    [(_, text)] = rasa.said
    assert "是否受理" not in text
    assert "第二十三条" in text and "接收情况以及处理途径和程序" in text
    assert "第三十一条第（六）项" in text and "60日内，即2026年11月11日前办结并书面答复" in text
    assert "延长不超过30日" in text and "延期理由" in text


async def test_a_litigation_matter_is_not_promised_60_days(anonymous, staff, clock, rasa, raw_engine):
    clock.now = at("2026-09-10")
    created = await file_case(
        anonymous, litigation=True, facts="法院判决后对方一直不履行，工程款至今没有付。",
    )
    case_no, code = created["case"]["case_no"], created["query_code"]
    assert created["case"]["deadlines"]["handling_procedure"] == "own_procedure"
    assert created["case"]["deadlines"]["handling_due_projected"] is None
    officer, supervisor = await staff("officer"), await staff("supervisor")
    await officer.page(f"/console/cases/{case_no}")
    status, page = await officer.act(case_no, "accept")
    assert status == 303
    assert deadline_cells(page)["办结并书面答复"] == "按该程序期限"
    assert "受理之日起60日" not in page.split('id="deadlines"', 1)[1].split("</table>", 1)[0]
    _, page = await supervisor.page(f"/console/cases/{case_no}")
    assert 'id="action-extend"' not in page  # no 60 days to extend (第三十四条)
    [(_, text)] = rasa.said
    assert "依照相应法定程序" in text and "不适用第三十四条60日的办结期限" in text
    assert "60日内，即" not in text
    assert (await case_row(raw_engine, case_no))["handling_due"] is None
    lookup = await status_of(anonymous, case_no, code)
    assert lookup["next_deadline"] is None
    assert lookup["deadlines"]["handling_procedure"] == "own_procedure"
    status, page = await supervisor.act(case_no, "extend", {"days": "10", "reason": "需要补充调查"})
    assert status == 422 and "不适用第三十四条的延期" in page
    await officer.act(case_no, "assign", {"unit": "西湖区司法局"})
    assert "依照相应法定程序的期限办理" in rasa.said[-1][1]


async def test_a_referred_matter_follows_its_own_procedure(anonymous, staff, clock, rasa):
    clock.now = at("2026-09-10")
    created = await file_case(anonymous, conversation_id="conv-arbitration")
    case_no = created["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    status, page = await officer.act(case_no, "not_accept", {
        "reason": "属于劳动争议，应申请劳动仲裁。",
        "referred_to": "劳动人事争议仲裁委员会（仲裁）",
    })
    assert status == 303
    cells = deadline_cells(page)
    assert cells["依法定程序办理"] == "按该程序期限"
    assert "按相应程序" in page
    [(_, text)] = rasa.said
    assert "劳动人事争议仲裁委员会（仲裁）" in text and "不适用第三十四条60日的办结期限" in text
    lookup = await status_of(anonymous, case_no, created["query_code"])
    assert lookup["deadlines"]["handling_channel"] == "劳动人事争议仲裁委员会（仲裁）"
    assert lookup["deadlines"]["handling_days"] is None


# --- the holiday calendar must know the coming 90 days ----------------------------------------


@pytest.mark.parametrize("path", ["/console/", "/console/cases"])
async def test_console_pages_show_a_banner_while_2027_is_unknown(anonymous, staff, clock, path):
    clock.now = at("2026-11-29")
    officer = await staff("officer")
    status, page = await officer.page(path)
    assert status == 200
    banner = page.split('id="calendar-banner"', 1)[1].split("</div>", 1)[0]
    assert "2027年" in banner and "2027年1月1日至2027年2月27日" in banner
    assert "bot/config/holidays.yml" in banner and "国务院办公厅" in banner


async def test_the_case_page_shows_the_banner_too(anonymous, staff, clock):
    clock.now = at("2026-11-29")
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer = await staff("officer")
    _, page = await officer.page(f"/console/cases/{case_no}")
    assert 'id="calendar-banner"' in page


async def test_no_banner_when_the_calendar_covers_the_coming_90_days(anonymous, staff, clock, request):
    clock.now = at("2026-06-01")
    officer = await staff("officer")
    _, page = await officer.page("/console/")
    assert 'id="calendar-banner"' not in page
    clock.now = at("2026-11-29")
    request.getfixturevalue("holidays_with_2027")  # the notice of 2027 added to holidays.yml
    _, page = await officer.page("/console/")
    assert 'id="calendar-banner"' not in page


async def test_the_login_page_has_no_banner(anonymous, clock):
    clock.now = at("2026-11-29")
    response = await anonymous.get("/console/login")
    assert 'id="calendar-banner"' not in await response.text()


async def test_the_back_office_warns_at_start_up(make_client, settings, clock, caplog, request):
    clock.now = at("2026-11-29")
    caplog.set_level(logging.WARNING, logger="bot.app")
    await make_client(settings)
    warnings = [r for r in caplog.records if r.name == "bot.app" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "HOLIDAY CALENDAR INCOMPLETE" in warnings[0].getMessage()
    assert "2027 (2027-01-01..2027-02-27)" in warnings[0].getMessage()

    caplog.clear()
    request.getfixturevalue("holidays_with_2027")
    await make_client(settings)
    assert [r for r in caplog.records if r.name == "bot.app" and r.levelno >= logging.WARNING] == []

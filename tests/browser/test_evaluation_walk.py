"""Evaluation, assessment, reception days and the monthly report, walked in headless Chromium
with the citizen's side over Rasa's REST channel (screenshots under test-artifacts/browser/).

A case is handled to the end in the console (受理 → 交办 → 书面答复 delivered in the chat →
办结) → the citizen's chat receives the invitation to rate with its three buttons → the
citizen rates 不满意 and is told the 复查 path (第三十五条) → the unit's 群众满意率 on the
statistics page goes from "—" to 0.0% → a reception day is published in the console, the
citizen books it from another device with the case number and query code, the booking
shows on the day's page → the
monthly report is downloaded and opens as a Word document.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from docx import Document

from bot.rules.deadlines import local_date
from bot.store.assessment import INDICATORS
from tests.browser.conftest import Browser, bot_events
from tests.browser.test_console_workflow import act, file_petition, wait_for_bot_text
from tests.support.chat import Chat
from tests.support.stack import Stack, button_payloads

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

UNIT = "西湖区人力资源和社会保障局"


def satisfaction_of(page) -> str:
    """The unit's 群众满意率 cell of the assessment table drawn on the statistics page."""
    tables = json.loads(page.inner_text("#stats-data"))["tables"]
    table = tables["assessment"]
    column = table["columns"].index(next(name for name, attr, *_ in INDICATORS if attr == "satisfaction"))
    row = next(r for r in table["rows"] if r[0] == UNIT)
    return row[column]


def test_rate_assess_book_and_report(console_stack: Stack, tab: Browser, tmp_path) -> None:
    stack, page = console_stack, tab.page
    chat, case_no = file_petition(stack)
    tab.login()

    tab.goto("/console/stats")
    before = satisfaction_of(page)

    # The officer handles the case to the end; the reply is delivered in the chat.
    tab.goto(f"/console/cases/{case_no}")
    act(tab, "accept")
    act(tab, "assign")
    act(tab, "reply", {"#reply-input": "经调查核实，劳务公司已结清拖欠的三万二千元工资，区人社局将跟踪回访。"})
    notice = act(tab, "close")
    assert "已办结" in notice and "已邀请信访人评价" in notice

    # The citizen's chat receives the invitation with its three buttons.
    invitation = wait_for_bot_text(stack, chat.sender, "第二十一条", case_no)
    assert "满意、基本满意或不满意" in invitation
    event = next(e for e in bot_events(stack, chat.sender) if "第二十一条" in (e.get("text") or ""))
    payloads = button_payloads([{"text": event["text"], "buttons": (event.get("data") or {}).get("buttons")}])
    assert list(payloads) == ["满意", "基本满意", "不满意"]
    reply = chat.expect(payloads["不满意"], "评价已记录：不满意", "第三十五条", "请求复查")
    assert "上一级机关" in reply
    chat.expect("我要评价", "已经评价过")

    # The unit's 群众满意率 moves on the statistics page.
    tab.goto("/console/stats")
    page.wait_for_selector('#chart-assessment[data-rendered="true"]')
    after = satisfaction_of(page)
    assert after != before and after.startswith("0.0%")
    tab.screenshot("evaluation-statistics")

    # A reception day is published, booked from the chat, and shown in the console. The same
    # worker comes back with the same matter: a linked 重复信访, being handled, so bookable.
    chat2, case2 = file_petition(stack)
    day = local_date(datetime.now(timezone.utc)) + timedelta(days=3)
    tab.goto("/console/reception")
    page.fill("#reception-form input[name=leader]", "区长 王某")
    page.fill("#reception-form input[name=day]", day.isoformat())
    page.fill("#reception-form input[name=place]", "西湖区信访接待中心一楼")
    with page.expect_navigation():
        page.click("#reception-submit")
    assert "已发布领导接访日" in tab.flash()
    day_url = page.url.split("?")[0]
    chat2.expect("领导接访日是哪天", "区长 王某", "第二十条", f"信访件 {case2} 正在办理中")
    # Booked from another device: a new conversation proves the case with its number and
    # query code (asked for after the day is chosen; a wrong code first is refused).
    code2 = re.search(r"查询码：(\d{6})", chat2.turns[-2][1]).group(1)
    phone = Chat(stack, "phone")
    phone.expect("我想见见区领导，怎么约", "区长 王某", "信访件编号和查询码")
    title = next(t for t in button_payloads(phone.last) if t.startswith("预约"))
    phone.click(title, "需要先核实您已登记的信访件", "编号")
    phone.expect(case2, "查询码")
    phone.expect(f"{(int(code2) + 1) % 1000000:06d}", "未找到对应的信访件")
    phone.expect("领导接访日", "区长 王某")
    phone.click(title, "需要先核实")
    phone.expect(f"编号是{case2}，查询码{code2}", f"信访件 {case2} 的办理情况",
                 f"已为信访件 {case2} 预约领导接访", "西湖区信访接待中心一楼")
    page.goto(day_url)
    booking = page.locator(f'#reception-bookings tr.booking[data-case-no="{case2}"]')
    assert booking.count() == 1
    tab.screenshot("reception-day-booked")

    # The month's 信访形势分析 downloads as a Word document.
    tab.goto("/console/stats")
    with page.expect_download() as download:
        page.click("#monthly-report")
    assert download.value.suggested_filename.endswith(".docx")
    document = Document(str(download.value.path()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "信访形势分析" in text and "总体情况" in text
    assert len(document.inline_shapes) >= 1  # the charts
    assert tab.errors == []

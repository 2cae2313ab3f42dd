"""An officer works a case filed by a real conversation, in headless Chromium, and the citizen
sees each step in their chat; the statistics page draws its charts.

Flow: a citizen files a petition over Rasa's REST channel → the administrator logs in, finds
the case, reads its transcript (with intents and confidence), reveals the ID number (audited),
accepts and assigns it, replies in writing → each step's notification is in the citizen's
conversation (Rasa tracker) and the chat's status lookup shows the same state.
"""

from __future__ import annotations

import re
import time

import pytest

from bot.rules.conversation_ids import conversation_tag
from bot.settings.backoffice import DEV_HMAC_KEY
from tests.browser.conftest import ADMIN_USERNAME, Browser, bot_events
from tests.support.chat import Chat
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CASE_NO = re.compile(r"信访件编号：(XF\d{10})")
REPLY = "经调查核实，劳务公司已承诺于本月底前结清拖欠的三万二千元工资，区人社局将跟踪督办。"


def file_petition(stack: Stack) -> tuple[Chat, str]:
    """The wage-arrears petition of tests/e2e/test_intake_conversations.py, filed over REST."""
    chat = Chat(stack, "browser")
    chat.expect("你好", "智能助手")
    chat.expect("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    chat.expect("11010519491231002x", "手机号码")
    chat.expect("138 1234 5678", "住址")
    chat.expect("西湖区三墩镇振华路100号", "劳动和社会保障")
    chat.expect("对的", "被反映对象")
    chat.expect("杭州某某建筑劳务公司的包工头", "诉求")
    chat.expect("要求把拖欠的三万二千元工资全部结清", "第一次反映")
    chat.expect("第一次", "多少人")
    chat.expect("就我一个人", "请核对您的登记信息")
    reply = chat.expect("确认提交", "信访件编号")
    return chat, CASE_NO.search(reply).group(1)


def wait_for_bot_text(stack: Stack, sender: str, *fragments: str, timeout: float = 30) -> str:
    """The bot message of the conversation containing every fragment (waits for delivery)."""
    deadline = time.monotonic() + timeout
    while True:
        for event in bot_events(stack, sender):
            text = event.get("text") or ""
            if all(f in text for f in fragments):
                return text
        if time.monotonic() > deadline:
            texts = [e.get("text") for e in bot_events(stack, sender)][-5:]
            raise AssertionError(f"no bot message with {fragments} in {sender}: {texts}")
        time.sleep(0.5)


def act(tab: Browser, action: str, fill: dict[str, str] | None = None) -> str:
    """Open the step's form on the case page, fill it, submit; the notice shown afterwards."""
    page = tab.page
    page.click(f"#action-{action} summary")
    for selector, value in (fill or {}).items():
        page.fill(selector, value)
    with page.expect_navigation():
        page.click(f"#submit-{action}")
    return tab.flash()


def test_an_officer_works_a_case_from_filing_to_reply(console_stack: Stack, tab: Browser) -> None:
    stack = console_stack
    chat, case_no = file_petition(stack)
    page = tab.page

    # log in (anonymous visitors are sent to the login page)
    tab.login()
    assert "系统管理员" in page.inner_text("#current-user")  # the first administrator, from the settings

    # find the case filed by the conversation
    tab.goto("/console/cases")
    page.fill("#filter-q", case_no)
    with page.expect_navigation():
        page.click("#filter-submit")
    assert page.inner_text("#case-total") == "1"
    row = page.locator(f'tr[data-case-no="{case_no}"]')
    assert "张建国" in row.inner_text() and "已登记，待受理" in row.inner_text()
    tab.screenshot("01-case-list")
    with page.expect_navigation():
        row.locator("a").first.click()
    assert page.inner_text("#case-no") == case_no

    # the case page: every field, masked numbers, the transcript from the tracker store
    assert page.inner_text("#petitioner-id-number") == "110105********002X"
    assert page.inner_text("#petitioner-phone") == "138****5678"
    transcript = page.inner_text("#transcript")
    assert "老板一直拖着工资不给" in transcript and "确认提交" in transcript
    assert "意图 file_petition" in transcript and "置信度" in transcript
    assert "11010519491231002X" not in page.content()
    tab.screenshot("02-case-detail")

    # the conversation review page of the same conversation: intents and labelling
    with page.expect_navigation():
        page.click("#open-conversation")
    # the console names the conversation by its keyed tag, never by its id
    assert page.inner_text("#conversation-id") == conversation_tag(DEV_HMAC_KEY, chat.sender)
    assert page.locator("form.label").count() >= 10
    tab.screenshot("03-conversation-review")
    page.go_back()

    # reveal the ID number: shown once, audited
    with page.expect_navigation():
        page.click("#reveal-button")
    assert page.inner_text("#petitioner-id-number") == "11010519491231002X"
    assert page.inner_text("#petitioner-phone") == "13812345678"
    assert "已记入审计日志" in page.inner_text("#revealed-note")
    audit = page.inner_text("#case-audit")
    assert "查看完整证件号码和手机号码" in audit and ADMIN_USERNAME in audit
    tab.screenshot("04-revealed-and-audited")

    # accept: the citizen is told in their conversation
    notice = act(tab, "accept")
    assert "已受理" in notice and "已通知信访人" in notice, notice
    assert page.inner_text("#case-status") == "已受理，正在办理"
    told = wait_for_bot_text(stack, chat.sender, "【信访件办理进度】", case_no, "受理，正在办理")
    assert "办结并书面答复" in told and "第三十四条" in told

    # assign to the unit the assistant proposed (the proposal can be changed in the form)
    assert page.locator("#assign-unit").input_value() == "西湖区人力资源和社会保障局"
    notice = act(tab, "assign")
    assert "已交办" in notice and "已通知信访人" in notice, notice
    assert page.inner_text("#case-status") == "已交办责任单位"
    wait_for_bot_text(stack, chat.sender, "【信访件办理进度】", case_no, "已交由西湖区人力资源和社会保障局办理")
    assert "责任单位提出异议" in page.inner_text("#deadlines")

    # reply in writing
    notice = act(tab, "reply", {"#reply-input": REPLY})
    assert "已登记书面答复" in notice and "已通知信访人" in notice, notice
    assert page.inner_text("#case-status") == "已书面答复"
    assert page.inner_text("#reply-text") == REPLY
    told = wait_for_bot_text(stack, chat.sender, "【信访件办理进度】", case_no, REPLY)
    assert "第三十五条" in told and "复查" in told
    history = page.inner_text("#history")
    assert all(step in history for step in ("受理", "交办责任单位", "书面答复"))
    notifications = page.inner_text("#notifications")
    assert notifications.count("已送达") == 3
    tab.screenshot("05-replied")

    # the notifications were said by the assistant (trigger_intent → action_notify_case_update)
    said = [e for e in bot_events(stack, chat.sender) if (e.get("metadata") or {}).get("notification_id")]
    assert len(said) == 3

    # the chat's status lookup shows the same state
    chat.expect("查一下我的信访件", case_no, "已书面答复")
    assert tab.errors == []


def test_the_statistics_page_draws_its_charts(console_stack: Stack, tab: Browser) -> None:
    tab.login()
    tab.goto("/console/stats")
    page = tab.page
    page.wait_for_selector('#chart-channel[data-rendered="true"]')
    charts = page.locator(".chart[data-table]")
    assert charts.count() >= 8
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.get_attribute("data-rendered") == "true", chart.get_attribute("id")
        assert chart.locator("canvas").count() >= 1, chart.get_attribute("id")
    # the canvas really has pixels drawn on it (not a blank element)
    drawn = page.evaluate("""() => {
        const canvas = document.querySelector('#chart-channel canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
        return painted;
    }""")
    assert drawn > 1000
    summary = page.inner_text("#summary")
    assert "信访总量" in summary and "初信初访" in summary
    with page.expect_download() as download:
        page.click("#csv-channel")
    assert download.value.suggested_filename.startswith("xinfang-channel-")
    tab.screenshot("06-statistics")
    assert tab.errors == []

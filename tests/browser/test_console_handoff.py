"""Human handoff against the real stack: a citizen asks for a person, an officer takes the
conversation over in the console (the assistant pauses), sees the citizen's new messages
arrive, replies into the conversation, and hands it back (the assistant answers again)."""

from __future__ import annotations

import pytest

from bot.rules.conversation_ids import conversation_tag
from bot.settings.backoffice import DEV_HMAC_KEY
from tests.browser.conftest import Browser, bot_events, service_post
from tests.browser.test_console_workflow import wait_for_bot_text
from tests.support.chat import Chat
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_an_officer_takes_over_replies_and_hands_back(console_stack: Stack, tab: Browser) -> None:
    stack = console_stack
    chat = Chat(stack, "handoff")
    chat.expect("你好", "智能助手")
    # The assistant files the request when the citizen asks for a person (POST /api/v1/handoffs,
    # service token); the same call, idempotent while the request is open.
    status, body = service_post(stack, "/handoffs", {"conversation_id": chat.sender, "channel": "rest",
                                                     "reason": "信访人要求人工服务"})
    assert status == 201
    handoff_id = body["handoff"]["id"]
    assert service_post(stack, "/handoffs", {"conversation_id": chat.sender})[1]["handoff"]["id"] == handoff_id

    page = tab.page
    tab.login()
    tab.goto("/console/handoffs")
    row = page.locator(f'tr[data-conversation="{conversation_tag(DEV_HMAC_KEY, chat.sender)}"]')
    assert "等待人工接入" in row.inner_text()
    with page.expect_navigation():
        row.locator("a").click()

    # take over: the assistant is paused and the citizen greeted by a person
    with page.expect_navigation():
        page.click("#handoff-take")
    assert "已接入对话" in tab.flash()
    assert page.inner_text("#handoff-status") == "人工服务中"
    assert stack.tracker(chat.sender)["paused"] is True
    wait_for_bot_text(stack, chat.sender, "信访局工作人员已接入")

    # the citizen writes; the assistant stays quiet; the message appears in the console
    assert chat.say("我上个月反映的工资问题，现在怎么样了？") == ""
    page.wait_for_function(
        "() => document.querySelector('#live-transcript').innerText.includes('现在怎么样了')",
        timeout=20000,
    )
    tab.screenshot("07-handoff-live")

    # the officer's reply is delivered into the conversation, marked as the officer's
    page.fill("#handoff-text", "您好，我是信访局工作人员，您的事项正在办理，我帮您查一下进度。")
    with page.expect_navigation():
        page.click("#handoff-send")
    assert tab.flash() == "已发送。"
    [reply] = [e for e in bot_events(stack, chat.sender) if "我帮您查一下进度" in (e.get("text") or "")]
    assert reply["text"].startswith("【信访局工作人员】")
    assert reply["metadata"]["officer"] and reply["metadata"]["source"] == "staff"
    assert "我帮您查一下进度" in page.inner_text("#live-transcript")

    # hand back: resumed, the citizen is told, and the assistant answers again
    with page.expect_navigation():
        page.click("#handoff-release")
    assert "已交还智能助手" in tab.flash()
    assert stack.tracker(chat.sender)["paused"] is False
    wait_for_bot_text(stack, chat.sender, "智能助手将继续为您服务")
    assert chat.say("谢谢") != ""
    tab.screenshot("08-handoff-closed")
    assert tab.errors == []

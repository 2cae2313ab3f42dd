"""The citizen chat page at ``/`` in headless Chromium against the real processes: a petition
typed and clicked through to its case number (desktop), a reload in the middle of a
conversation on a phone-sized screen, and the session rules of the socket.io channel.

The stack of this module serves the page from the back office and socket.io from Rasa on
another port, with Rasa's CORS limited to the back office's origin, as in production.
Screenshots: test-artifacts/browser/webchat-*.png. Every request the page makes must stay on
127.0.0.1 (no CDN, no web fonts, nothing remote).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CASE_NO = re.compile(r"信访件编号：(XF\d{10})")
STORAGE_KEY = "xinfang-chat"


@pytest.fixture(scope="module")
def webchat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(name="browser-webchat", workdir=tmp_path_factory.mktemp("browser-webchat"), env={})
    running.cors = [running.backoffice_url]  # the page's origin only
    try:
        running.start()
        yield running
    finally:
        running.stop()


class ChatPage:
    """A citizen's browser tab on the chat page; records every request it makes."""

    def __init__(self, browser: Any, stack: Stack, **context: Any) -> None:
        self.stack = stack
        self.context = browser.new_context(locale="zh-CN", **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30000)
        self.urls: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.urls.append(request.url))
        self.page.on("websocket", lambda socket: self.urls.append(socket.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self) -> None:
        self.page.goto(self.stack.backoffice_url + "/")

    def start(self) -> None:
        self.page.click("#start-chat")
        self.expect(0, "智能助手")  # the greeting comes by itself

    def bot_count(self) -> int:
        return self.page.locator(".message--bot").count()

    def expect(self, after: int, fragment: str) -> str:
        """Wait for a message of the assistant, after the first ``after`` ones, containing
        ``fragment``; all the new messages' text."""
        self.page.wait_for_function(
            """([after, fragment]) => Array.from(document.querySelectorAll('.message--bot'))
                 .slice(after).some((m) => m.textContent.includes(fragment))""",
            arg=[after, fragment],
        )
        bubbles = self.page.locator(".message--bot .message__bubble").all_inner_texts()
        return "\n".join(bubbles[after:])

    def say(self, text: str, fragment: str) -> str:
        before = self.bot_count()
        self.page.fill("#message", text)
        self.page.press("#message", "Enter")
        return self.expect(before, fragment)

    def click(self, title: str, fragment: str) -> str:
        before = self.bot_count()
        self.page.locator(".quick-replies").get_by_role("button", name=title, exact=True).click()
        return self.expect(before, fragment)

    def session_id(self) -> str:
        return self.page.evaluate(f"JSON.parse(sessionStorage.getItem('{STORAGE_KEY}')).sessionId")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"webchat-{name}.png"), full_page=True)

    def assert_only_local_requests(self) -> None:
        remote = [u for u in self.urls if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"]
        assert self.urls and not remote, remote

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def desktop(browser: Any, webchat_stack: Stack) -> Iterator[ChatPage]:
    tab = ChatPage(browser, webchat_stack, viewport={"width": 1280, "height": 900})
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def phone(browser: Any, webchat_stack: Stack) -> Iterator[ChatPage]:
    tab = ChatPage(
        browser, webchat_stack, viewport={"width": 390, "height": 844}, device_scale_factor=2,
        is_mobile=True, has_touch=True,
    )
    try:
        yield tab
    finally:
        tab.close()


def case_of(stack: Stack, conversation_id: str) -> dict[str, Any]:
    status, body = stack.api_get(f"/cases?conversation_id={conversation_id}")
    assert status == 200, body
    [case] = body["cases"]
    return case


def test_a_citizen_files_a_petition_in_the_chat_page(desktop: ChatPage) -> None:
    page = desktop.page
    desktop.open()
    # the notice and the privacy link come before any chatting
    assert page.is_visible("#notice") and not page.is_visible("#chat")
    notice = page.inner_text("#notice")
    assert "个人信息" in notice and "征得您的同意" in notice and "杭州市西湖区信访局" in notice
    assert page.get_attribute("#privacy-link", "href") == "/privacy"
    desktop.screenshot("notice")

    desktop.start()
    desktop.say("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱", "是否同意")
    assert page.locator(".quick-reply").all_inner_texts() == ["同意", "不同意"]
    desktop.click("同意", "姓名")
    assert page.locator(".quick-reply").count() == 0  # used buttons go away
    desktop.say("张建国", "身份证号码")
    desktop.say("11010519491231002x", "手机号码")
    desktop.say("138 1234 5678", "住址")
    desktop.say("西湖区三墩镇振华路100号", "劳动和社会保障")
    desktop.click("是的，劳动和社会保障", "被反映对象")
    desktop.say("杭州某某建筑劳务公司的包工头", "诉求")
    desktop.say("要求把拖欠的三万二千元工资全部结清", "第一次反映")
    desktop.click("是，第一次反映", "多少人")
    summary = desktop.say("就我一个人", "请核对您的登记信息")
    assert "110105********002X" in summary
    desktop.screenshot("summary")
    filed = desktop.click("确认提交", "信访件编号")
    case_no = CASE_NO.search(filed).group(1)
    assert "查询码" in filed
    desktop.screenshot("filed")

    case = case_of(desktop.stack, desktop.session_id())
    assert case["case_no"] == case_no
    assert case["channel"] == "web"
    assert case["petitioner"]["name"] == "张建国"
    assert case["category"] == "劳动和社会保障"
    assert case["request"] == "要求把拖欠的三万二千元工资全部结清"

    # the statement the link leads to, built from the jurisdiction configuration
    page.goto(desktop.stack.backoffice_url + "/privacy")
    statement = page.inner_text("main")
    assert "个人信息处理者" in statement and "杭州市西湖区信访局" in statement
    assert "信访事项办结后保存5年" in statement and "敏感个人信息" in statement
    desktop.screenshot("privacy")

    desktop.assert_only_local_requests()
    assert desktop.errors == []


def test_a_reload_on_a_phone_continues_the_same_conversation(phone: ChatPage) -> None:
    page = phone.page
    phone.open()
    phone.start()
    phone.say("我要投诉小区物业乱收费，一个车位管理费一年收三千", "是否同意")
    phone.click("同意", "姓名")
    phone.say("陈志强", "身份证号码")
    session = phone.session_id()
    phone.screenshot("phone-before-reload")

    page.reload()
    # the page comes back in the conversation: no notice, the messages shown, same session
    page.wait_for_selector("#chat:not([hidden])")
    assert not page.is_visible("#notice")
    shown = page.inner_text("#messages")
    assert "陈志强" in shown and "身份证号码" in shown
    page.locator("#status", has_text="已连接").wait_for()
    assert phone.session_id() == session
    phone.screenshot("phone-after-reload")

    phone.say("11010519491231002X", "手机号码")  # the assistant remembers where we were
    phone.say("13712345678", "住址")
    shown = phone.say("西湖区翠苑街道文二路1号", "城乡建设")
    assert "先按您的住址记为「翠苑街道」" in shown  # the place taken from the address, said
    # the other side was named in the opening ("投诉小区物业"): not asked again
    phone.click("是的，城乡建设", "诉求")
    phone.say("要求物业按规定标准收取车位管理费", "第一次反映")
    phone.click("是，第一次反映", "多少人")
    phone.say("就我一个人", "请核对您的登记信息")
    filed = phone.click("确认提交", "信访件编号")
    phone.screenshot("phone-filed")

    case = case_of(phone.stack, session)
    assert case["case_no"] == CASE_NO.search(filed).group(1)
    assert case["petitioner"]["name"] == "陈志强"
    assert case["location"]["division"] == "翠苑街道"
    # one conversation: the greeting was not repeated after the reload
    tracker = phone.stack.tracker(session)
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"].count("/greet") == 1
    # the phone screen: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.assert_only_local_requests()
    assert phone.errors == []


def test_a_page_cannot_write_into_another_conversation(desktop: ChatPage) -> None:
    stack = desktop.stack
    victim = f"rest-victim-{uuid.uuid4().hex[:12]}"
    stack.say(victim, "你好")  # a conversation of another channel
    before = stack.tracker(victim)["events"]
    desktop.open()
    desktop.start()
    result = desktop.page.evaluate(
        """async ([url, victim]) => {
            const socket = io(url, {path: "/socket.io", transports: ["websocket"]});
            const confirmed = await new Promise((resolve) => {
                socket.on("session_confirm", resolve);
                socket.emit("session_request", {session_id: victim});
            });
            socket.emit("user_uttered", {message: "我要投诉", session_id: victim});
            await new Promise((resolve) => setTimeout(resolve, 3000));
            socket.disconnect();
            return confirmed;
        }""",
        [stack.rasa_url, victim],
    )
    assert re.fullmatch(r"[0-9a-f]{32}", result), result  # a session of its own
    assert stack.tracker(victim)["events"] == before  # nothing written into the victim's
    user_texts = [e["text"] for e in stack.tracker(result)["events"] if e["event"] == "user"]
    assert user_texts == ["我要投诉"]  # the message went to the page's own session

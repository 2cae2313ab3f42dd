"""The WeChat official account channel in a real Rasa server, driven as the WeChat server would
drive it: signed requests, safe mode (AES), retries after 5 seconds, the customer-service API
(a local fake), and a complete petition filed from simulated WeChat traffic."""

from __future__ import annotations

import re
import time

import pytest

from tests.channels.conftest import PRIVACY_URL, WeChatStack
from tests.channels.wechat_support import (
    ACCOUNT,
    event_message,
    image_message,
    new_openid,
    next_msg_id,
    text_message,
    voice_message,
)

pytestmark = pytest.mark.e2e

WECHAT_TEXT_LIMIT = 2048  # bytes
CHOICE = re.compile(r"^(\d+)\. (.+)$", re.M)


class Follower:
    """A citizen following the official account; what they read after each message."""

    def __init__(self, env: WeChatStack, tag: str = "") -> None:
        self.env = env
        self.openid = new_openid(tag)
        self.sender = f"wechat-{self.openid}"
        self.delivered = 0  # customer-service messages already read
        self.transcript: list[tuple[str, str]] = []

    def say(self, content: str, *fragments: str, encrypted: bool | None = None) -> str:
        answer = self.env.wechat.post(text_message(self.openid, content, next_msg_id()), encrypted=encrypted)
        assert answer.status == 200, answer
        assert answer.seconds < 5, f"WeChat gives up after 5 s: {answer.seconds:.1f} s"
        if answer.reply is not None:
            assert (answer.reply["ToUserName"], answer.reply["FromUserName"]) == (self.openid, ACCOUNT)
            reply = answer.text
        else:  # not ready in time, or too long for one reply: customer-service messages
            sent = self.env.api.wait_for(self.openid, self.delivered + 1)
            time.sleep(0.5)  # the rest of a split answer follows at once
            sent = self.env.api.sent_to(self.openid)
            reply = "\n\n".join(sent[self.delivered :])
            self.delivered = len(sent)
        assert len(reply.encode("utf-8")) <= WECHAT_TEXT_LIMIT or answer.reply is None
        self.transcript.append((content, reply))
        missing = [f for f in fragments if f not in reply]
        assert not missing, f"missing {missing} in the reply to {content!r}:\n{self.show()}"
        return reply

    def choose(self, title: str, *fragments: str) -> str:
        """Reply with the number of the choice whose title contains ``title``."""
        choices = dict((t, n) for n, t in CHOICE.findall(self.transcript[-1][1]))
        numbers = [n for t, n in choices.items() if title in t]
        assert numbers, f"no choice {title!r} in {choices}\n{self.show()}"
        return self.say(numbers[0], *fragments)

    def user_texts(self) -> list[str]:
        return [e["text"] for e in self.env.stack.tracker(self.sender)["events"] if e["event"] == "user"]

    def show(self) -> str:
        return "\n".join(f"  citizen: {u}\n  bot: {b}" for u, b in self.transcript)


# --- server URL verification and request checks -------------------------------------------------
def test_url_verification_echoes_echostr_only_with_a_valid_signature(wechat_stack: WeChatStack) -> None:
    assert wechat_stack.wechat.verify("4471918350227393123") == (200, "4471918350227393123")
    status, body = wechat_stack.wechat.verify("4471918350227393123", signature="0" * 40)
    assert status == 403 and "4471918350227393123" not in body


def test_forged_and_malformed_requests_are_refused_and_not_processed(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    xml = text_message(follower.openid, "你好", next_msg_id())

    def wrong_signature(query: dict[str, str]) -> None:
        query["signature"] = "0" * 40

    def wrong_msg_signature(query: dict[str, str]) -> None:
        query["msg_signature"] = "0" * 40

    assert wechat_stack.wechat.post(xml, tamper=wrong_signature).status == 403
    assert wechat_stack.wechat.post(xml, encrypted=True, tamper=wrong_msg_signature).status == 403
    assert wechat_stack.wechat.post("<xml><oops", encrypted=False).status == 400
    assert follower.user_texts() == []


# --- passive replies ------------------------------------------------------------------------------
def test_plaintext_message_is_answered_passively(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    answer = wechat_stack.wechat.post(text_message(follower.openid, "你好", next_msg_id()))
    assert answer.status == 200 and answer.seconds < 5
    assert answer.reply is not None, answer
    assert answer.reply["MsgType"] == "text"
    assert (answer.reply["ToUserName"], answer.reply["FromUserName"]) == (follower.openid, ACCOUNT)
    assert "智能助手" in answer.text and "登记信访事项" in answer.text
    assert follower.user_texts() == ["你好"]
    assert wechat_stack.api.sent_to(follower.openid) == []


def test_safe_mode_message_is_decrypted_and_the_reply_encrypted(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    answer = wechat_stack.wechat.post(text_message(follower.openid, "你好", next_msg_id()), encrypted=True)
    assert answer.status == 200 and answer.reply is not None, answer
    assert "<Encrypt>" in answer.body and "智能助手" not in answer.body  # nothing readable on the wire
    assert "智能助手" in answer.text
    assert answer.reply["ToUserName"] == follower.openid
    assert follower.user_texts() == ["你好"]


def test_a_retried_message_is_processed_once_and_gets_the_same_reply(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    xml = text_message(follower.openid, "你好", next_msg_id())
    first = wechat_stack.wechat.post(xml)
    again = [wechat_stack.wechat.post(xml) for _ in range(3)]  # WeChat's 3 retries
    assert first.reply is not None
    assert [a.text for a in again] == [first.text] * 3
    assert follower.user_texts() == ["你好"]
    assert wechat_stack.api.sent_to(follower.openid) == []


# --- the 5-second limit -----------------------------------------------------------------------------
def test_slow_answer_success_at_once_then_one_customer_service_message(wechat_stack: WeChatStack) -> None:
    api = wechat_stack.api
    follower = Follower(wechat_stack, "slow")  # the proxy delays this conversation's actions by 5 s
    xml = text_message(follower.openid, "你好", next_msg_id())
    first = wechat_stack.wechat.post(xml)
    assert first.is_success, first
    assert 3.5 < first.seconds < 5, first.seconds  # waited for the answer, then gave up in time
    # WeChat retries the same message (after 5, 10 and 15 s; here at once): handled once.
    retries = [wechat_stack.wechat.post(xml) for _ in range(3)]
    assert all(r.is_success and r.seconds < 2.5 for r in retries), retries
    [delivered] = api.wait_for(follower.openid, 1, timeout=40)
    assert "智能助手" in delivered
    time.sleep(2)
    assert api.sent_to(follower.openid) == [delivered]  # one delivery
    assert follower.user_texts() == ["你好"]  # one conversation turn


def test_an_invalidated_access_token_is_renewed_once(wechat_stack: WeChatStack) -> None:
    api = wechat_stack.api
    follower = Follower(wechat_stack, "slow")
    first = wechat_stack.wechat.post(text_message(follower.openid, "你好", next_msg_id()))
    assert first.is_success
    api.wait_for(follower.openid, 1, timeout=40)
    tokens_before = api.token_requests
    api.invalidate_tokens()  # e.g. another system fetched a new token
    # another slow answer (the greeting is a custom action, delayed by the proxy)
    assert wechat_stack.wechat.post(text_message(follower.openid, "您好", next_msg_id())).is_success
    second = api.wait_for(follower.openid, 2, timeout=40)[1]
    assert "智能助手" in second
    assert api.token_requests == tokens_before + 1
    assert 40001 in api.refused


# --- message types ---------------------------------------------------------------------------------
def test_subscribe_welcomes_with_the_personal_information_notice(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    xml = event_message(follower.openid, "subscribe", int(time.time()))
    answer = wechat_stack.wechat.post(xml, encrypted=True)
    assert answer.reply is not None, answer
    assert "智能助手" in answer.text  # the greeting, through the normal pipeline
    assert "个人信息" in answer.text and "征得您的同意" in answer.text
    assert PRIVACY_URL in answer.text and "杭州市西湖区信访局" in answer.text
    assert wechat_stack.wechat.post(xml, encrypted=True).text == answer.text  # a retry
    assert follower.user_texts() == ["/greet"]


def test_voice_message_is_handled_as_its_recognised_text(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    answer = wechat_stack.wechat.post(voice_message(follower.openid, "你好。", next_msg_id()))
    assert "智能助手" in answer.text
    unheard = wechat_stack.wechat.post(voice_message(follower.openid, "", next_msg_id()))
    assert "没有听清" in unheard.text
    assert follower.user_texts() == ["你好。"]


def test_an_image_gets_a_polite_note_on_what_is_supported(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    answer = wechat_stack.wechat.post(image_message(follower.openid, next_msg_id()))
    assert "只能处理文字消息和语音消息" in answer.text and "请用文字" in answer.text
    assert follower.user_texts() == []


# --- a complete petition ------------------------------------------------------------------------------
def test_a_full_petition_filed_over_wechat_with_numbered_choices(wechat_stack: WeChatStack) -> None:
    follower = Follower(wechat_stack)
    consent = follower.say(
        "我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱",
        "是否同意",
        encrypted=True,
    )
    assert "回复数字即可选择：\n1. 同意\n2. 不同意" in consent
    follower.say("9", "同意")  # not a choice offered: read as text, the question stays
    follower.say("1", "姓名")  # the number of 同意
    assert follower.user_texts()[-1] == "/affirm"  # the button's payload reached the assistant
    follower.say("张建国", "身份证号码")
    follower.say("11010519491231002x", "手机号码", encrypted=True)
    follower.say("138 1234 5678", "住址")
    follower.say("西湖区三墩镇振华路100号", "劳动和社会保障")
    follower.choose("劳动和社会保障", "被反映对象")
    follower.say("杭州某某建筑劳务公司的包工头", "诉求")
    follower.say("要求把拖欠的三万二千元工资全部结清", "第一次反映")
    follower.choose("第一次", "多少人")
    summary = follower.say("就我一个人", "请核对您的登记信息", "110105********002X")
    assert "确认提交" in summary
    filed = follower.choose("确认提交", "信访件编号")
    case_no = re.search(r"信访件编号：(XF\d{10})", filed).group(1)

    status, body = wechat_stack.stack.api_get(f"/cases?conversation_id={follower.sender}")
    assert status == 200, body
    [case] = body["cases"]
    assert case["case_no"] == case_no
    assert case["channel"] == "wechat"
    assert case["conversation_id"] == follower.sender
    assert case["petitioner"]["name"] == "张建国"
    assert case["petitioner"]["phone"] == "138****5678"
    assert case["category"] == "劳动和社会保障"
    assert case["is_repeat"] is False and case["group_size"] == 1
    # nothing handled twice: every message of the citizen is one turn
    assert len(follower.user_texts()) == len(follower.transcript)


def test_messages_triggered_later_reach_the_follower_through_the_api(wechat_stack: WeChatStack) -> None:
    """The back office notifies citizens (case updates, staff replies) through Rasa's API with
    ``output_channel=latest``: for a WeChat conversation that is a customer-service message."""
    import json
    import urllib.request

    stack = wechat_stack.stack
    follower = Follower(wechat_stack)
    follower.say("你好", "智能助手")
    request = urllib.request.Request(
        f"{stack.rasa_url}/conversations/{follower.sender}/trigger_intent"
        f"?output_channel=latest&token={stack.rasa_token}",
        data=json.dumps({"name": "greet"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    [pushed] = wechat_stack.api.wait_for(follower.openid, 1)
    assert "智能助手" in pushed

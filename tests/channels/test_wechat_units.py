"""The WeChat channel's parts that need no Rasa server: text rendering and splitting, numbered
choices, retry bookkeeping, and the customer-service API client against the local fake API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
import xmltodict
from wechatpy.replies import TextReply

from connectors import wechat_api
from connectors.wechat_api import CustomerServiceApi, api_root
from connectors.wechat_state import PROCESSING, REPLIED, MemoryState, Record
from connectors.wechat_text import Choice, choice_of, render_turn, split_text, utf8_len, xml_safe
from tests.channels.wechat_support import APP_ID, APP_SECRET, FakeWeChatApi, new_openid
from tests.support.stack import free_port


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


# --- splitting ------------------------------------------------------------------------------
def test_a_short_text_is_one_message() -> None:
    assert split_text("您好！\n请问您的姓名？") == ["您好！\n请问您的姓名？"]
    assert split_text("  \n ") == []


def test_paragraphs_are_kept_together_while_they_fit() -> None:
    paragraphs = ["甲" * 300, "乙" * 300, "丙" * 300]  # 900 bytes each
    parts = split_text("\n\n".join(paragraphs), 2000)
    assert parts == ["甲" * 300 + "\n\n" + "乙" * 300, "丙" * 300]


def test_a_long_line_is_cut_after_a_sentence_and_nothing_is_lost() -> None:
    sentence = "我在三墩那边的工地干了半年活，老板一直拖着工资不给。"  # 26 characters, 78 bytes
    text = "事情经过：" + sentence * 40  # one line of 3 kB
    parts = split_text(text, 2000)
    assert len(parts) == 2
    assert all(utf8_len(part) <= 2000 for part in parts)
    assert parts[0].endswith("。")
    assert squeeze("".join(parts)) == squeeze(text)


def test_text_without_any_good_place_is_cut_between_characters() -> None:
    text = "字" * 1000  # 3000 bytes, no punctuation
    parts = split_text(text, 2000)
    assert [utf8_len(p) for p in parts] == [1998, 1002]
    assert "".join(parts) == text


# --- rendering a turn -------------------------------------------------------------------------
def test_buttons_become_numbered_choices() -> None:
    turn = render_turn(
        [
            {"text": "好的，我来帮您登记这件事。"},
            {
                "text": "您是否同意我们按上述说明处理您的个人信息？",
                "buttons": [{"title": "同意", "payload": "/affirm"}, {"title": "不同意", "payload": "/deny"}],
            },
        ]
    )
    assert turn.texts == [
        "好的，我来帮您登记这件事。\n\n您是否同意我们按上述说明处理您的个人信息？\n\n"
        "回复数字即可选择：\n1. 同意\n2. 不同意"
    ]
    assert turn.choices == [Choice("同意", "/affirm"), Choice("不同意", "/deny")]
    assert turn.fits_one_reply


def test_only_the_last_buttons_are_numbered() -> None:
    turn = render_turn(
        [
            {"text": "要取消吗？", "buttons": [{"title": "确定取消", "payload": "/affirm"}]},
            {"text": "这件事您是第一次反映吗？", "buttons": [{"title": "是", "payload": "/affirm"},
                                                 {"title": "之前反映过", "payload": "/deny"}]},
        ]
    )
    assert "· 确定取消" in turn.texts[0]
    assert "1. 是\n2. 之前反映过" in turn.texts[0]
    assert [c.payload for c in turn.choices] == ["/affirm", "/deny"]


def test_a_turn_without_buttons_offers_no_choices() -> None:
    turn = render_turn([{"text": "请问您的姓名？"}])
    assert turn.choices == [] and turn.texts == ["请问您的姓名？"]
    assert render_turn([]).texts == []


def test_a_long_turn_is_split_and_keeps_its_choices_at_the_end() -> None:
    summary = "请核对您的登记信息：\n" + "\n".join(f"事实经过第{i}段：" + "工资一直拖欠没有发放。" * 8 for i in range(12))
    turn = render_turn([{"text": summary, "buttons": [{"title": "确认提交", "payload": "/affirm"}]}], 2000)
    assert len(turn.texts) >= 2 and not turn.fits_one_reply
    assert all(utf8_len(text) <= 2000 for text in turn.texts)
    assert turn.texts[-1].endswith("1. 确认提交")
    assert squeeze("".join(turn.texts)) == squeeze(summary + "回复数字即可选择：1.确认提交")


@pytest.mark.parametrize(
    ("answer", "payload"),
    [("1", "/affirm"), ("２", "/deny"), (" 2 ", "/deny"), ("2.", "/deny"), ("第1项", "/affirm"), ("1。", "/affirm")],
)
def test_a_number_selects_its_choice(answer: str, payload: str) -> None:
    choices = [Choice("同意", "/affirm"), Choice("不同意", "/deny")]
    assert choice_of(answer, choices) == payload


@pytest.mark.parametrize("answer", ["3", "0", "1个人", "13812345678", "同意", "12"])
def test_other_answers_are_not_choices(answer: str) -> None:
    assert choice_of(answer, [Choice("同意", "/affirm"), Choice("不同意", "/deny")]) is None


def test_no_choices_no_mapping() -> None:
    assert choice_of("1", []) is None


def test_xml_safe_text_survives_a_passive_reply() -> None:
    tricky = "事实：]]></Content><MsgType>image</MsgType>\x07结束"
    reply = TextReply(source="gh_x", target="openid", content=xml_safe(tricky)).render()
    parsed = xmltodict.parse(reply)["xml"]
    assert parsed["Content"] == tricky.replace("\x07", "")
    assert parsed["MsgType"] == "text"


# --- retries and remembered choices ----------------------------------------------------------------
async def test_a_message_is_claimed_once() -> None:
    state = MemoryState(message_ttl=60, choices_ttl=60)
    assert await state.claim("id:1") is None
    assert await state.claim("id:1") == Record(PROCESSING)
    await state.update("id:1", Record(REPLIED, "您好"))
    assert await state.claim("id:1") == Record(REPLIED, "您好")
    assert await state.claim("id:2") is None


async def test_claims_and_choices_expire() -> None:
    state = MemoryState(message_ttl=0.05, choices_ttl=0.05)
    await state.claim("id:1")
    await state.set_choices("wechat-o1", [Choice("同意", "/affirm")])
    assert await state.get_choices("wechat-o1") == [Choice("同意", "/affirm")]
    await asyncio.sleep(0.1)
    assert await state.claim("id:1") is None
    assert await state.get_choices("wechat-o1") == []


async def test_choices_are_replaced_and_cleared_per_citizen() -> None:
    state = MemoryState(message_ttl=60, choices_ttl=60)
    await state.set_choices("wechat-a", [Choice("同意", "/affirm")])
    await state.set_choices("wechat-b", [Choice("修改", "/deny")])
    await state.set_choices("wechat-a", [])
    assert await state.get_choices("wechat-a") == []
    assert await state.get_choices("wechat-b") == [Choice("修改", "/deny")]


def test_state_is_bounded() -> None:
    async def fill() -> MemoryState:
        state = MemoryState(message_ttl=60, choices_ttl=60, max_entries=3)
        for n in range(5):
            await state.claim(f"id:{n}")
        return state

    state = asyncio.run(fill())
    assert len(state._messages._data) == 3


# --- customer-service API client ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWeChatApi]:
    api = FakeWeChatApi().start()
    try:
        yield api
    finally:
        api.stop()


def client_of(api: FakeWeChatApi, **overrides: str) -> CustomerServiceApi:
    options = {"app_id": APP_ID, "app_secret": APP_SECRET, "base_url": api.url}
    options.update(overrides)
    return CustomerServiceApi(options["app_id"], options["app_secret"], options["base_url"], timeout=5)


def test_api_root_accepts_the_base_with_or_without_cgi_bin() -> None:
    assert api_root("https://api.weixin.qq.com") == "https://api.weixin.qq.com/cgi-bin/"
    assert api_root("http://127.0.0.1:8/cgi-bin/") == "http://127.0.0.1:8/cgi-bin/"


async def test_messages_are_sent_in_order_with_one_cached_token(fake_api: FakeWeChatApi) -> None:
    client = client_of(fake_api)
    openid = new_openid()
    before = fake_api.token_requests
    assert await client.send_texts(openid, ["第一条", "第二条"])
    assert await client.send_texts(openid, ["第三条"])
    assert fake_api.sent_to(openid) == ["第一条", "第二条", "第三条"]
    assert fake_api.token_requests == before + 1
    client.close()


async def test_an_invalid_token_is_renewed_once_and_the_message_sent(fake_api: FakeWeChatApi) -> None:
    client = client_of(fake_api, base_url=fake_api.url + "/cgi-bin")
    openid = new_openid()
    assert await client.send_texts(openid, ["你好"])
    before = fake_api.token_requests
    fake_api.invalidate_tokens()
    assert await client.send_texts(openid, ["再见"])
    assert fake_api.sent_to(openid) == ["你好", "再见"]
    assert fake_api.token_requests == before + 1
    client.close()


async def test_wrong_credentials_fail_without_raising(fake_api: FakeWeChatApi) -> None:
    client = client_of(fake_api, app_secret="wrong")
    openid = new_openid()
    assert await client.send_texts(openid, ["你好"]) is False
    assert fake_api.sent_to(openid) == []
    client.close()


async def test_an_unreachable_api_is_tried_a_few_times_then_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wechat_api, "PAUSE_SECONDS", 0.01)
    client = CustomerServiceApi(APP_ID, APP_SECRET, f"http://127.0.0.1:{free_port()}", timeout=2)
    assert await client.send_texts(new_openid(), ["你好"]) is False
    client.close()

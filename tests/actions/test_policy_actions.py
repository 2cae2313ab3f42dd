"""Policy answers and lawful procedures, action by action: what the citizen reads.

Emergencies first (110/119/120), matters for other procedures explained with the article and
the offer to file anyway, visits over levels, 第26条 warnings, 属地管理, clarification with
choices then the hotline, small talk, the agency facts of the FAQ answers, and the human
handoff against the real back office.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.procedures import (
    ActionExplainProcedure,
    ActionExplainJurisdiction,
    ActionExplainVisit,
    ActionWarnProhibited,
)
from actions.clarify import ActionClarify
from actions.common import is_answer_to
from actions.handoff import ActionRequestHuman
from actions.intake import ActionStartIntake
from actions.safety import ActionHandleEmergency
from actions.session import ActionSessionStart
from actions.smalltalk import ActionSmalltalk
from bot.rules.jurisdiction import load_jurisdiction
from tests.actions.conftest import buttons_of, make_tracker, slot_events, texts_of
from tests.conftest import SERVICE_TOKEN
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
FILE = "/file_petition"


def turn(text: str, intent: str, actions: list[str] | None = None) -> list[dict[str, Any]]:
    """The events of one citizen message and the bot actions that answered it."""
    events: list[dict[str, Any]] = [
        {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.9}}}
    ]
    events += [{"event": "action", "name": name} for name in actions or []]
    return events + [{"event": "action", "name": "action_listen"}]


def tracker_after(domain, history: list[dict[str, Any]], text: str, intent: str, **kwargs: Any):
    """A tracker whose latest message ``text`` follows the earlier turns ``history``."""
    tracker = make_tracker(domain, text=text, intent=intent, **kwargs)
    tracker.events = history + tracker.events
    return tracker


def followups(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


async def run(action, domain, text: str, intent: str, **kwargs: Any) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    history = kwargs.pop("history", [])
    tracker = tracker_after(domain, history, text, intent, **kwargs)
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


# --- the form: what counts as an answer -----------------------------------------------------
@pytest.mark.parametrize(
    ("slot", "text", "intent", "answer"),
    [
        # emergency words: never an answer, whatever the classifier and however long
        ("facts", "老板欠了我们三个月工资一直不给，我现在就站在楼顶上，你们再不管我就跳下去", "inform", False),
        ("petitioner_name", "救命", "inform", False),
        ("request", "着火了", "emergency", False),
        ("request", "我爸晕倒了叫不醒", "file_petition", False),
        # a matter for another procedure IS the story when the story is asked for ...
        ("facts", "法院判了对方不执行", "procedure_litigation", True),
        ("respondent", "村支书贪污", "procedure_discipline", True),
        ("place", "问题在余杭那边", "ask_jurisdiction", True),
        ("respondent", "那个王八蛋老板", "insult", True),
        # ... and an interruption anywhere else
        ("petitioner_name", "法院判了我不服", "procedure_litigation", False),
        ("phone", "你是机器人吗", "bot_identity", False),
        ("facts", "我要去北京上访", "prohibited_action", False),
        # a person is asked for, even in a long message
        ("facts", "你们这个机器人根本听不懂我说的话，我要人工，找个真人来跟我说清楚这件事情到底怎么办", "request_human", False),
        # the classifier alone is not trusted with low confidence
        ("petitioner_name", "张建国", "inform", True),
    ],
)
def test_what_the_form_takes_as_an_answer(domain, slot, text, intent, answer) -> None:
    tracker = make_tracker(domain, text=text, intent=intent, requested_slot=slot)
    assert is_answer_to(tracker, slot) is answer


def test_a_repeated_answer_after_a_false_alarm_is_taken(domain) -> None:
    story = "我老婆生孩子时大出血，医院处置太晚了，我们想要个说法"
    history = turn(story, "inform", ["action_handle_emergency", "petition_form", "action_ask_facts"])
    assert is_answer_to(make_tracker(domain, text=story, intent="inform", requested_slot="facts"), "facts") is False
    repeated = tracker_after(domain, history, story, "inform", requested_slot="facts")
    assert is_answer_to(repeated, "facts") is True
    # a new message with danger words still interrupts
    other = tracker_after(domain, history, "他现在拿着刀在门口", "inform", requested_slot="facts")
    assert is_answer_to(other, "facts") is False


# --- emergencies ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("我现在就在楼顶，不给钱我就跳下去", "请立即拨打110或120"),
        ("他拿着刀在小区里追人", "请立即拨打110"),
        ("楼下着火了", "请立即拨打119"),
        ("我爸突然晕倒了", "请立即拨打120"),
        ("路口两辆车撞了", "请立即拨打122"),
        ("刚才路口出车祸了，有人被撞倒在地上流血", "请立即拨打120急救，同时拨打122"),
        ("快来人", "如果有人正面临危险，请立即拨打110"),  # the classifier's word alone
    ],
)
async def test_the_emergency_number_comes_first(domain, text, first) -> None:
    dispatcher, events = await run(ActionHandleEmergency(), domain, text, "emergency", active_loop=None)
    reply = texts_of(dispatcher)
    assert reply.startswith(first), reply
    assert all(n in reply for n in ("110", "119", "120", "122"))
    assert "有需要反映的问题可以随时告诉我" in reply
    assert events == []


async def test_an_emergency_during_the_petition_keeps_the_answers(domain) -> None:
    dispatcher, _ = await run(ActionHandleEmergency(), domain, "我不想活了", "inform", requested_slot="facts")
    reply = texts_of(dispatcher)
    assert reply.startswith("请立即拨打110或120") and "12356" in reply
    assert "登记信息都保留着" in reply


async def test_nothing_is_said_without_emergency_words(domain) -> None:
    dispatcher, events = await run(ActionHandleEmergency(), domain, "三墩", "inform", requested_slot="place")
    assert dispatcher.messages == [] and events == []


# --- matters for other procedures -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "intent", "fragments"),
    [
        ("法院判了我不服", "procedure_litigation", ("第二十二条", "第三十一条", "诉访分离", "上诉", "15日内", "再审", "检察院")),
        ("对方不执行判决", "procedure_litigation", ("申请强制执行", "2年", "执行监督")),
        ("报警好几个月了派出所一直不立案", "procedure_litigation", ("不予立案", "复议", "立案监督")),
        ("公司不给工资我去仲裁了", "procedure_arbitration", ("第三十一条", "劳动人事争议仲裁委员会", "1年", "15日内")),
        ("城管罚了我五千块，我觉得不合理", "procedure_admin_review", ("行政复议", "60日内", "行政诉讼", "6个月")),
        ("村支书贪污", "procedure_discipline", ("纪检监察", "12388", "第三十条", "西湖区纪委区监委", "第十九条")),
        ("路灯坏了", "procedure_service", ("12345", "第三十四条", "为您登记")),
    ],
)
async def test_a_matter_for_another_channel_is_explained_and_can_still_be_filed(domain, text, intent, fragments):
    dispatcher, events = await run(ActionExplainProcedure(), domain, text, intent, active_loop=None)
    reply = texts_of(dispatcher)
    for fragment in fragments:
        assert fragment in reply, (fragment, reply)
    assert buttons_of(dispatcher) == {"仍要登记": FILE, "不用了，谢谢": "/deny"}
    assert events == []


async def test_the_words_decide_between_neighbouring_channels(domain) -> None:
    # the classifier said litigation; the words say arbitration
    dispatcher, _ = await run(ActionExplainProcedure(), domain, "仲裁裁决公司不执行", "procedure_litigation", active_loop=None)
    assert "劳动人事争议仲裁委员会" in texts_of(dispatcher)


async def test_during_the_petition_the_explanation_continues_the_form(domain) -> None:
    dispatcher, _ = await run(ActionExplainProcedure(), domain, "法院判了我不服", "procedure_litigation", requested_slot="phone")
    assert "接着填写" in texts_of(dispatcher)
    assert buttons_of(dispatcher) == {}


async def test_a_button_explains_the_message_before_it(domain) -> None:
    history = turn("我朋友借钱不还，判决下来了也不执行", "nlu_fallback", ["action_clarify"])
    dispatcher, _ = await run(
        ActionExplainProcedure(), domain, "/procedure_litigation", "procedure_litigation", history=history, active_loop=None
    )
    assert "申请强制执行" in texts_of(dispatcher)


async def test_emergency_words_come_before_the_explanation(domain) -> None:
    dispatcher, _ = await run(
        ActionExplainProcedure(), domain, "法院判了我不服，我不想活了", "procedure_litigation", active_loop=None
    )
    first, second = (m["text"] for m in dispatcher.messages)
    assert first.startswith("请立即拨打110") and "上诉" in second


# --- a petition that is not one ---------------------------------------------------------------
async def test_a_petition_for_another_channel_is_explained_not_filed(domain) -> None:
    dispatcher, events = await run(
        ActionStartIntake(), domain, "法院判了对方赔我钱，判决书下来一年了对方一分没给", "file_petition", active_loop=None
    )
    assert "申请强制执行" in texts_of(dispatcher)
    assert buttons_of(dispatcher)["仍要登记"] == FILE
    assert followups(events) == ["action_listen"]  # the form is not started
    assert slot_events(events).get("facts") is None


async def test_filing_anyway_takes_the_description_that_was_explained(domain) -> None:
    story = "法院判了对方赔我钱，判决书下来一年了对方一分没给"
    history = turn(story, "file_petition", ["action_start_intake"])
    dispatcher, events = await run(ActionStartIntake(), domain, FILE, "file_petition", history=history, active_loop=None)
    assert dispatcher.messages == []
    assert followups(events) == []
    slots = slot_events(events)
    assert slots["facts"] == story and slots["category_guess"] == "涉法涉诉"


async def test_an_ordinary_petition_starts_with_emergency_numbers_when_needed(domain) -> None:
    dispatcher, events = await run(
        ActionStartIntake(), domain, "老板欠我工资三个月不给，我现在就在楼顶上，再不给我就跳下去", "file_petition", active_loop=None
    )
    assert texts_of(dispatcher).startswith("请立即拨打110")
    assert followups(events) == []  # the petition goes on
    assert slot_events(events)["category_guess"] == "劳动和社会保障"


async def test_an_ordinary_petition_is_not_diverted(domain) -> None:
    dispatcher, events = await run(
        ActionStartIntake(), domain, "我在三墩那边的工地干了半年活，老板一直拖着工资不给", "file_petition", active_loop=None
    )
    assert dispatcher.messages == []
    assert slot_events(events)["place"] == "三墩镇"


# --- visits, 第26条, 属地管理 -------------------------------------------------------------------
async def test_going_to_beijing(domain) -> None:
    dispatcher, _ = await run(ActionExplainVisit(), domain, "我要去北京上访", "visit_escalation", active_loop=None)
    reply = texts_of(dispatcher)
    for fragment in ("第二十条", "本级或者上一级", "逐级走访", "第十九条", "不予受理", "不超过5人", "杭州市西湖区信访局", "杭州市"):
        assert fragment in reply, fragment
    assert buttons_of(dispatcher)["在这里反映"] == FILE


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("我们明天去区政府门口拉横幅堵门", "非法聚集，围堵、冲击机关"),
        ("不解决就睡在信访局不走了", "在信访接待场所滞留、滋事"),
        ("大家凑点钱，雇几个人去上访", "以财物诱使"),
    ],
)
async def test_a_calm_warning_and_the_lawful_way(domain, text, item) -> None:
    dispatcher, _ = await run(ActionWarnProhibited(), domain, text, "prohibited_action", active_loop=None)
    reply = texts_of(dispatcher)
    for fragment in ("理解您着急的心情", "第二十六条", item, "第四十七条", "合法的方式", "不超过5名代表", "0571-01234567"):
        assert fragment in reply, fragment
    assert "请立即拨打" not in reply
    assert set(buttons_of(dispatcher).values()) == {FILE, "/request_human"}


async def test_a_threat_of_harm_gets_the_emergency_numbers_first(domain) -> None:
    dispatcher, _ = await run(ActionWarnProhibited(), domain, "不给钱就带一桶汽油去区政府门口", "prohibited_action", active_loop=None)
    first, second = (m["text"] for m in dispatcher.messages)
    assert first.startswith("请立即拨打110") and "携带危险物品、管制器具" in second


@pytest.mark.parametrize(
    ("text", "fragments", "buttons"),
    [
        ("我是余杭的，这事能在你们这反映吗", ("杭州市余杭区", "杭州市余杭区信访局", "第五条", "请您直接向杭州市余杭区信访局反映"), 2),
        ("事情在宁波市海曙区", ("宁波市当地的县（市、区）信访部门",), 2),
        ("三墩的事归你们管吗", ("三墩镇属于杭州市西湖区",), 1),
        ("你们管哪些地方的事", ("北山街道", "双浦镇", "第五条"), 0),
    ],
)
async def test_which_area_is_responsible(domain, text, fragments, buttons) -> None:
    dispatcher, _ = await run(ActionExplainJurisdiction(), domain, text, "ask_jurisdiction", active_loop=None)
    reply = texts_of(dispatcher)
    for fragment in fragments:
        assert fragment in reply, (fragment, reply)
    assert len(buttons_of(dispatcher)) == buttons
    # another district's matter: where to go, not a promise to forward it (第二十二条)
    assert "转送" not in reply, reply


# --- clarification --------------------------------------------------------------------------
def parse_with(ranking: list[tuple[str, float]], faq: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "response_selector": {"faq": {"ranking": [{"intent_response_key": f"faq/{k}", "confidence": c} for k, c in faq]}},
    }


def training_examples() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" in block:
                found.setdefault(block["intent"], set()).update(
                    line.strip()[2:] for line in block["examples"].splitlines() if line.strip()
                )
    return found


async def test_uncertain_understanding_offers_the_likely_questions(domain) -> None:
    tracker = make_tracker(domain, text="复那个怎么弄", intent="nlu_fallback", active_loop=None)
    tracker.latest_message.update(
        parse_with([("nlu_fallback", 0.45), ("faq", 0.4), ("query_status", 0.3), ("greet", 0.2)],
                   [("review", 0.6), ("recheck", 0.35), ("channels", 0.05)])
    )
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker, domain)
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "查询信访件的办理进度", "不满意处理结果怎么办（复查）", "对复查意见不服怎么办（复核）", "都不是"
    ]
    examples = training_examples()
    assert buttons[1]["payload"] in examples["faq/review"]  # a question the model knows for certain
    assert buttons[0]["payload"] == "/query_status" and buttons[-1]["payload"] == "/nlu_fallback"


async def test_words_of_another_procedure_decide_when_the_classifier_cannot(domain) -> None:
    """Uncertain between a petition and 纪检监察: the precise phrase (a village secretary's
    embezzlement) gets the 纪检监察 explanation, not a choice of questions."""
    tracker = make_tracker(domain, text="我们村支书贪污了修路的钱，村民都知道", intent="nlu_fallback",
                           active_loop=None)
    tracker.latest_message.update(
        parse_with([("nlu_fallback", 0.45), ("file_petition", 0.44), ("procedure_discipline", 0.41)], [])
    )
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker, domain)
    reply = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    assert "12388" in reply and "纪检监察" in reply and "第三十条" in reply
    assert "您是想问下面哪一个" not in reply


async def test_then_a_plain_fallback_with_the_hotline(domain) -> None:
    history = turn("复那个怎么弄", "nlu_fallback", ["action_clarify"])
    tracker = tracker_after(domain, history, "/nlu_fallback", "nlu_fallback", active_loop=None)
    tracker.latest_message.update(parse_with([("nlu_fallback", 1.0)], []))
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker, domain)
    reply = texts_of(dispatcher)
    j = load_jurisdiction()
    assert j.hotline in reply and j.reception_hours in reply and "转人工" in reply
    assert buttons_of(dispatcher) == {}


async def test_no_likely_meaning_goes_straight_to_the_fallback(domain) -> None:
    tracker = make_tracker(domain, text="啊啊啊", intent="nlu_fallback", active_loop=None)
    tracker.latest_message.update(parse_with([("nlu_fallback", 0.4), ("greet", 0.3), ("affirm", 0.3)], []))
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker, domain)
    assert load_jurisdiction().hotline in texts_of(dispatcher) and buttons_of(dispatcher) == {}


def test_every_policy_answer_has_a_choice_the_model_knows() -> None:
    choices = yaml.safe_load((ROOT / "actions" / "prompts.yml").read_text(encoding="utf-8"))["clarify"]["faq"]
    examples = training_examples()
    keys = {intent.removeprefix("faq/") for intent in examples if intent.startswith("faq/")}
    assert set(choices) == keys
    assert {k: c["ask"] for k, c in choices.items() if c["ask"] not in examples[f"faq/{k}"]} == {}


# --- small talk and the agency facts --------------------------------------------------------
@pytest.mark.parametrize(
    ("intent", "fragments"),
    [
        ("bot_identity", ("杭州市西湖区信访局的智能助手", "不是工作人员", "转人工")),
        ("ask_official", ("网上信访渠道", "第十七条", "第二十一条", "https://xinfang.example.org/xihu")),
        ("insult", ("理解您着急、生气的心情", "我会尽力帮您")),
    ],
)
async def test_small_talk(domain, intent, fragments) -> None:
    dispatcher, _ = await run(ActionSmalltalk(), domain, "随便一句话", intent, active_loop=None)
    reply = texts_of(dispatcher)
    for fragment in fragments:
        assert fragment in reply, fragment


async def test_a_session_starts_with_the_agency_facts_and_keeps_the_slots(domain) -> None:
    tracker = make_tracker(domain, text="", intent="greet", active_loop=None, slots={"case_no": "XF2026000001"})
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, {**domain, "session_config": {
        "carry_over_slots_to_new_session": True}})
    assert events[0]["event"] == "session_started" and events[-1] == {**events[-1], "name": "action_listen"}
    slots = slot_events(events)
    assert slots["case_no"] == "XF2026000001"
    assert slots["hotline"] == "0571-01234567" and slots["agency"] == "杭州市西湖区信访局"
    assert slots["retention"].startswith("信访事项办结后保存5年")


# --- human handoff against the real back office ---------------------------------------------
@pytest.fixture
async def backoffice(make_client, settings, monkeypatch):
    client = await make_client(settings)
    monkeypatch.setenv("BACKOFFICE_URL", str(client.server.make_url("")).rstrip("/"))
    monkeypatch.setenv("BACKOFFICE_SERVICE_TOKEN", SERVICE_TOKEN)
    return client


async def test_asking_for_a_person_flags_the_conversation(backoffice, domain) -> None:
    dispatcher, _ = await run(ActionRequestHuman(), domain, "我要人工", "request_human", active_loop=None, sender="c-person")
    reply = texts_of(dispatcher)
    j = load_jurisdiction()
    assert "已为您通知工作人员" in reply and j.reception_hours in reply and j.hotline in reply
    # asking again: the same request, the citizen is told they are waiting
    again, _ = await run(ActionRequestHuman(), domain, "人呢，我要人工", "request_human", active_loop=None, sender="c-person")
    assert "正在排队" in texts_of(again)
    response = await backoffice.post(
        "/api/v1/handoffs", json={"conversation_id": "c-person", "channel": "rest"},
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )
    body = await response.json()
    assert response.status == 200 and body["created"] is False
    assert body["handoff"]["status"] == "waiting" and body["handoff"]["channel"] == "rest"


async def test_during_the_petition_the_citizen_may_go_on(backoffice, domain) -> None:
    dispatcher, _ = await run(ActionRequestHuman(), domain, "找个真人", "request_human", requested_slot="phone", sender="c-form")
    assert "继续在这里填写" in texts_of(dispatcher)


async def test_back_office_down_still_gives_the_phone_line(domain, monkeypatch) -> None:
    monkeypatch.setenv("BACKOFFICE_URL", f"http://127.0.0.1:{free_port()}")
    dispatcher, _ = await run(ActionRequestHuman(), domain, "我要人工", "request_human", active_loop=None)
    reply = texts_of(dispatcher)
    assert "暂时无法为您转接人工" in reply and load_jurisdiction().hotline in reply

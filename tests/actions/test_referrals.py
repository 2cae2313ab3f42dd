"""Every referral right: what the citizen reads about where a matter goes, the time limits and
the articles, the personal-information notice, and how a filed petition is withdrawn.

Each statement is checked against the law it states (the figures, the article, the body that
decides); the texts come from actions/prompts.yml and data/responses/faq.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.procedures import ActionExplainProcedure, ActionExplainJurisdiction
from actions.answer_checks import check_group_size, check_place
from actions.intake import QUESTIONS
from actions.safety import ActionHandleEmergency
from actions.submission import ActionCompletePetition
from actions.withdrawal import ActionCancelOutsideForm
from bot.rules.jurisdiction import load_jurisdiction
from tests.actions.conftest import buttons_of, make_tracker, texts_of

ROOT = Path(__file__).resolve().parents[2]
FAQ = {
    key.removeprefix("utter_faq/"): variants[0]["text"]
    for key, variants in yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text(encoding="utf-8"))[
        "responses"
    ].items()
}
J = load_jurisdiction()


async def run(action, domain, text: str, intent: str, **kwargs: Any) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(domain, text=text, intent=intent, **kwargs), domain)
    return dispatcher, events


async def procedure_reply(domain, text: str, intent: str) -> str:
    dispatcher, _ = await run(ActionExplainProcedure(), domain, text, intent, active_loop=None)
    return texts_of(dispatcher)


# --- traffic accidents ----------------------------------------------------------------------
async def test_a_traffic_accident_with_someone_hurt_gets_120_then_122(domain) -> None:
    dispatcher, _ = await run(ActionHandleEmergency(), domain, "路口出车祸了，有人被撞倒在地上流血", "emergency", active_loop=None)
    reply = texts_of(dispatcher)
    assert reply.startswith("请立即拨打120急救，同时拨打122"), reply
    assert reply.index("120") < reply.index("122")


async def test_a_traffic_accident_gets_122_and_120_if_someone_is_hurt(domain) -> None:
    dispatcher, _ = await run(ActionHandleEmergency(), domain, "撞车了，没人受伤", "emergency", active_loop=None)
    reply = texts_of(dispatcher)
    assert reply.startswith("请立即拨打122"), reply
    assert "有人受伤的，请马上拨打120" in reply


async def test_a_past_accident_in_a_dispute_is_no_emergency(domain) -> None:
    dispatcher, events = await run(
        ActionHandleEmergency(), domain, "去年出了车祸，保险公司一直不赔", "inform", requested_slot="facts"
    )
    assert dispatcher.messages == [] and events == []


# --- courts, procuratorate, police: named by topic, never the 政法委 -----------------------------
@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        # criminal appeal 10 days (ruling 5), 刑事诉讼法 第230条; civil/administrative 15 (ruling 10)
        ("刑事案件一审判决不服，多少天内可以上诉", (
            "刑事案件不服判决的10日内、不服裁定的5日内上诉", "第二百三十条",
            "民事、行政案件不服一审判决的，自判决书送达之日起15日内上诉，不服裁定的10日内")),
        # the procuratorate comes after a refused retrial (民事诉讼法 第220条)
        ("再审申请被法院驳回了，还能找检察院吗", (
            "先申请再审", "驳回再审申请", "逾期未对再审申请作出裁定", "再审判决、裁定有明显错误",
            "检察建议或者抗诉", "第二百二十条", "6个月", "杭州市西湖区人民检察院")),
        ("对方不执行判决", ("申请强制执行", "2年", "执行监督", "杭州市西湖区人民检察院")),
        ("报警好几个月了派出所一直不立案", ("7日内", "立案监督", "杭州市公安局西湖区分局", "杭州市西湖区人民检察院")),
        ("借给朋友的钱不还，我想起诉他", ("被告住所地", "杭州市西湖区人民法院", "3年", "第一百八十八条")),
    ],
)
async def test_litigation_names_the_body_that_decides(domain, text, fragments) -> None:
    reply = await procedure_reply(domain, text, "procedure_litigation")
    for fragment in fragments:
        assert fragment in reply, (fragment, reply)
    assert "政法委" not in reply and "政法部门" not in reply


async def test_labour_arbitration_time_limit_and_wage_arrears(domain) -> None:
    reply = await procedure_reply(domain, "公司不给工资我去仲裁了", "procedure_arbitration")
    for fragment in (
        "1年", "第二十七条", "劳动关系存续期间因拖欠工资（劳动报酬）发生争议的，不受1年的限制",
        "自劳动关系终止之日起1年内", "12333", "杭州市西湖区劳动人事争议仲裁委员会", "15日内",
    ):
        assert fragment in reply, (fragment, reply)


async def test_administrative_review_goes_to_the_review_body(domain) -> None:
    reply = await procedure_reply(domain, "行政复议申请多久内要提出", "procedure_admin_review")
    for fragment in (
        "60日内", "《行政复议法》第二十条", "第二十四条", "复议机关", "本级人民政府", "杭州市西湖区人民政府",
        "6个月", "15日内", "垂直领导",
    ):
        assert fragment in reply, (fragment, reply)
    assert "政法" not in reply


async def test_discipline_names_12388(domain) -> None:
    reply = await procedure_reply(domain, "村支书贪污", "procedure_discipline")
    assert "12388" in reply and "西湖区纪委区监委" in reply


def test_no_procedure_text_sends_the_citizen_to_the_political_legal_committee() -> None:
    for key in texts.entry("procedures"):
        if key == "buttons":
            continue
        entry = texts.entry(f"procedures.{key}")
        assert "政法委" not in str(entry) and "{litigation_body}" not in str(entry), key


# --- another district: where to go, not a forwarding promise ---------------------------------
async def test_another_district_is_told_where_to_go(domain) -> None:
    dispatcher, _ = await run(ActionExplainJurisdiction(), domain, "我是余杭的，这事能在你们这反映吗", "ask_jurisdiction", active_loop=None)
    reply = texts_of(dispatcher)
    assert "请您直接向杭州市余杭区信访局反映" in reply and "第五条" in reply
    assert "转送" not in reply and "15日" not in reply


def test_a_place_in_another_district_during_the_form() -> None:
    outcome = check_place("拱墅区湖墅南路", {})
    assert outcome.ok
    assert "请您直接向杭州市拱墅区信访局反映" in outcome.message
    assert "转送" not in outcome.message and "第二十二条" not in outcome.message


# --- representatives: visits only ------------------------------------------------------------
def test_five_representatives_are_for_visits_only() -> None:
    outcome = check_group_size("二十多人", {})
    assert outcome.ok and outcome.updates == {"group_size": 20.0}
    for fragment in ("第二十条", "走访", "不超过5人", "不需要推选代表"):
        assert fragment in outcome.message, (fragment, outcome.message)
    assert check_group_size("就我一个人", {}).message is None


# --- the personal-information notice (PIPL 第17条) -------------------------------------------
async def test_the_notice_says_everything_article_17_asks(domain, dispatcher) -> None:
    QUESTIONS["pi_consent"].events(dispatcher, make_tracker(domain))
    notice = texts_of(dispatcher)
    for fragment in (
        "第十七条",
        J.agency, J.hotline, J.address,  # who processes, and how to reach them
        "目的",
        "姓名", "联系电话", "住址",  # what is collected
        "证件号码属于敏感个人信息", "另行决定是否同意",  # the ID number has its own consent
        "转送、交办给有权处理的机关",  # how and to whom
        "加密保存", "遮挡显示",
        "对话记录", "对话的内容", "会保存在系统中",  # the conversation itself is kept
        J.data_retention, "境内",  # how long, where
        "查阅、复制、更正、补充、删除",  # rights
        "回复「取消」", "不会提交",  # withdrawal before filing
        "提交以后如需撤回", "转人工", "信访件编号", "第十五条",  # and after filing
    ):
        assert fragment in notice, (fragment, notice)
    for false_promise in ("不会收集任何个人信息", "仅用于办理", "身份证号码、手机号码"):
        assert false_promise not in notice, false_promise


async def test_declining_says_what_really_happens(domain, dispatcher) -> None:
    tracker = make_tracker(domain, slots={"intake_status": "declined"}, active_loop=None)
    await ActionCompletePetition().run(dispatcher, tracker, domain)
    reply = texts_of(dispatcher)
    assert "不登记您的个人信息" in reply and "不会形成信访件" in reply and "对话的文字记录仍会" in reply
    assert "不会收集" not in reply


# --- withdrawal after filing ------------------------------------------------------------------
async def test_cancel_after_filing_explains_how_to_withdraw(domain) -> None:
    dispatcher, events = await run(
        ActionCancelOutsideForm(), domain, "取消", "cancel", active_loop=None, slots={"case_no": "XF2026000007"}
    )
    reply = texts_of(dispatcher)
    for fragment in ("XF2026000007", "不能在这里直接撤回", J.hotline, J.reception_hours, J.address, "「转人工」",
                     "核实是您本人", "第十五条", J.data_retention):
        assert fragment in reply, (fragment, reply)
    assert "没有正在" not in reply
    assert buttons_of(dispatcher) == {"转人工": "/request_human"}
    assert events == []


async def test_a_case_number_in_the_message_is_the_case_meant(domain) -> None:
    dispatcher, _ = await run(ActionCancelOutsideForm(), domain, "我要撤回信访件xf2026000123", "cancel", active_loop=None)
    assert "XF2026000123" in texts_of(dispatcher)


async def test_cancel_with_nothing_filed(domain) -> None:
    dispatcher, events = await run(ActionCancelOutsideForm(), domain, "取消", "cancel", active_loop=None)
    assert texts_of(dispatcher) == texts.text("withdrawal.nothing_to_cancel")
    assert buttons_of(dispatcher) == {} and events == []


async def test_the_notice_and_the_withdrawal_text_agree(domain) -> None:
    notice_dispatcher = CollectingDispatcher()
    QUESTIONS["pi_consent"].events(notice_dispatcher, make_tracker(domain))
    notice = texts_of(notice_dispatcher)
    dispatcher, _ = await run(ActionCancelOutsideForm(), domain, "撤回", "cancel", active_loop=None, slots={"case_no": "XF2026000007"})
    withdrawal = texts_of(dispatcher)
    for promise in (J.hotline, "接待场所", "「转人工」", "信访件编号", "核实", "撤回不影响撤回前已经进行的处理"):
        assert promise in notice and promise in withdrawal, promise


# --- policy answers (data/responses/faq.yml) ---------------------------------------------------
@pytest.mark.parametrize(
    ("key", "fragments", "absent"),
    [
        ("no_retaliation", ("第四十六条", "打击报复信访人", "依规依纪依法严肃处理", "12388"), ("第十八条",)),
        ("rights", ("第四十六条", "打击报复信访人的，依规依纪依法严肃处理"), ("不受打击报复（第十八条）",)),
        ("group_visit", ("第二十条", "走访", "不超过5人", "联名写信、网上反映", "不需要推选代表"), ()),
        ("litigation", ("人民法院", "人民检察院", "公安机关", "复议机关", "60日", "12333"), ("同级政法部门",)),
        ("hotline_12345", ("12345", "第二十三条", "第三十四条"), ("书面受理告知",)),
        ("why_id", (
            "敏感个人信息", "第二十八条", "第二十九条", "第三十条", "第三十一条", "第十九条", "不提供也可以登记",
            "港澳居民来往内地通行证", "港澳居民居住证", "台湾居民来往大陆通行证", "台湾居民居住证",
            "外国人永久居留身份证", "护照", "固定电话", "只留住址"), ()),
        ("data_retention", ("{retention}", "对话记录", "第十九条", "境内"), ()),
        ("privacy", ("对话记录", "转送、交办", "加密保存", "{retention}"), ("身份证号码、手机号码加密",)),
        ("no_consent", ("不会形成信访件", "对话记录"), ("不会收集您的任何个人信息",)),
        ("data_rights", ("「取消」", "转人工", "信访件编号", "第十五条"), ()),
    ],
)
def test_policy_answers_state_the_law_exactly(key, fragments, absent) -> None:
    answer = FAQ[key]
    for fragment in fragments:
        assert fragment in answer, (key, fragment)
    for fragment in absent:
        assert fragment not in answer, (key, fragment)

"""The form's understanding step: every message read whole, nothing the citizen says dropped."""

from __future__ import annotations

from actions import texts
from actions.intake import QUESTIONS, ActionStartIntake, ValidatePetitionForm
from bot.rules.fields import NOT_APPLICABLE
from tests.actions.conftest import buttons_of, make_tracker, slot_events, slots_after, texts_of

ID = "330106198505123417"
ALL_IN_ONE = (
    f"我叫王建国，身份证{ID}，电话13812345678，住文新街道紫荆花路18号3幢201室。"
    "我在三墩的工地干了半年，包工头欠我三万八，要求把工钱结清"
)


async def run_form(domain, dispatcher, **kwargs) -> dict:
    events = await ValidatePetitionForm().validate_turn(dispatcher, make_tracker(domain, **kwargs), domain)
    return slot_events(events)


async def test_an_all_in_one_opening_keeps_the_story_and_holds_the_personal_details(domain, dispatcher):
    tracker = make_tracker(domain, text=ALL_IN_ONE, intent="file_petition", active_loop=None)
    slots = slots_after(tracker, await ActionStartIntake().run(dispatcher, tracker, domain))
    assert slots["facts"] == "我在三墩的工地干了半年，包工头欠我三万八"
    assert slots["place"] == "三墩镇"
    assert slots["pending_answers"] == {
        "petitioner_name": "王建国",
        "id_number": ID,
        "phone": "13812345678",
        "address": "文新街道紫荆花路18号3幢201室",
        "request": "把工钱结清",
    }
    # nothing personal is taken before the notice
    assert slots["petitioner_name"] is None and slots["phone"] is None


async def test_consent_releases_the_held_details_except_the_id_number_and_says_so(domain, dispatcher):
    pending = {"petitioner_name": "王建国", "id_number": ID, "phone": "13812345678",
               "address": "文新街道紫荆花路18号3幢201室", "is_first": False}
    slots = await run_form(
        domain, dispatcher, text="同意", intent="affirm", requested_slot="pi_consent",
        slots={"pending_answers": pending},
    )
    assert slots["pi_consent"] is True
    assert slots["petitioner_name"] == "王建国"
    assert slots["phone"] == "13812345678" and slots["contact_type"] == "mobile"
    assert slots["address"] == "文新街道紫荆花路18号3幢201室"
    assert slots["is_first"] is False
    assert slots["pending_answers"] == {"id_number": ID}  # waits for its own consent (PIPL 第29条)
    line = texts_of(dispatcher)
    assert line.startswith("已记下：") and "姓名「王建国」" in line and "联系电话「13812345678」" in line
    assert "是否首次反映「否，之前反映过」" in line and ID not in line


async def test_the_separate_id_consent_releases_the_number_masked_in_the_line(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="同意", intent="affirm", requested_slot="id_consent",
        slots={"pi_consent": True, "petitioner_name": "王建国", "pending_answers": {"id_number": ID}},
    )
    assert slots["id_consent"] is True and slots["id_number"] == ID and slots["id_type"] == "resident_id"
    assert slots["pending_answers"] is None
    assert "证件号码「330106********3417」" in texts_of(dispatcher)


async def test_a_declined_id_consent_drops_the_held_number(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="不同意", intent="deny", requested_slot="id_consent",
        slots={"pi_consent": True, "pending_answers": {"id_number": ID}},
    )
    assert slots["id_consent"] is False and slots["id_number"] == "未提供"
    assert slots["pending_answers"] is None


async def test_a_story_told_while_consent_is_asked_is_kept_without_an_error(domain, dispatcher):
    story = "我们小区的电梯坏了三个多月了，物业一直说在等配件，老人上下楼特别困难"
    slots = await run_form(domain, dispatcher, text=story, intent="file_petition", requested_slot="pi_consent")
    assert slots["facts"] == story and slots.get("pi_consent") is None
    assert "failed_attempts" not in slots
    assert texts_of(dispatcher) == "已记下：事实和理由。"


async def test_consent_is_asked_again_in_one_short_sentence_with_the_link(domain, dispatcher):
    tracker = make_tracker(domain, text="电梯坏了", requested_slot="pi_consent")
    tracker.events[:0] = [
        {"event": "action", "name": "action_start_intake"},
        {"event": "bot", "text": texts.text("consent")},
    ]
    QUESTIONS["pi_consent"].events(dispatcher, tracker)
    reply = texts_of(dispatcher)
    assert reply == texts.text("consent.again")
    assert "https://xinfang.example.org/xihu/privacy" in reply and "处理者" not in reply
    assert set(buttons_of(dispatcher)) == {"同意", "不同意"}


async def test_the_full_notice_is_shown_for_a_new_petition(domain, dispatcher):
    tracker = make_tracker(domain, text="我要投诉", requested_slot="pi_consent")
    tracker.events[:0] = [
        {"event": "bot", "text": texts.text("consent")},
        {"event": "action", "name": "action_start_intake"},
    ]
    QUESTIONS["pi_consent"].events(dispatcher, tracker)
    assert texts_of(dispatcher) == texts.text("consent")


async def test_several_answers_in_one_message_fill_every_open_question(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="我叫李秀兰，手机幺三八一二三四五六七八，家住古荡街道古墩路88号2幢",
        requested_slot="petitioner_name", slots={"pi_consent": True},
    )
    assert slots["petitioner_name"] == "李秀兰"
    assert slots["phone"] == "13812345678"
    assert slots["address"] == "古荡街道古墩路88号2幢"
    # the address names its 街道 in full: the place is taken from it, said in its own line
    assert slots["place"] == "古荡街道"
    assert texts_of(dispatcher) == (
        "已记下：联系电话「13812345678」、住址「古荡街道古墩路88号2幢」。\n"
        "事情发生地先按您的住址记为「古荡街道」；如果事情发生在别的街道或镇，请告诉我，比如「不对，是在转塘街道」。"
    )


async def test_an_answer_to_another_question_is_taken_and_the_question_stays_open(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="电话是13912345678", requested_slot="address",
        slots={"pi_consent": True, "petitioner_name": "王建国"},
    )
    assert slots["phone"] == "13912345678"
    assert "address" not in slots  # no error about an address: the question is asked again
    assert texts_of(dispatcher) == "已记下：联系电话「13912345678」。"


async def test_a_group_piece_brings_the_representatives_rule(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="我叫王建国，我们十二个工人的工资都被拖欠了",
        requested_slot="petitioner_name", slots={"pi_consent": True},
    )
    assert slots["petitioner_name"] == "王建国" and slots["group_size"] == 12.0
    assert "第二十条" in texts_of(dispatcher) or "代表" in texts_of(dispatcher)


async def test_an_id_number_spelled_in_chinese_digits_consents_and_answers(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="三三零一零六一九八五零五一二三四一七", requested_slot="id_consent",
        slots={"pi_consent": True, "petitioner_name": "王建国"},
    )
    assert slots["id_consent"] is True and slots["id_number"] == ID


async def test_a_repeat_said_in_the_opening_is_not_asked_again(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="同意", intent="affirm", requested_slot="pi_consent",
        slots={"pending_answers": {"is_first": False}},
    )
    assert slots["is_first"] is False
    assert slots.get("prior_body") is None  # asked next, not 不适用


async def test_who_handles_it_is_answered_from_the_routing_table_and_the_question_stays(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="这个事情找谁啊", intent="inform", requested_slot="phone",
        slots={"pi_consent": True, "petitioner_name": "王建国", "category_guess": "劳动和社会保障",
               "place": "三墩镇", "facts": "包工头拖欠工资半年"},
    )
    assert slots == {}
    reply = texts_of(dispatcher)
    assert "西湖区人力资源和社会保障局" in reply and "我们接着填写" in reply


async def test_a_first_petition_said_with_the_consent_skips_the_earlier_petition_questions(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="同意", intent="affirm", requested_slot="pi_consent",
        slots={"pending_answers": {"is_first": True}},
    )
    assert slots["is_first"] is True and slots["prior_body"] == NOT_APPLICABLE


async def test_a_message_with_details_and_no_question_asked_starts_the_petition(domain, dispatcher):
    tracker = make_tracker(domain, text=ALL_IN_ONE, intent="inform", active_loop=None)
    events = await ActionStartIntake().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["facts"] == "我在三墩的工地干了半年，包工头欠我三万八"
    assert slots["pending_answers"]["petitioner_name"] == "王建国"
    assert not any(e.get("event") == "followup" for e in events)


async def test_a_bare_answer_with_no_question_asked_says_how_to_start_and_keeps_everything(domain, dispatcher):
    tracker = make_tracker(
        domain, text="好的", intent="inform", active_loop=None,
        slots={"intake_status": "paused", "petitioner_name": "王建国"},
    )
    events = await ActionStartIntake().run(dispatcher, tracker, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_listen"}]
    assert texts_of(dispatcher) == texts.text("inform_outside_form")


async def test_the_reset_of_a_new_petition_is_no_answer_to_the_summary(domain, dispatcher):
    """The stray "请点「确认提交」…" before the notice: Rasa validates the slots a new petition
    resets (SlotSet events ending the tracker at form activation) and a cleared summary answer
    was read as an unclear one."""
    from actions.intake import PETITION_STATE_SLOTS

    tracker = make_tracker(domain, text="我要投诉", intent="file_petition", active_loop=None)
    tracker.events += [
        {"event": "action", "name": "action_start_intake"},
        *[{"event": "slot", "name": slot, "value": None} for slot in PETITION_STATE_SLOTS],
    ]
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    # no "请点「确认提交」…": the only message is the form's first question, the notice
    assert [m["text"] for m in dispatcher.messages] == [texts.text("consent")]
    assert slot_events(events)["requested_slot"] == "pi_consent"


async def test_declining_the_id_number_in_words_is_an_answer_not_a_cancel(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="算了，不提供了", intent="cancel", confidence=0.9, requested_slot="id_number",
        slots={"pi_consent": True, "id_consent": True, "petitioner_name": "王建国"},
    )
    assert slots["id_number"] == "未提供" and slots["id_type"] == "none"


async def test_coming_back_in_a_new_session_keeps_the_unfinished_petition_paused(domain, dispatcher):
    from actions.session import ActionSessionStart

    tracker = make_tracker(
        domain, text="", active_loop=None, requested_slot="phone",
        slots={"pi_consent": True, "petitioner_name": "王建国", "facts": "小区门口垃圾站发臭，夏天没法开窗"},
    )
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["petitioner_name"] == "王建国" and slots["intake_status"] == "paused"
    assert slots["requested_slot"] is None
    assert "继续填写" in texts_of(dispatcher)


async def test_cancelling_a_paused_petition_clears_it(domain, dispatcher):
    from actions.withdrawal import ActionCancelOutsideForm

    tracker = make_tracker(
        domain, text="取消", intent="cancel", active_loop=None,
        slots={"intake_status": "paused", "pi_consent": True, "petitioner_name": "王建国"},
    )
    slots = slot_events(await ActionCancelOutsideForm().run(dispatcher, tracker, domain))
    assert slots["petitioner_name"] is None and slots["intake_status"] is None
    assert "已取消" in texts_of(dispatcher)


async def test_a_case_number_given_with_no_question_asked_offers_the_lookup(domain, dispatcher):
    tracker = make_tracker(domain, text="帮我查一下 xf 2026 000 789 办到哪了", intent="inform", active_loop=None)
    events = await ActionStartIntake().run(dispatcher, tracker, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_listen"}]
    assert buttons_of(dispatcher) == {"查询进度": "/query_status"}


async def test_a_phone_number_given_when_the_id_is_asked_is_no_wrong_id(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="13812345678", requested_slot="id_number",
        slots={"pi_consent": True, "id_consent": True, "petitioner_name": "王建国"},
    )
    assert slots == {"phone": "13812345678", "contact_type": "mobile"}
    assert texts_of(dispatcher) == "已记下：联系电话「13812345678」。"


async def test_the_name_is_what_is_left_of_a_message_of_several_answers(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="陈志明 330106199003071236 13705718826 家住西湖区翠苑街道文一路75号",
        requested_slot="petitioner_name", slots={"pi_consent": True},
    )
    assert slots["petitioner_name"] == "陈志明" and slots["phone"] == "13705718826"
    assert slots["address"] == "西湖区翠苑街道文一路75号"
    assert slots["pending_answers"] == {"id_number": "330106199003071236"}
    # Where the citizen lives is taken as where the matter arose only with the citizen told so
    # (and the summary confirms it); a story told later that names another place wins.
    assert slots["place"] == "翠苑街道" and "先按您的住址记为「翠苑街道」" in texts_of(dispatcher)


async def test_a_story_told_after_the_address_moves_the_place_there(domain, dispatcher):
    filled = {"pi_consent": True, "petitioner_name": "陈志明", "address": "西湖区翠苑街道文一路75号",
              "place": "翠苑街道", "phone": "13705718826"}
    slots = await run_form(domain, dispatcher, text="我在三墩镇的工地干了半年，包工头一直拖着工钱不给",
                           requested_slot="facts", slots=filled)
    assert slots["place"] == "三墩镇"
    assert "事情发生地改记为「三墩镇」" in texts_of(dispatcher)
    # A place the citizen chose is never moved by the story.
    dispatcher.messages.clear()
    slots = await run_form(domain, dispatcher, text="我在三墩镇的工地干了半年，包工头一直拖着工钱不给",
                           requested_slot="facts", slots={**filled, "place": "文新街道"})
    assert "place" not in slots


async def test_a_hesitant_no_to_the_id_number_is_a_no(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="这个，嗯，先不给了", intent="affirm", requested_slot="id_consent",
        slots={"pi_consent": True, "petitioner_name": "王建国"},
    )
    assert slots["id_consent"] is False and slots["id_number"] == "未提供"


async def test_the_matter_told_later_gets_its_category_proposed(domain, dispatcher):
    slots = await run_form(
        domain, dispatcher, text="我们小区物业今年突然把停车管理费从每月150涨到300，没开业主大会也没公示",
        intent="file_petition", requested_slot="pi_consent",
    )
    assert slots["category_guess"] == "城乡建设"

"""validate_petition_form, the ask actions and action_start_intake, as the Rasa server calls them."""

from __future__ import annotations

import pytest

from rasa_sdk.executor import CollectingDispatcher

from bot.rules.fields import NOT_APPLICABLE
from actions import texts
from actions.intake import (
    QUESTIONS,
    ActionStartIntake,
    ValidatePetitionForm,
)
from tests.actions.conftest import buttons_of, make_tracker, slot_events, slots_after, texts_of

FILLED = {
    "pi_consent": True,
    "petitioner_name": "张建国",
    "id_consent": True,
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "guardian_consent": NOT_APPLICABLE,
    "contact_type": "mobile",
    "phone": "13812345678",
    "address": "西湖区三墩镇振华路100号",
    "place": "三墩镇",
    "category": "劳动和社会保障",
    "respondent": "某某劳务公司",
    "facts": "在三墩的工地干了半年活，老板一直拖欠工资不给。",
    "request": "要求结清拖欠的工资",
    "is_first": True,
    "prior_body": NOT_APPLICABLE,
    "prior_case_no": NOT_APPLICABLE,
    "review_stage": NOT_APPLICABLE,
    "recheck_same_matter": NOT_APPLICABLE,
    "register_anyway": NOT_APPLICABLE,
    "new_facts": NOT_APPLICABLE,
    "group_size": 1.0,
}


async def validate(domain, dispatcher, **kwargs) -> dict:
    events = await ValidatePetitionForm().validate_turn(dispatcher, make_tracker(domain, **kwargs), domain)
    return slot_events(events)


async def test_a_valid_name_is_stored_without_its_lead_in(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="我叫张建国", requested_slot="petitioner_name")
    assert slots == {"petitioner_name": "张建国"}
    assert dispatcher.messages == []


async def test_a_wrong_id_number_is_explained_with_an_example_and_asked_again(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="110105194912310021", requested_slot="id_number")
    assert slots == {"id_number": None, "failed_attempts": {"id_number": 1}}
    reply = texts_of(dispatcher)
    assert "身份证" in reply and "例如" in reply


async def test_the_third_failure_pauses_the_form_and_keeps_the_answers(domain, dispatcher):
    slots = await validate(
        domain,
        dispatcher,
        text="0571-8800",
        requested_slot="phone",
        slots={**{k: FILLED[k] for k in ("pi_consent", "petitioner_name", "id_number")}, "failed_attempts": {"phone": 2}},
    )
    assert slots == {"phone": None, "failed_attempts": {}, "intake_status": "paused", "requested_slot": None}
    assert "号码" in texts_of(dispatcher)


async def test_a_mobile_with_country_code_and_dashes_is_normalised(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="+86 138-1234-5678", requested_slot="phone")
    assert slots == {"phone": "13812345678", "contact_type": "mobile"}


async def test_a_landline_is_a_contact_when_there_is_no_mobile(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="我没有手机，座机是0571 8800 1234", requested_slot="phone")
    assert slots == {"phone": "0571-88001234", "contact_type": "landline"}


async def test_without_any_phone_the_address_is_the_contact(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="手机座机都没有", requested_slot="phone")
    assert slots == {"phone": "未提供", "contact_type": "none"}
    assert "按您留的住址书面告知" in texts_of(dispatcher)


async def test_no_mobile_asks_for_a_landline(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="我没有手机", requested_slot="phone")
    assert slots["phone"] is None
    assert "固定电话" in texts_of(dispatcher) and "没有电话" in texts_of(dispatcher)


@pytest.mark.parametrize(
    ("text", "id_type", "number"),
    [
        ("回乡证 H12345678", "hk_macao_permit", "H12345678"),
        ("我是香港居民，通行证号码 h1234 5678", "hk_macao_permit", "H12345678"),
        ("台胞证12345678", "taiwan_permit", "12345678"),
        ("护照 E12345678", "passport", "E12345678"),
        ("外国人永久居留证 USA123456789012", "foreign_permanent_residence", "USA123456789012"),
        ("11010519491231002x", "resident_id", "11010519491231002X"),
    ],
)
async def test_other_documents_than_a_resident_id_are_accepted_with_their_type(domain, dispatcher, text, id_type, number):
    slots = await validate(domain, dispatcher, text=text, requested_slot="id_number")
    assert slots == {"id_number": number, "id_type": id_type, "guardian_consent": NOT_APPLICABLE}


async def test_a_passport_number_of_the_wrong_shape_is_explained(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="护照 E1", requested_slot="id_number")
    assert slots["id_number"] is None
    assert "护照号码是5至20位字母和数字" in texts_of(dispatcher)


async def test_the_id_number_has_its_own_consent_with_necessity_and_effect(domain, dispatcher):
    ask = QUESTIONS["id_consent"]
    ask.events(dispatcher, make_tracker(domain, requested_slot="id_consent"))
    text = texts_of(dispatcher)
    for part in ("敏感个人信息", "第二十九条", "第三十条", "为什么需要", "对您的影响", "第十九条"):
        assert part in text
    assert set(buttons_of(dispatcher)) == {"同意提供", "不提供证件号码"}


async def test_declining_the_id_consent_files_without_a_document(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="不同意", intent="deny", requested_slot="id_consent")
    assert slots == {"id_consent": False, "id_number": "未提供", "id_type": "none", "guardian_consent": NOT_APPLICABLE}
    assert "不影响登记" in texts_of(dispatcher)


async def test_an_under_14_is_asked_for_the_guardians_consent(domain, dispatcher):
    from datetime import date

    from stdnum.cn import ric

    year = date.today().year - 10
    body = f"330106{year}0101001"
    number = body + ric.calc_check_digit(body + "0")  # the last character is ignored
    slots = await validate(domain, dispatcher, text=number, requested_slot="id_number")
    assert slots == {"id_number": number, "id_type": "resident_id", "guardian_consent": None}
    ask = CollectingDispatcher()
    asker = QUESTIONS["guardian_consent"]
    asker.events(ask, make_tracker(domain, requested_slot="guardian_consent"))
    assert "第三十一条" in texts_of(ask) and "监护人" in texts_of(ask)
    refused = await validate(domain, CollectingDispatcher(), text="监护人不同意", intent="deny", requested_slot="guardian_consent")
    assert refused == {"guardian_consent": False, "intake_status": "guardian_declined", "requested_slot": None}


async def test_a_confident_question_is_not_taken_as_an_answer(domain, dispatcher):
    events = await ValidatePetitionForm().validate_turn(
        dispatcher,
        make_tracker(domain, text="多久能有答复？", intent="faq", confidence=0.93, requested_slot="petitioner_name"),
        domain,
    )
    # nothing extracted: Rasa's form rejects the turn (whatever question run() adds) and the
    # FAQ rule answers
    assert events == []


async def test_a_long_story_is_an_answer_whatever_the_classifier_says(domain, dispatcher):
    story = "去年十月我们在古荡的一个小区买了房，交房以后发现墙体开裂严重，找开发商好几次都推说要等物业来看，一直拖到现在也没人处理"
    slots = await validate(domain, dispatcher, text=story, intent="faq", confidence=0.91, requested_slot="facts")
    assert slots == {"facts": story, "place": "古荡街道", "category_guess": "城乡建设"}  # place and category from it too


async def test_the_reply_to_the_cancel_question_is_not_an_answer(domain, dispatcher):
    events = await ValidatePetitionForm().validate_turn(
        dispatcher,
        make_tracker(
            domain,
            text="/affirm",
            intent="affirm",
            confidence=1.0,
            requested_slot="is_first",
            previous_action="utter_ask_cancel_confirm",
        ),
        domain,
    )
    assert events == []


async def test_declining_consent_ends_the_form_without_collecting(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="/deny", intent="deny", confidence=1.0, requested_slot="pi_consent")
    assert slots == {"pi_consent": False, "intake_status": "declined", "requested_slot": None}


async def test_an_unclear_consent_answer_is_asked_again(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="这个是干嘛的", intent="inform", requested_slot="pi_consent")
    assert slots == {"pi_consent": None, "failed_attempts": {"pi_consent": 1}}
    # no second message of its own: the form asks again (tests/actions/test_understanding.py)
    assert dispatcher.messages == []


async def test_an_account_of_earlier_filings_answers_even_when_classified_as_a_policy_question(domain, dispatcher):
    text = "前年向区里反映过，后来又复查复核了"
    slots = await validate(domain, dispatcher, text=text, intent="faq", confidence=0.95, requested_slot="prior_body")
    assert slots["prior_body"] == text


async def test_a_policy_question_asked_at_the_earlier_filings_question_is_not_taken_as_the_answer(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="复查怎么申请", intent="faq", confidence=0.95, requested_slot="prior_body")
    assert slots.get("prior_body") is None


@pytest.mark.parametrize("text", ["那个", "呃……", "emmm"])
async def test_hesitation_is_no_consent_even_when_classified_as_yes(domain, dispatcher, text):
    slots = await validate(domain, dispatcher, text=text, intent="affirm", confidence=0.9, requested_slot="pi_consent")
    assert slots == {"pi_consent": None, "failed_attempts": {"pi_consent": 1}}
    assert dispatcher.messages == []


async def test_a_first_petition_skips_the_questions_about_earlier_filings(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="第一次反映", requested_slot="is_first")
    assert slots == {
        "is_first": True,
        "prior_body": NOT_APPLICABLE,
        "prior_case_no": NOT_APPLICABLE,
        "review_stage": NOT_APPLICABLE,
        "recheck_same_matter": NOT_APPLICABLE,
        "register_anyway": NOT_APPLICABLE,
        "new_facts": NOT_APPLICABLE,
    }


async def test_after_recheck_the_same_matter_ends_the_form_as_barred(domain, dispatcher):
    slots = await validate(
        domain,
        dispatcher,
        text="/inform",
        intent="inform",
        entities=[{"entity": "review_stage", "value": "rechecked"}],
        requested_slot="review_stage",
    )
    assert slots == {"review_stage": "rechecked", "recheck_same_matter": None, "register_anyway": None, "new_facts": None}
    dispatcher2 = CollectingDispatcher()
    slots = await validate(domain, dispatcher2, text="是同一件事", intent="affirm", requested_slot="recheck_same_matter")
    assert slots == {"recheck_same_matter": "yes", "register_anyway": None, "new_facts": NOT_APPLICABLE}
    slots = await validate(domain, CollectingDispatcher(), text="不登记了", intent="deny", requested_slot="register_anyway")
    assert slots == {"register_anyway": False, "intake_status": "barred", "requested_slot": None}


async def test_after_recheck_the_citizen_who_insists_is_registered_flagged(domain, dispatcher):
    asker = QUESTIONS["register_anyway"]
    asker.events(dispatcher, make_tracker(domain, requested_slot="register_anyway"))
    question = texts_of(dispatcher)
    assert "第三十六条" in question and "第三十七条" in question and "第二十二条" in question
    assert "书面" in question
    said = CollectingDispatcher()
    slots = await validate(domain, said, text="仍要登记", intent="affirm", requested_slot="register_anyway")
    assert slots == {"register_anyway": True}
    assert "书面告知" in texts_of(said)
    summary = CollectingDispatcher()
    filled = {**FILLED, "is_first": False, "review_stage": "rechecked", "recheck_same_matter": "yes", "register_anyway": True}
    QUESTIONS["summary_confirmed"].events(summary, make_tracker(domain, slots=filled))
    assert "复核后以同一事实和理由再次反映" in texts_of(summary)


async def test_after_recheck_new_facts_are_asked_for(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="有新的情况", intent="deny", requested_slot="recheck_same_matter")
    assert slots == {"recheck_same_matter": "no", "register_anyway": NOT_APPLICABLE, "new_facts": None}
    text = "复核以后老板又拖欠了两个月工资，我手里有新的欠条"
    slots = await validate(domain, CollectingDispatcher(), text=text, requested_slot="new_facts")
    assert slots == {"new_facts": text}


async def test_a_group_of_five_or_more_hears_the_representatives_rule(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="我们二十多户", requested_slot="group_size")
    assert slots == {"group_size": 20.0}
    reply = texts_of(dispatcher)
    assert "20人" in reply and "不超过5人" in reply and "第二十条" in reply


async def test_confirming_the_proposed_category(domain, dispatcher):
    slots = await validate(
        domain,
        dispatcher,
        text="对的",
        intent="affirm",
        requested_slot="category",
        slots={"category_guess": "劳动和社会保障"},
    )
    assert slots == {"category": "劳动和社会保障"}


async def test_a_place_in_another_district_is_recorded_and_its_body_named(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="余杭区良渚街道", requested_slot="place")
    assert slots == {"place": "余杭区良渚街道"}
    reply = texts_of(dispatcher)
    assert "余杭区" in reply and "属地管理" in reply and "信访局" in reply


async def test_a_loose_place_name_becomes_the_official_one(domain, dispatcher):
    slots = await validate(domain, dispatcher, text="文新那边", requested_slot="place")
    assert slots == {"place": "文新街道"}


async def test_no_at_the_summary_asks_which_field_to_change(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="不对", intent="deny", requested_slot="summary_confirmed", slots=FILLED
    )
    assert slots == {"summary_confirmed": None, "awaiting_field_choice": True}
    ask = CollectingDispatcher()
    tracker = make_tracker(domain, slots={**FILLED, "awaiting_field_choice": True}, requested_slot="summary_confirmed")
    events = QUESTIONS["summary_confirmed"].events(ask, tracker)
    assert slot_events(events) == {"awaiting_field_choice": None}
    assert "要修改哪一项" in texts_of(ask)
    assert buttons_of(ask)["联系电话"] == '/correct{"field": "phone"}'


async def test_yes_at_the_summary_confirms_with_a_fresh_idempotency_key(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="确认提交", intent="affirm", requested_slot="summary_confirmed", slots=FILLED
    )
    assert slots["summary_confirmed"] is True and slots["intake_status"] == "confirmed"
    assert len(slots["submission_key"]) == 32


async def test_the_summary_masks_the_id_number_and_names_the_proposed_unit(domain, dispatcher):
    QUESTIONS["summary_confirmed"].events(dispatcher, make_tracker(domain, slots=FILLED))
    summary = texts_of(dispatcher)
    assert "110105********002X" in summary and "11010519491231002X" not in summary
    assert "13812345678" in summary
    assert "拟交办单位：西湖区人力资源和社会保障局" in summary
    assert set(buttons_of(dispatcher)) == {"确认提交", "修改", "取消登记"}


async def test_the_consent_notice_names_the_agency_purpose_retention_and_rights(domain, dispatcher):
    QUESTIONS["pi_consent"].events(dispatcher, make_tracker(domain))
    notice = texts_of(dispatcher)
    for part in ("杭州市西湖区信访局", "目的", "保存期限", "撤回同意", "境内"):
        assert part in notice


async def test_the_category_question_offers_the_guess_first(domain, dispatcher):
    tracker = make_tracker(domain, slots={"category_guess": "市场监管"})
    QUESTIONS["category"].events(dispatcher, tracker)
    assert "「市场监管」" in texts_of(dispatcher)
    titles = list(buttons_of(dispatcher))
    assert titles[0] == "是的，市场监管" and "市场监管" not in titles[1:] and "教育" in titles


async def test_the_opening_description_becomes_the_facts(domain, dispatcher):
    text = "我在三墩那边的工地干了半年活，老板一直拖着工资不给"
    tracker = make_tracker(domain, text=text, intent="file_petition", active_loop=None)
    events = await ActionStartIntake().run(dispatcher, tracker, domain)
    slots = slots_after(tracker, events)
    assert slots["facts"] == text
    assert slots["category_guess"] == "劳动和社会保障"
    assert slots["place"] == "三墩镇"
    assert slots["pi_consent"] is None and slots["id_number"] is None


async def test_a_bare_wish_to_complain_leaves_the_facts_to_be_asked(domain, dispatcher):
    tracker = make_tracker(domain, text="你好，我要投诉", intent="file_petition", active_loop=None)
    events = await ActionStartIntake().run(dispatcher, tracker, domain)
    assert slots_after(tracker, events)["facts"] is None


async def test_a_bare_number_answers_its_question_whatever_the_intent(domain, dispatcher):
    slots = await validate(
        domain, dispatcher, text="13912345678", intent="query_status", confidence=0.9, requested_slot="phone"
    )
    assert slots == {"phone": "13912345678", "contact_type": "mobile"}


async def test_resuming_the_form_keeps_every_answer_already_given(domain, dispatcher):
    """When "继续填写" re-activates the form, Rasa sends every filled slot to be validated again:
    recorded "不适用"/"未提供" values and the 复核 follow-ups must stay as they are."""
    from rasa_sdk.events import SlotSet

    filled = {**FILLED, "is_first": False, "prior_body": "今年8月向文新街道反映过", "prior_case_no": "不记得",
              "review_stage": "rechecked", "recheck_same_matter": "no", "register_anyway": NOT_APPLICABLE,
              "new_facts": "复核后又拖欠了两个月工资，有新的欠条", "respondent": "无", "id_number": "未提供",
              "id_type": "none", "id_consent": False}
    tracker = make_tracker(domain, text="/continue_petition", intent="continue_petition", slots=filled,
                           requested_slot=None)
    tracker.events.extend(SlotSet(k, v) for k, v in filled.items())  # as Rasa appends them
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    changed = {k: v for k, v in slot_events(events).items() if filled.get(k) != v}
    assert changed == {"requested_slot": "summary_confirmed"}, changed
    # nothing to explain: the only message is the next question, the summary to confirm
    assert dispatcher.messages[0]["text"].startswith(texts.text("summary.header"))
    assert len(dispatcher.messages) == 1


async def test_a_new_petition_sets_no_slot_that_is_empty_already(domain, dispatcher):
    """Every event is stored and sent back with each later action call: a petition started in
    a fresh conversation clears nothing (its slots are empty), one started over an unfinished
    petition clears exactly the answers it held."""
    from actions.intake import PETITION_STATE_SLOTS

    fresh = make_tracker(domain, text="我要投诉", intent="file_petition", active_loop=None)
    events = await ActionStartIntake().run(dispatcher, fresh, domain)
    assert not [e for e in events if e.get("event") == "slot" and e["value"] is None]

    held = {"pi_consent": True, "petitioner_name": "张建国", "phone": "13812345678"}
    again = make_tracker(domain, text="我要投诉", intent="file_petition", active_loop=None, slots=held)
    events = await ActionStartIntake().run(dispatcher, again, domain)
    assert {e["name"] for e in events if e.get("event") == "slot" and e["value"] is None} == set(held)
    assert all(slots_after(again, events)[slot] is None for slot in PETITION_STATE_SLOTS)

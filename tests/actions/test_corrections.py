"""action_correct_field and action_cancel_petition."""

from __future__ import annotations

from actions.corrections import ActionCorrectField, ActionCancelPetition
from actions.intake import PETITION_STATE_SLOTS
from tests.actions.conftest import make_tracker, slot_events, slots_after, texts_of
from tests.actions.test_intake_form import FILLED

AT_SUMMARY = {**FILLED, "summary_confirmed": None}


async def correct(domain, dispatcher, text, entities=None):
    tracker = make_tracker(
        domain, text=text, intent="correct", entities=entities, slots=AT_SUMMARY, requested_slot="summary_confirmed"
    )
    return slot_events(await ActionCorrectField().run(dispatcher, tracker, domain))


async def test_a_new_phone_number_in_the_correction_is_checked_and_stored(domain, dispatcher):
    slots = await correct(domain, dispatcher, "电话写错了，应该是139 1234 5678")
    assert slots == {"summary_confirmed": None, "phone": "13912345678", "contact_type": "mobile"}
    assert "已将联系电话更正为：13912345678" in texts_of(dispatcher)


async def test_naming_a_field_without_a_value_asks_it_again(domain, dispatcher):
    slots = await correct(domain, dispatcher, "地址改一下")
    assert slots == {"summary_confirmed": None, "address": None}
    assert dispatcher.messages == []  # the form asks for the address next


async def test_an_invalid_new_value_is_explained_and_asked_again(domain, dispatcher):
    slots = await correct(domain, dispatcher, "身份证号输错了，应该是110105194912310021")
    assert slots == {"summary_confirmed": None, "id_number": None}
    reply = texts_of(dispatcher)
    assert "证件号码有问题" in reply and "校验码" in reply


async def test_a_field_button_clears_that_field(domain, dispatcher):
    slots = await correct(domain, dispatcher, "/correct", entities=[{"entity": "field", "value": "petitioner_name"}])
    assert slots == {"summary_confirmed": None, "petitioner_name": None}


async def test_a_correction_that_names_no_field_asks_which_one(domain, dispatcher):
    slots = await correct(domain, dispatcher, "刚才有个地方填错了")
    assert slots == {"awaiting_field_choice": True}


async def test_changing_first_time_asks_the_earlier_filing_questions_again(domain, dispatcher):
    slots = await correct(domain, dispatcher, "是否第一次反映那个选错了")
    assert slots["is_first"] is None and slots["prior_body"] is None and slots["review_stage"] is None


async def test_a_new_place_outside_the_district_is_explained(domain, dispatcher):
    slots = await correct(domain, dispatcher, "问题发生地不对，应该是拱墅区")
    assert slots["place"] == "拱墅区"
    assert "拱墅区" in texts_of(dispatcher) and "属地管理" in texts_of(dispatcher)


async def test_cancel_clears_every_answer(domain, dispatcher):
    tracker = make_tracker(domain, text="确定", intent="affirm", slots=AT_SUMMARY)
    events = await ActionCancelPetition().run(dispatcher, tracker, domain)
    assert all(slots_after(tracker, events)[slot] is None for slot in PETITION_STATE_SLOTS)
    # an event for each answer given, none for a slot that was empty already
    assert set(slot_events(events)) == {slot for slot in PETITION_STATE_SLOTS if tracker.get_slot(slot) is not None}
    assert "已取消" in texts_of(dispatcher) and "没有提交" in texts_of(dispatcher)

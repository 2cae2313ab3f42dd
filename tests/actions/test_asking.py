"""The forms' validators ask the next question in the same call (actions/asking.py).

What Rasa's form does with the answer (FormAction in Rasa 3.6): the validator's messages, then
its events; the slot it names in ``requested_slot`` is the one asked, else the first required
slot without a value; nothing is asked when the validation ends the form. The real Rasa server
and action server play whole conversations through this in tests/e2e and tests/dialogues.
"""

from __future__ import annotations

from actions import texts
from actions.asking import next_slot
from actions.intake import ValidatePetitionForm
from actions.status import ValidateStatusForm
from bot.rules.fields import BY_SLOT, FORM_SLOTS
from tests.actions.conftest import make_tracker, slot_events, texts_of
from tests.actions.test_intake_form import FILLED


def prompt(slot: str) -> str:
    return texts.text(BY_SLOT[slot].prompt)


async def test_a_valid_answer_is_taken_and_the_next_question_asked_in_the_same_reply(domain, dispatcher):
    tracker = make_tracker(domain, text="我叫张建国", requested_slot="petitioner_name", slots={"pi_consent": True})
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"petitioner_name": "张建国", "requested_slot": "id_consent"}
    assert [m["text"] for m in dispatcher.messages] == [prompt("id_consent")]
    assert {b["title"] for b in dispatcher.messages[0]["buttons"]} == {"同意提供", "不提供证件号码"}


async def test_a_wrong_answer_is_explained_and_the_same_question_asked_again(domain, dispatcher):
    tracker = make_tracker(domain, text="0571-8800", requested_slot="phone",
                           slots={k: FILLED[k] for k in ("pi_consent", "petitioner_name", "id_consent", "id_type",
                                                          "id_number", "guardian_consent")})
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["requested_slot"] == "phone"
    explained, asked = dispatcher.messages
    assert "手机" in explained["text"] and asked["text"] == prompt("phone")


async def test_several_answers_in_one_message_skip_to_the_first_question_still_open(domain, dispatcher):
    tracker = make_tracker(domain, text="我叫张建国，电话13812345678", requested_slot="petitioner_name",
                           slots={"pi_consent": True})
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["petitioner_name"] == "张建国" and slots["phone"] == "13812345678"
    assert slots["requested_slot"] == "id_consent"  # the 证件 consent comes before the phone
    assert dispatcher.messages[-1]["text"] == prompt("id_consent")


async def test_declining_the_notice_ends_the_form_and_asks_nothing(domain, dispatcher):
    events = await ValidatePetitionForm().run(
        dispatcher, make_tracker(domain, text="/deny", intent="deny", confidence=1.0, requested_slot="pi_consent"), domain
    )
    assert slot_events(events)["requested_slot"] is None
    assert dispatcher.messages == []  # action_complete_petition says what happens next


async def test_the_last_answer_leaves_nothing_to_ask_and_rasa_completes_the_form(domain, dispatcher):
    tracker = make_tracker(domain, text="确认提交", intent="affirm", requested_slot="summary_confirmed", slots=FILLED)
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["summary_confirmed"] is True and "requested_slot" not in slots
    assert dispatcher.messages == []


async def test_the_question_sees_what_the_validation_said_this_turn(domain, dispatcher):
    """The representatives rule said with the answer "三十多户" is not said again above the
    summary (an ask action saw the validator's messages in Rasa's tracker; so does the question)."""
    slots = {k: v for k, v in FILLED.items() if k != "group_size"}
    tracker = make_tracker(domain, text="三十多户", requested_slot="group_size", slots=slots)
    await ValidatePetitionForm().run(dispatcher, tracker, domain)
    said = [m["text"] for m in dispatcher.messages]
    assert sum("第二十条" in text for text in said) == 1
    assert said[-1].startswith(texts.text("summary.header"))


async def test_the_correction_choice_is_asked_when_the_summary_is_refused(domain, dispatcher):
    tracker = make_tracker(domain, text="不对，要改", intent="deny", requested_slot="summary_confirmed", slots=FILLED)
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["awaiting_field_choice"] is None  # asked: the choice is open now
    assert dispatcher.messages[-1]["text"] == texts.text("field_choice")
    assert "姓名" in {b["title"] for b in dispatcher.messages[-1]["buttons"]}


async def test_the_resumed_form_asks_its_open_question_again(domain, dispatcher):
    """After an interruption (a policy answer), Rasa's form runs the validator with nothing to
    validate: the question still open is asked again."""
    tracker = make_tracker(domain, text="多久能答复", intent="faq", requested_slot="address",
                           slots={k: FILLED[k] for k in FORM_SLOTS[:6]})
    tracker.latest_action_name = "utter_faq"
    events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["requested_slot"] == "address"
    assert texts_of(dispatcher) == prompt("address")


async def test_the_status_lookup_asks_for_the_code_after_the_number(domain, dispatcher):
    tracker = make_tracker(domain, text="XF2026000123", intent="inform", requested_slot="lookup_case_no",
                           active_loop="status_form")
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"lookup_case_no": "XF2026000123", "requested_slot": "lookup_query_code"}
    assert texts_of(dispatcher) == texts.text("ask.lookup_query_code")


def test_the_slot_asked_is_the_one_rasas_form_would_request():
    required = ["a", "b", "c"]
    slot = lambda name, value: {"event": "slot", "name": name, "value": value}  # noqa: E731
    assert next_slot([], required, {"a": 1}) == "b"
    assert next_slot([slot("requested_slot", "c"), slot("requested_slot", "b")], required, {}) == "c"  # the first
    assert next_slot([slot("requested_slot", "c"), slot("requested_slot", None)], required, {}) is None  # ended
    assert next_slot([{"event": "active_loop", "name": None}], required, {}) is None
    assert next_slot([{"event": "action_execution_rejected", "name": "x"}], required, {}) is None
    assert next_slot([], required, {"a": 1, "b": 2, "c": 3}) is None

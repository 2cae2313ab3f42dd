"""action_complete_petition and action_lookup_status against the real back office app.

The back office runs in-process on a test port (SQLite and PostgreSQL); the actions reach it
over HTTP exactly as in production. "Down" is a port nothing listens on.
"""

from __future__ import annotations

import re

import pytest

from actions import texts
from actions.intake import PETITION_STATE_SLOTS
from actions.status import ActionLookupStatus, ValidateStatusForm
from actions.submission import ActionCompletePetition
from bot.settings.actions import set_action_settings
from tests.actions.conftest import buttons_of, make_tracker, slot_events, texts_of
from tests.actions.test_intake_form import FILLED
from tests.conftest import SERVICE_TOKEN
from tests.support.stack import free_port

CONFIRMED = {**FILLED, "summary_confirmed": True, "intake_status": "confirmed", "submission_key": "k" * 32}


@pytest.fixture
async def backoffice(make_client, settings, monkeypatch):
    """The back office app on a test port, with the action server pointed at it."""
    client = await make_client(settings)
    monkeypatch.setenv("BACKOFFICE_URL", str(client.server.make_url("")).rstrip("/"))
    monkeypatch.setenv("BACKOFFICE_SERVICE_TOKEN", SERVICE_TOKEN)
    return client


async def cases_of(client, sender: str) -> list[dict]:
    response = await client.get(
        "/api/v1/cases", params={"conversation_id": sender}, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    )
    assert response.status == 200
    return (await response.json())["cases"]


async def complete(domain, dispatcher, slots, sender="citizen-submit"):
    tracker = make_tracker(domain, text="确认提交", intent="affirm", slots=slots, active_loop=None, sender=sender)
    return slot_events(await ActionCompletePetition().run(dispatcher, tracker, domain))


async def test_a_confirmed_petition_is_filed_and_the_citizen_gets_number_code_and_limits(
    backoffice, domain, dispatcher
):
    slots = await complete(domain, dispatcher, CONFIRMED)
    reply = texts_of(dispatcher)
    case_no = re.search(r"信访件编号：(XF\d{10})", reply).group(1)
    code = re.search(r"查询码：(\d{6})", reply).group(1)
    assert "第二十二条" in reply and "60日内办结" in reply and "30日内" in reply
    assert "西湖区人力资源和社会保障局" in reply
    assert slots["case_no"] == case_no and slots["query_code"] == code
    after = {**CONFIRMED, **slots}  # the form's answers with the events applied
    assert all(after.get(s) is None for s in PETITION_STATE_SLOTS)  # ready for another petition
    [case] = await cases_of(backoffice, "citizen-submit")
    assert case["case_no"] == case_no
    assert case["petitioner"]["name"] == "张建国"
    assert case["petitioner"]["id_number"] == "110105********002X"
    assert case["location"]["division"] == "三墩镇"
    assert case["respondent"] == "某某劳务公司"


async def test_back_office_down_keeps_the_answers_and_a_retry_files_exactly_one_case(
    backoffice, domain, dispatcher, monkeypatch
):
    good_url = backoffice.server.make_url("")
    monkeypatch.setenv("BACKOFFICE_URL", f"http://127.0.0.1:{free_port()}")
    slots = await complete(domain, dispatcher, CONFIRMED, sender="citizen-retry")
    reply = texts_of(dispatcher)
    assert "暂时无法提交" in reply and "信息都已保留" in reply and "信访件编号" not in reply
    assert buttons_of(dispatcher) == {"重新提交": "/retry_submit"}
    assert slots == {"intake_status": "submit_failed"}  # nothing else cleared
    assert await cases_of(backoffice, "citizen-retry") == []

    monkeypatch.setenv("BACKOFFICE_URL", str(good_url).rstrip("/"))
    set_action_settings(None)  # the action server restarted with the right address
    kept = {**CONFIRMED, "intake_status": "submit_failed"}
    from rasa_sdk.executor import CollectingDispatcher

    first, second = CollectingDispatcher(), CollectingDispatcher()
    filed = await complete(domain, first, kept, sender="citizen-retry")
    # the citizen presses the button again: the same idempotency key, the same case
    again = await complete(domain, second, kept, sender="citizen-retry")
    assert filed["case_no"] == again["case_no"] and filed["query_code"] == again["query_code"]
    assert filed["case_no"] in texts_of(first) and filed["case_no"] in texts_of(second)
    assert len(await cases_of(backoffice, "citizen-retry")) == 1


async def test_a_refused_submission_reopens_the_form_on_the_refused_field(backoffice, domain, dispatcher):
    bad = {**CONFIRMED, "id_number": "110105194912310021", "submission_key": "r" * 32}
    slots = await complete(domain, dispatcher, bad, sender="citizen-refused")
    assert "没有通过审核" in texts_of(dispatcher)
    assert slots["intake_status"] == "paused" and slots["id_number"] is None
    assert slots["summary_confirmed"] is None and slots["submission_key"] is None
    assert await cases_of(backoffice, "citizen-refused") == []


@pytest.mark.parametrize(
    ("status", "fragment", "cleared"),
    [
        ("declined", "不会形成信访件", True),
        ("barred", "本次不作登记", True),
        ("guardian_declined", "监护人", True),
        ("paused", "继续填写", False),
    ],
)
async def test_a_form_that_ends_without_confirmation_files_nothing(domain, dispatcher, status, fragment, cleared):
    slots = await complete(domain, dispatcher, {**FILLED, "intake_status": status})
    assert fragment in texts_of(dispatcher)
    assert "信访件编号" not in texts_of(dispatcher)
    assert (slots.get("petitioner_name", "kept") is None) is cleared


async def file_one(domain, sender="citizen-lookup") -> tuple[str, str]:
    from rasa_sdk.executor import CollectingDispatcher

    slots = await complete(domain, CollectingDispatcher(), {**CONFIRMED, "submission_key": sender.ljust(32, "x")}, sender)
    return slots["case_no"], slots["query_code"]


async def lookup(domain, dispatcher, case_no, code, sender="someone"):
    tracker = make_tracker(
        domain,
        slots={"lookup_case_no": case_no, "lookup_query_code": code},
        active_loop=None,
        sender=sender,
    )
    return slot_events(await ActionLookupStatus().run(dispatcher, tracker, domain))


async def test_status_lookup_shows_status_unit_and_next_deadline(backoffice, domain, dispatcher):
    case_no, code = await file_one(domain)
    slots = await lookup(domain, dispatcher, case_no, code)
    reply = texts_of(dispatcher)
    assert case_no in reply and "已登记" in reply and "西湖区人力资源和社会保障局" in reply
    assert "告知是否受理" not in reply  # the 2005 wording
    assert "书面告知您接收情况以及处理途径和程序" in reply
    assert "第二十二条" in reply and "第二十三条" in reply and "第三十四条" in reply
    # The lookup's slots are cleared; the case, proven by its code and being handled, is kept
    # for this session (a reception day can be booked for it without asking again).
    assert slots == {"lookup_case_no": None, "lookup_query_code": None, "failed_attempts": None,
                     "verified_case_no": case_no, "verified_query_code": code}


async def test_a_wrong_code_reveals_nothing_and_is_rate_limited(backoffice, domain, dispatcher):
    case_no, code = await file_one(domain, "citizen-lookup-2")
    wrong = "000000" if code != "000000" else "111111"
    from rasa_sdk.executor import CollectingDispatcher

    replies = []
    for _ in range(6):
        d = CollectingDispatcher()
        await lookup(domain, d, case_no, wrong, sender="guesser")
        replies.append(texts_of(d))
    assert all("未找到" in r and "张建国" not in r for r in replies[:5])
    assert "查询次数过多" in replies[5]
    unknown = CollectingDispatcher()
    await lookup(domain, unknown, "XF2026999999", "123456", sender="someone-else")
    assert texts_of(unknown) == replies[0]  # an unknown case reads exactly like a wrong code


async def test_case_number_and_code_in_the_opening_message_fill_the_lookup(domain, dispatcher):
    tracker = make_tracker(
        domain,
        text="帮我查一下XF2026000123，查询码是483920",
        intent="query_status",
        requested_slot=None,
        active_loop="status_form",
    )
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"lookup_case_no": "XF2026000123", "lookup_query_code": "483920"}


async def test_the_case_filed_in_this_conversation_is_looked_up_without_asking(domain, dispatcher):
    tracker = make_tracker(
        domain,
        text="查一下我的信访件",
        intent="query_status",
        slots={"case_no": "XF2026000007", "query_code": "555123"},
        active_loop="status_form",
    )
    # The filing in this session set both slots (a code remembered from an earlier session
    # is not used: tests/security/test_lost_answer.py).
    tracker.events[:0] = [
        {"event": "slot", "name": "case_no", "value": "XF2026000007"},
        {"event": "slot", "name": "query_code", "value": "555123"},
    ]
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"lookup_case_no": "XF2026000007", "lookup_query_code": "555123"}


async def test_a_malformed_case_number_is_explained(domain, dispatcher):
    tracker = make_tracker(domain, text="12345", requested_slot="lookup_case_no", active_loop="status_form")
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"lookup_case_no": None, "failed_attempts": {"lookup_case_no": 1},
                                   "requested_slot": "lookup_case_no"}
    explained, asked = dispatcher.messages  # what was wrong, then the question again
    assert "XF开头" in explained["text"] and asked["text"] == texts.text("ask.lookup_case_no")


async def test_a_bare_case_number_answers_the_lookup_question_even_if_read_as_a_new_lookup(domain, dispatcher):
    tracker = make_tracker(
        domain,
        text="XF2026000123",
        intent="query_status",
        confidence=0.95,
        requested_slot="lookup_case_no",
        active_loop="status_form",
    )
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"lookup_case_no": "XF2026000123", "requested_slot": "lookup_query_code"}
    assert texts_of(dispatcher) == texts.text("ask.lookup_query_code")  # the code is asked next


@pytest.mark.parametrize(("asked", "text"), [
    ("lookup_case_no", "编号找不到了"),
    ("lookup_case_no", "不记得了，短信删了"),
    ("lookup_query_code", "查询码忘记了"),
])
async def test_a_lost_number_ends_the_lookup_with_the_other_way_to_ask(domain, dispatcher, asked, text):
    slots = {"lookup_case_no": "XF2026000321"} if asked == "lookup_query_code" else {}
    tracker = make_tracker(domain, text, slots=slots, requested_slot=asked, active_loop="status_form",
                           previous_action=f"action_ask_{asked}")
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["requested_slot"] is None and slot_events(events)[asked] is None
    assert not texts_of(dispatcher)  # no "没有识别出…" for a number the citizen says is lost
    tracker = make_tracker(domain, text, slots={**slots, asked: None}, active_loop=None)
    await ActionLookupStatus().run(dispatcher, tracker, domain)
    [told] = dispatcher.messages  # the policy answer on lost numbers, not "本次未能查询"
    assert told["response"] == "utter_faq/lost_query_code" and not told.get("text")


async def test_a_wrong_number_is_still_explained(domain, dispatcher):
    tracker = make_tracker(domain, "XF2026", requested_slot="lookup_case_no", active_loop="status_form",
                           previous_action="action_ask_lookup_case_no")
    events = await ValidateStatusForm().run(dispatcher, tracker, domain)
    assert "没有识别出信访件编号" in texts_of(dispatcher)
    assert slot_events(events)["requested_slot"] == "lookup_case_no"  # the lookup goes on: asked again
    assert dispatcher.messages[-1]["text"] == texts.text("ask.lookup_case_no")


def test_confirming_the_same_answers_again_gives_the_same_idempotency_key():
    """A confirmation whose turn was lost (the process died after the filing) and is sent again
    carries the same key, so the back office replays the first case; other answers, another
    conversation or another day are another petition."""
    from datetime import date

    from actions.filing import submission_key

    day = date(2026, 11, 30)
    key = submission_key(FILLED, "rest-a", "rest", day)
    assert key == submission_key(dict(FILLED), "rest-a", "rest", day) and len(key) == 32
    assert key != submission_key({**FILLED, "phone": "13900000000"}, "rest-a", "rest", day)
    assert key != submission_key(FILLED, "rest-b", "rest", day)
    assert key != submission_key(FILLED, "rest-a", "rest", date(2026, 12, 1))


async def test_a_confirmation_sent_twice_files_one_case(backoffice, domain, dispatcher):
    from actions.intake import ValidatePetitionForm

    sender = "citizen-confirm-twice"
    keys = []
    for _ in range(2):  # the first turn's events are lost: the form is still at the summary
        tracker = make_tracker(domain, "确认提交", intent="affirm", slots=FILLED, requested_slot="summary_confirmed",
                               previous_action="action_ask_summary_confirmed", sender=sender)
        events = await ValidatePetitionForm().run(dispatcher, tracker, domain)
        keys.append(slot_events(events)["submission_key"])
        filed = make_tracker(domain, "确认提交", slots={**FILLED, **slot_events(events)}, active_loop=None,
                             sender=sender)
        await ActionCompletePetition().run(dispatcher, filed, domain)
    assert keys[0] == keys[1]
    assert len(await cases_of(backoffice, sender)) == 1


async def test_the_same_matter_while_it_is_handled_is_added_to_the_earlier_case(backoffice, domain, dispatcher):
    """条例第十九条: the same petitioner's same matter, still being handled, is not filed again;
    the citizen is told the earlier number, and no new query code is given."""
    first = await complete(domain, dispatcher, CONFIRMED, sender="citizen-first")
    dispatcher.messages.clear()
    again = {**CONFIRMED, "submission_key": "a" * 32,
             "facts": CONFIRMED["facts"] + "到现在还是没有人管。"}
    slots = await complete(domain, dispatcher, again, sender="citizen-again")
    reply = texts_of(dispatcher)
    assert f"信访件 {first['case_no']}" in reply and "第十九条" in reply and "补充材料" in reply
    assert "查询码：" not in reply and first["query_code"] not in reply
    assert slots["case_no"] == first["case_no"] and slots["query_code"] is None
    assert await cases_of(backoffice, "citizen-again") == []


async def test_the_same_matter_after_it_was_handled_is_a_repeat_with_the_review_right(
    backoffice, domain, dispatcher, raw_engine
):
    first = await complete(domain, dispatcher, CONFIRMED, sender="citizen-first")
    from sqlalchemy import text

    async with raw_engine.begin() as conn:
        await conn.execute(text("UPDATE cases SET status = 'closed', reply_delivered_on = :d WHERE case_no = :n"),
                           {"n": first["case_no"], "d": __import__("datetime").date.today()})
    dispatcher.messages.clear()
    slots = await complete(domain, dispatcher, {**CONFIRMED, "submission_key": "b" * 32}, sender="citizen-again")
    reply = texts_of(dispatcher)
    assert re.search(r"信访件编号：XF\d{10}", reply) and re.search(r"查询码：\d{6}", reply)
    assert f"信访件 {first['case_no']}" in reply and "重复信访" in reply and "第三十五条" in reply
    assert "期限到" in reply
    assert slots["case_no"] != first["case_no"]

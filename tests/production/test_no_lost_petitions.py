"""No lost, no duplicated petitions: failures of the production profile, on the real stores.

Every test plays a citizen through the intake conversation of ``bench/conversations.py``,
breaks something at the worst moment, and then reads the ``cases`` table directly (not
through the back office) to count what was filed for the conversation.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, MultiFernet

from bench.conversations import until_summary, wage_arrears
from bot.rules.masking import mask_id_number
from tests.production.conftest import Profile
from tests.production.helpers import (
    ReplicaChat,
    at_once,
    case_no_in,
    citizen,
    replies_with_case_no,
)
from tests.support.stack import query

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

FAILED = ("暂时无法提交", "信息都已保留")
NOTHING_PENDING = "目前没有待提交的信访登记"


def at_summary(profile: Profile, prefix: str, replica: str = "rasa"):
    person = citizen()
    chat = ReplicaChat(profile.stack, prefix, replica)
    chat.play(until_summary(wage_arrears(person)))
    return chat, person


def test_back_office_down_at_submission_keeps_the_answers_and_a_retry_files_one_case(
    profile: Profile,
) -> None:
    stack = profile.stack
    chat, person = at_summary(profile, "bo-down")
    stack.kill("backoffice")
    try:
        reply = chat.expect("确认提交", *FAILED, absent=("信访件编号",))
        assert "重新提交" in [b["title"] for r in chat.last for b in r.get("buttons", [])]
        # The answers are still in the tracker store (PostgreSQL), ready for the retry.
        slots = stack.tracker(chat.sender)["slots"]
        assert slots["petitioner_name"] == person.name
        assert slots["id_number"] == person.id_number
        assert slots["intake_status"] == "submit_failed"
        assert slots["submission_key"]
        assert stack.cases(chat.sender) == []
        # Pressing the button again while the back office is still down: still nothing filed.
        chat.click("重新提交", *FAILED)
        assert stack.cases(chat.sender) == []
    finally:
        stack.restart("backoffice")

    reply = chat.click("重新提交", "信访件编号")
    case_no = case_no_in(reply)
    assert [row[0] for row in stack.cases(chat.sender)] == [case_no]
    chat.expect("重新提交", NOTHING_PENDING)
    assert len(stack.cases(chat.sender)) == 1


def test_answer_lost_after_the_back_office_filed_the_case_gives_the_same_case_on_retry(
    profile: Profile,
) -> None:
    """The back office files the case, then the connection dies before its answer arrives."""
    stack, link = profile.stack, profile.backoffice_link
    chat, _ = at_summary(profile, "cut")
    cut_before = link.cut
    link.cut_responses(1)
    chat.expect("确认提交", *FAILED, absent=("信访件编号",))
    assert link.cut == cut_before + 1, "the back office never answered: the cut did not happen"
    [(filed, _, _)] = stack.cases(chat.sender)  # filed once, though the citizen heard otherwise

    reply = chat.click("重新提交", "信访件编号")
    assert case_no_in(reply) == filed  # the idempotency key returns the first case
    chat.expect("重新提交", NOTHING_PENDING)
    assert [row[0] for row in stack.cases(chat.sender)] == [filed]


# A race is not lost every time: each of these runs a few times.
@pytest.mark.parametrize("attempt", range(3))
def test_double_click_on_confirm_files_one_case(profile: Profile, attempt: int) -> None:
    """Two identical messages at once to the replica with two Sanic workers."""
    stack = profile.stack
    chat, _ = at_summary(profile, "double")
    replies = at_once(
        lambda: stack.say(chat.sender, "确认提交", replica="rasa"),
        lambda: stack.say(chat.sender, "确认提交", replica="rasa"),
    )
    assert len(replies_with_case_no(replies)) == 1, replies
    assert len(stack.cases(chat.sender)) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_messages_at_once_on_two_replicas_file_one_case(profile: Profile, attempt: int) -> None:
    """The same confirmation reaches two Rasa replicas at the same moment: the Redis lock
    store makes one wait for the other, which then finds the petition already filed."""
    stack = profile.stack
    chat, _ = at_summary(profile, "replicas")
    replies = at_once(
        lambda: stack.say(chat.sender, "确认提交", replica="rasa"),
        lambda: stack.say(chat.sender, "确认提交", replica="rasa-socketio"),
    )
    filed = replies_with_case_no(replies)
    assert len(filed) == 1, replies
    assert [row[0] for row in stack.cases(chat.sender)] == filed
    # Both messages are in the one conversation, one after the other (not two forks of it).
    events = stack.tracker(chat.sender)["events"]
    confirmations = [e for e in events if e.get("event") == "user" and e.get("text") == "确认提交"]
    assert len(confirmations) == 2


def test_rasa_restarted_mid_form_resumes_where_the_conversation_was(profile: Profile) -> None:
    stack = profile.stack
    person = citizen()
    turns = wage_arrears(person)
    chat = ReplicaChat(stack, "restart", "rasa")
    phone_turn = next(i for i, t in enumerate(turns) if t.message == person.phone)
    chat.play(turns[:phone_turn])  # name and ID number given; the phone number is asked

    stack.kill("rasa")  # a crash: no clean shutdown of either Sanic worker
    # The other replica carries on with the same conversation from PostgreSQL ...
    chat.expect_on("rasa-socketio", person.phone, *turns[phone_turn].expect)
    # ... and the restarted server resumes it where it is now.
    stack.restart("rasa")
    address = turns[phone_turn + 1]
    chat.expect_on("rasa", address.message, *address.expect)
    chat.play(turns[phone_turn + 2 : next(i for i, t in enumerate(turns) if "信访件编号" in t.expect) + 1])

    [(case_no, _, _)] = stack.cases(chat.sender)
    status, body = stack.api_get(f"/cases/{case_no}")
    assert status == 200, body
    assert body["petitioner"]["name"] == person.name
    assert body["petitioner"]["id_number"] == mask_id_number(person.id_number)
    assert body["petitioner"]["phone"].endswith(person.phone[-4:])


def test_personal_numbers_are_encrypted_at_rest(profile: Profile) -> None:
    stack = profile.stack
    person = citizen()
    chat = ReplicaChat(stack, "at-rest")
    turns = wage_arrears(person)
    chat.play(turns[: next(i for i, t in enumerate(turns) if "信访件编号" in t.expect) + 1])

    [(case_no, id_enc, phone_enc)] = stack.cases(chat.sender)
    [(row_text,)] = query(
        stack.database, "SELECT row_to_json(c)::text FROM cases c WHERE case_no = %s", (case_no,)
    )
    # Neither number appears anywhere in the stored row, in any column.
    assert person.id_number not in row_text and person.id_number[:-1] not in row_text
    assert person.phone not in row_text
    # The columns hold Fernet tokens that only the configured key opens.
    cipher = MultiFernet([Fernet(k) for k in stack.secrets["BACKOFFICE_ENCRYPTION_KEYS"].split(",")])
    assert cipher.decrypt(id_enc.encode()).decode() == person.id_number
    assert cipher.decrypt(phone_enc.encode()).decode() == person.phone
    assert id_enc.startswith("gAAAA") and phone_enc.startswith("gAAAA")
    # No other table of the case store holds them either.
    [(dump,)] = query(
        stack.database,
        "SELECT string_agg(t::text, ' ') FROM (SELECT row_to_json(x)::text AS t FROM ("
        "SELECT * FROM case_events) x UNION ALL SELECT row_to_json(y)::text FROM ("
        "SELECT * FROM audit_log) y UNION ALL SELECT row_to_json(z)::text FROM ("
        "SELECT * FROM idempotency_keys) z) all_rows",
    )
    assert person.id_number not in (dump or "") and person.phone not in (dump or "")

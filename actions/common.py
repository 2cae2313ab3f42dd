"""Helpers shared by the actions: reading the tracker, deciding what counts as an answer."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from bot.rules.case_numbers import find_case_no, find_query_code, is_query_code
from bot.rules.cn_dates import cn_date
from bot.rules.conversation_ids import conversation_tag
from bot.rules.text import normalize_text, tidy_text
from bot.settings.actions import action_settings

from actions import texts

# Intents that interrupt a form instead of answering the question asked. When one of them is
# recognised with enough confidence the form does not take the message as an answer; a rule
# then handles it (answer the question, correct a field, cancel ...) and the form resumes.
INTERRUPTION_INTENTS = frozenset(
    {
        "cancel",
        "correct",
        "faq",
        "query_status",
        "retry_submit",
        "continue_petition",
        # policy answers and lawful procedures (data/rules/policy.yml)
        "emergency",
        "request_human",
        "prohibited_action",
        "visit_escalation",
        "procedure_litigation",
        "procedure_arbitration",
        "procedure_admin_review",
        "procedure_discipline",
        "procedure_service",
        "ask_jurisdiction",
        "bot_identity",
        "ask_official",
        "insult",
        "data_request",
    }
)
INTERRUPTION_CONFIDENCE = 0.6
# A long message is a citizen telling their story, whatever the classifier thinks of it.
LONG_ANSWER_CHARS = 40
# Interruptions whatever the length of the message: danger, and asking for a person.
ALWAYS_INTERRUPT = frozenset({"emergency", "request_human"})
# Where a question asks for the citizen's own story, a matter for another procedure, a wish to
# go over levels or harsh words about the other side ARE the answer ("法院判了不执行" as the
# facts, "那个王八蛋老板" as the respondent); "问题在余杭" answers where the problem arose.
STORY_INTENTS = frozenset(
    {
        "procedure_litigation",
        "procedure_arbitration",
        "procedure_admin_review",
        "procedure_discipline",
        "procedure_service",
        "visit_escalation",
        "ask_jurisdiction",
        "insult",
    }
)
ANSWERING_INTENTS = {
    "facts": STORY_INTENTS,
    "request": STORY_INTENTS,
    "respondent": STORY_INTENTS,
    "prior_body": STORY_INTENTS,
    "place": frozenset({"ask_jurisdiction"}),
    "address": frozenset({"ask_jurisdiction"}),
}
# The actions that handle those interruptions: when the citizen answers one of them by
# repeating the same message, it is their answer after all (no endless loop on a false alarm).
INTERRUPTION_HANDLERS = frozenset(
    {
        "action_handle_emergency",
        "action_explain_procedure",
        "action_explain_visit",
        "action_warn_prohibited",
        "action_explain_jurisdiction",
        "action_smalltalk",
        "action_clarify",
    }
)

CANCEL_CONFIRM_UTTERANCE = "utter_ask_cancel_confirm"
# Questions inside the form whose yes/no is not an answer to the form's question.
CONFIRMATION_ACTIONS = frozenset({CANCEL_CONFIRM_UTTERANCE, "action_data_request"})




def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    """Name and confidence of the intent of the latest user message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    """The latest user message as written (digits/letters half-width, Chinese punctuation
    kept); empty for button payloads ("/intent{...}")."""
    text = (tracker.latest_message or {}).get("text") or ""
    if text.startswith("/"):
        return ""
    return tidy_text(text)


def latest_entity(tracker: Tracker, name: str) -> Any:
    """The first value of an entity in the latest message (button payloads included)."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            return entity["value"]
    return None


def previous_bot_action(tracker: Tracker) -> str | None:
    """The last action executed before the latest user message (ignoring action_listen)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
            continue
        if seen_user and event.get("event") == "action":
            name = event.get("name")
            if name and name != "action_listen":
                return name
    return None


def is_answer_to(tracker: Tracker, slot: str) -> bool:
    """Whether the latest user message should be read as the answer to ``slot``.

    It is not when another question is being asked (``slot`` is not the requested one),
    when the message replies to the cancel confirmation, when it describes an emergency
    (``bot.rules.safety``: whatever the classifier says and however long the message), or
    when it is a confident interruption (a question, a correction, cancel, a matter for
    another procedure ...) short enough not to be a story. A message repeated after such an
    interruption was answered is taken as the answer.
    """
    from bot.rules.petition import is_question
    from bot.rules.safety import detect_emergency
    from bot.rules.understanding import understand

    if tracker.get_slot("requested_slot") != slot:
        return False
    if previous_bot_action(tracker) in CONFIRMATION_ACTIONS:
        return False  # the reply to "really cancel?" / "delete what is held?"
    raw = (tracker.latest_message or {}).get("text") or ""
    typed = not raw.startswith("/")
    repeated = typed and repeats_after_interruption(tracker)
    if typed and not repeated and detect_emergency(raw):
        return False  # safety first: the emergency numbers before any question
    if typed and is_well_formed_answer(slot, raw):
        return True  # "XF2026000123" answers the case-number question, whatever the intent
    if typed and declines_document(slot, raw):
        return True  # "算了，不提供了" at the 证件 question declines the number, it cancels nothing
    intent, confidence = latest_intent(tracker)
    if intent == "continue_petition" and typed and slot in understand(raw).answers:
        return True  # "我接着填，住址是西湖区…": going on, with the answer itself
    if slot == "pi_consent" and typed and refuses_registration(tracker):
        return True  # "不登记了" while the notice is asked: a refusal, with nothing held to confirm
    if intent == "faq" and typed and ANSWERING_INTENTS.get(slot) == STORY_INTENTS and not is_question(raw):
        return True  # "前年反映过，后来又复查复核了" tells the story: a policy question asks
    if intent in INTERRUPTION_INTENTS and confidence >= INTERRUPTION_CONFIDENCE:
        if repeated and intent in INTERRUPTION_HANDLED:
            return True
        if intent in ANSWERING_INTENTS.get(slot, ()):
            return True
        if not typed or intent in ALWAYS_INTERRUPT or len(normalize_text(raw)) < LONG_ANSWER_CHARS:
            return False
    return True


# Interruptions answered by one of INTERRUPTION_HANDLERS (not cancel, corrections, questions).
INTERRUPTION_HANDLED = frozenset(
    {"emergency", "prohibited_action", "visit_escalation", "ask_jurisdiction", "bot_identity",
     "ask_official", "insult"}
) | STORY_INTENTS


def refuses_registration(tracker: Tracker) -> bool:
    """Whether the latest message confidently says not to register ("算了，不登记了")."""
    intent, confidence = latest_intent(tracker)
    return intent == "cancel" and confidence >= INTERRUPTION_CONFIDENCE


def declines_document(slot: str, text: str) -> bool:
    """Whether ``text`` declines the 证件号码 asked by ``slot`` ("不给了", "不提供")."""
    from actions.answer_checks import NO_DOCUMENT_WORDS

    return slot in ("id_consent", "id_number") and any(w in text for w in NO_DOCUMENT_WORDS)


def user_turns(tracker: Tracker) -> list[tuple[dict[str, Any], list[str]]]:
    """The user messages of the tracker, each with the bot actions that followed it."""
    turns: list[tuple[dict[str, Any], list[str]]] = []
    for event in tracker.events:
        if event.get("event") == "user":
            turns.append((event, []))
        elif event.get("event") == "action" and turns and event.get("name") not in (None, "action_listen"):
            turns[-1][1].append(event["name"])
    return turns


def repeats_after_interruption(tracker: Tracker) -> bool:
    """Whether the latest message repeats the previous one, which was answered by one of the
    INTERRUPTION_HANDLERS (the citizen insists: "this IS my answer")."""
    turns = user_turns(tracker)
    if len(turns) < 2:
        return False
    (previous, actions), (latest, _) = turns[-2], turns[-1]
    same = normalize_text(previous.get("text")) == normalize_text(latest.get("text"))
    return bool(same and normalize_text(latest.get("text")) and INTERRUPTION_HANDLERS.intersection(actions))


def is_well_formed_answer(slot: str, text: str) -> bool:
    """Whether ``text`` is essentially a valid value for ``slot`` (a number of the right form).

    Numbers carry no intent of their own; the classifier may read one as anything.
    """
    from bot.rules.idcard import check_id_number
    from bot.rules.phone import check_mobile

    text = normalize_text(text)
    if len(text) > 30:
        return False
    if slot == "phone":
        return check_mobile(text).ok
    if slot == "id_number":
        return check_id_number(text).ok
    if slot in ("lookup_case_no", "prior_case_no"):
        return find_case_no(text) is not None
    if slot == "lookup_query_code":
        return is_query_code(text)
    return False


def yes_no_from_message(tracker: Tracker) -> bool | None:
    """affirm/deny intents (buttons included), else the words of the message."""
    from bot.rules.petition import is_filler, parse_yes_no

    intent, _ = latest_intent(tracker)
    text = latest_text(tracker)
    if text and is_filler(text):
        return None  # "那个", "呃……": hesitation is no consent and no answer
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return parse_yes_no(text) if text else None




def inform_payload(entity: str, value: Any) -> str:
    """A button payload that sets an entity, e.g. /inform{"category": "教育"}."""
    import json

    return "/inform" + json.dumps({entity: value}, ensure_ascii=False)


def log_tag(tracker: Tracker) -> str:
    """The conversation as log lines name it: a short keyed hash, never the id itself (a web
    chat's id is the page's bearer secret)."""
    return conversation_tag(action_settings().service_token, tracker.sender_id)


def session_events(tracker: Tracker) -> list[dict[str, Any]]:
    """The events of the current session after its start (the slots ``action_session_start``
    carries over from an earlier session come before its ``action_listen`` and are left out)."""
    events = list(tracker.events or [])
    start = 0
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "session_started":
            start = i + 1
            break
    else:
        return events
    for i in range(start, len(events)):
        if events[i].get("event") == "action" and events[i].get("name") == "action_listen":
            return events[i + 1 :]
    return []


def set_in_this_session(tracker: Tracker, slot: str) -> bool:
    """The slot holds a value set in this session (not one remembered from an earlier one)."""
    value = tracker.get_slot(slot)
    if value is None:
        return False
    return any(
        e.get("event") == "slot" and e.get("name") == slot and e.get("value") == value
        for e in session_events(tracker)
    )


def lookup_error_text(exc: Any) -> str:
    """What the citizen is told when a case number and query code were not accepted (a
    ``BackOfficeError``): not found, too many tries, or the service unavailable."""
    if exc.status == 404:
        return texts.text("status.not_found")
    if exc.status == 429:
        retry = (exc.body or {}).get("retry_after") or 900
        return texts.text("status.rate_limited", minutes=max(1, round(int(retry) / 60)))
    return texts.text("status.unavailable")


# The slots of a case proven in this conversation by its number and query code.
VERIFIED_SLOTS = ("verified_case_no", "verified_query_code")


def verified_case(tracker: Tracker) -> tuple[str, str] | None:
    """The case number and query code proven in this session (never ones remembered from an
    earlier session, perhaps another person's on a shared device)."""
    if not all(set_in_this_session(tracker, slot) for slot in VERIFIED_SLOTS):
        return None
    return tracker.get_slot("verified_case_no"), tracker.get_slot("verified_query_code")


def verified_events(case_no: str, query_code: str) -> list[EventType]:
    return [SlotSet("verified_case_no", case_no), SlotSet("verified_query_code", query_code)]

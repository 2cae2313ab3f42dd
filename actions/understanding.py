"""The petition form's one understanding step: every message is read whole.

On every turn of ``petition_form`` (and for the opening message) ``bot.rules.understanding``
reads all the pieces of the citizen's message. The piece that answers the question asked is the
answer; the other pieces fill the questions still open, each checked like a direct answer, and
the citizen is told in one short line what was taken ("已记下：…"). An account of the matter
given at another moment (while consent is asked, with the name …) is added to the facts.

Personal details given before the citizen agreed to the notice are held in ``pending_answers``
and used only once the consent that covers them is given: the notice for every personal
detail (PIPL 第十四条、第十七条), the separate consent for the 证件号码 (第二十九条). A refusal of
consent clears them with the rest of the petition.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from rasa_sdk import Tracker

from bot.rules.fields import BY_SLOT, FORM_SLOTS, display_value, is_given
from bot.rules.petition import check_name, parse_yes_no
from bot.rules.text import tidy_text
from bot.rules.understanding import Understanding, understand

from actions import texts
from actions.answer_checks import check_slot
from actions.common import latest_text

PENDING_SLOT = "pending_answers"
# The citizen's own details: held until the notice is accepted (the 证件号码 until its own consent).
GATED_SLOTS = frozenset({"petitioner_name", "id_number", "phone", "address"})
# Questions about the citizen themself or a yes/no: a story told in their answer is not the
# answer, it is more of the matter. Free-text questions take the whole message as the answer.
STORY_KEEPING_SLOTS = frozenset(
    {"pi_consent", "petitioner_name", "id_consent", "id_number", "guardian_consent", "phone"}
)
# Key of the messages of released pieces in release_pending's result (uttered, not a slot).
RELEASE_MESSAGES = "_messages"
_CLAUSE_END = re.compile(r"[，,。.!！;；\s]")
# A whole first clause that is a yes or a no and nothing else ("同意，我叫…", "不要了，…").
# A filler alone ("嗯，已经盖了三层了…") is no consent: it only leads into the story.
_YES_NO_CLAUSE = re.compile(
    r"嗯*(?:好|好的|好吧|行|可以|同意|我同意|是|是的|对|对的|没问题|确认|"
    r"不|不同意|不要|不用|不是|不行|算了|没有|不愿意)[啊呀吧了的]*"
)
FACTS_MAX = BY_SLOT["facts"].max_len
# A value shown in the "已记下" line when short enough to be checked at a glance.
SHOWN_VALUE_MAX = 20


# Characters and words a name is not made of ("先记一下我", "不提供", "身份证").
_NOT_IN_NAME = re.compile(r"[我你他她们的了吗呢吧啊呀嗯哦不没证号码]|电话|住址|提供|同意|可以|知道|一下|先|记")
# Questions a bare name never answers: it is the name, given late ("许国平" while the 证件 is asked).
BARE_NAME_SLOTS = frozenset({"id_consent", "id_number", "guardian_consent", "phone"})


def looks_like_name(text: str) -> bool:
    """Whether ``text`` is a name and nothing else: the name check passes and no word of it
    belongs to a sentence ("先记一下我" is not a name)."""
    text = tidy_text(text)
    if not text or _NOT_IN_NAME.search(text):
        return False
    checked = check_name(text)
    return checked.ok and checked.value == text


def bare_name(text: str) -> str | None:
    """A message that is only a Chinese name of 2-4 characters, or None."""
    text = tidy_text(text).strip("，,。. ")
    return text if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", text) and looks_like_name(text) else None


def heard(tracker: Tracker) -> Understanding:
    """The pieces of the latest message (nothing for a button)."""
    text = latest_text(tracker)
    return understand(text) if text else Understanding()


def leading_yes_no(text: str) -> bool | None:
    """A clear yes or no opening a longer message ("同意，我叫王建国……")."""
    whole = tidy_text(text)
    first = _CLAUSE_END.split(whole, maxsplit=1)[0]
    if not first or first == whole or not _YES_NO_CLAUSE.fullmatch(first):
        return None
    return parse_yes_no(first)


def gate_refused(slot: str, slots: Mapping[str, Any]) -> bool:
    """Whether the consent covering ``slot`` was refused (the held piece is dropped)."""
    return slots.get("pi_consent") is False or (slot == "id_number" and slots.get("id_consent") is False)


def gate_open(slot: str, slots: Mapping[str, Any]) -> bool:
    """Whether the consent covering ``slot`` has been given (the matter itself — place, the
    other side, the request — is taken at once, as the description is)."""
    if slot not in GATED_SLOTS:
        return True
    if slots.get("pi_consent") is not True:
        return False
    if slot == "id_number":
        return slots.get("id_consent") is True
    return True


def other_pieces(found: Understanding, asked: str | None, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Pieces for questions other than ``asked`` that are still open."""
    return {
        slot: value
        for slot, value in found.answers.items()
        if slot != asked and slot in FORM_SLOTS and not is_given(slots.get(slot))
        # the home is not where the problem arose, unless the message says so
        and not (asked == "address" and slot == "place" and not found.place_said)
    }


def split_pieces(pieces: Mapping[str, Any], slots: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(usable now, held until their consent is given)."""
    now = {s: v for s, v in pieces.items() if gate_open(s, slots)}
    held = {s: v for s, v in pieces.items() if s not in now}
    return now, held


def merged_pending(slots: Mapping[str, Any], held: Mapping[str, Any]) -> dict[str, Any] | None:
    pending = dict(slots.get(PENDING_SLOT) or {})
    for slot, value in held.items():
        pending.setdefault(slot, value)
    return pending or None


def with_story(slots: Mapping[str, Any], story: str | None) -> str | None:
    """The facts with ``story`` added (None when nothing new)."""
    story = tidy_text(story)
    if not story:
        return None
    facts = slots.get("facts")
    if not is_given(facts):
        return story[:FACTS_MAX]
    if story in facts:
        return None
    return f"{facts}\n{story}"[:FACTS_MAX]


def release_pending(slots: Mapping[str, Any]) -> dict[str, Any]:
    """Slot updates from the held pieces whose consent is now given (each checked as an answer;
    one that fails its check is dropped and the question is asked in its turn), with the
    messages their checks give under RELEASE_MESSAGES."""
    pending = dict(slots.get(PENDING_SLOT) or {})
    if not pending:
        return {}
    updates: dict[str, Any] = {}
    messages: list[str] = []
    current = dict(slots)
    for slot in list(pending):
        if slot not in FORM_SLOTS or is_given(current.get(slot)) or gate_refused(slot, current):
            pending.pop(slot)
            continue
        if current.get("pi_consent") is not True or not gate_open(slot, current):
            continue  # everything told in the opening waits for the notice
        value = pending.pop(slot)
        outcome = check_slot(slot, value, current)
        if outcome.ok:
            kept = {k: v for k, v in outcome.updates.items() if k != "requested_slot"}
            updates.update(kept)
            current.update(kept)
            if outcome.message:
                messages.append(outcome.message)
    updates[PENDING_SLOT] = pending or None
    updates[RELEASE_MESSAGES] = messages
    return updates


def understood_line(before: Mapping[str, Any], after: Mapping[str, Any], asked: str | None) -> str | None:
    """One short line naming what this turn took beyond the answer to ``asked``."""
    parts = []
    for field in BY_SLOT.values():
        slot = field.slot
        if slot == asked or not field.asked or field.show == "hidden":
            continue
        value = after.get(slot, before.get(slot))
        if not is_given(value) or value == before.get(slot):
            continue
        shown = display_value(slot, value, {**before, **after})
        if shown is None:
            continue
        parts.append(f"{field.label}「{shown}」" if len(shown) <= SHOWN_VALUE_MAX else field.label)
    return texts.text("understood", fields="、".join(parts)) if parts else None

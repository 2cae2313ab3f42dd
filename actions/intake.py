"""The petition intake form: starting it, asking each question, validating each answer."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.case_numbers import find_case_no
from bot.rules.deadlines import today_local
from bot.rules.categories import category_names, infer_categories
from bot.rules.jurisdiction import load_jurisdiction, resolve_place
from bot.rules.fields import BY_SLOT, FIELDS, FORM_SLOTS, NOT_GIVEN_VALUES, correctable_slots, is_given
from bot.rules.numbers import GROUP_MIN
from bot.rules.petition import is_question
from bot.rules.text import tidy_text
from bot.rules.understanding import Understanding, asks_who_handles, understand

from actions import texts
from actions.procedures import described_text, divert_opening, handler_answer
from actions.answer_checks import CHECKS, AnswerOutcome, check_slot
from actions.filing import channel_of, filed_events, find_lost_filing, submission_key
from actions.common import (
    declines_document,
    inform_payload,
    is_answer_to,
    latest_entity,
    latest_intent,
    latest_text,
    refuses_registration,
    yes_no_from_message,
)
from actions.asking import AskingFormValidationAction, Question
from actions.safety import safety_first
from actions.summary import render_summary
from actions.understanding import (
    BARE_NAME_SLOTS,
    PENDING_SLOT,
    RELEASE_MESSAGES,
    STORY_KEEPING_SLOTS,
    bare_name,
    heard,
    leading_yes_no,
    looks_like_name,
    merged_pending,
    other_pieces,
    release_pending,
    split_pieces,
    understood_line,
    with_story,
)

# Everything that belongs to one petition in progress (cleared on cancel, decline, filing).
PETITION_STATE_SLOTS = FORM_SLOTS + tuple(f.slot for f in FIELDS if not f.asked) + (
    "category_guess",
    "awaiting_field_choice",
    "failed_attempts",
    "intake_status",
    "submission_key",
    "pending_answers",
)
YES_NO_SLOTS = frozenset(f.slot for f in FIELDS if f.kind == "bool")
# Slots whose answer may come from a button that sets an entity.
ENTITY_SLOTS = {"place": "place", "category": "category", "review_stage": "review_stage"}
MAX_FAILURES = 3
NAME_MAX_LEFTOVER = 8
# Questions whose piece is the better answer even alone ("我叫王建华，是西溪街道的居民" -> 王建华);
# the free texts keep the whole message when nothing else is in it.
OWN_PIECE_SLOTS = frozenset({"petitioner_name", "id_number", "phone", "address", "place"})
# Questions answered by a number: a message that gave other pieces and holds no valid answer
# to them is not a wrong answer, it answered something else.
NUMBER_SLOTS = frozenset({"phone", "id_number"})

# Openers that say "I want to petition" without saying what about.
# The words for bringing a petition.
PETITION_VERBS = "投诉|反映|举报|上访|信访|求助|申诉|登记"
GENERIC_OPENERS = re.compile(
    r"^(?:(?:你好|您好|喂|在吗|请问)[，,。！!\s]*)*"
    rf"(?:我|我们)?(?:想|要|需要|打算)?(?:{PETITION_VERBS})?"
    r"(?:一下|一个|个|一件)?(?:问题|事情|情况|事)?[，,。！!\s]*"
)


# Words that say "register this": an opener without them and without the matter ("就是那个，
# 我们小区的事") is the start of a story, not yet a wish to file: the citizen is asked to tell it.
WISH_TO_FILE = re.compile(rf"{PETITION_VERBS}|告状|检举|控告|维权|建议|办理|处理|帮我")
# What a vague opener is made of: fillers, pronouns and the words for "a matter" or "our place".
VAGUE_WORDS = re.compile(
    r"就是|那个|这个|嗯|呃|啊|哦|吧|呢|是|有|个|一|的|我们|咱们|俺们|我|你|这边|那边|这里|那里"
    r"|事情|事儿|事|问题|情况|小区|村里|村|单位|公司|家里|楼里|[\W_]"
)


def is_vague_opener(text: str) -> bool:
    """Whether ``text`` says nothing yet beyond "about our place" and asks nothing to be filed
    ("就是那个，我们小区的事"); "我想投诉" asks to file, "钱没给 工地 三墩" tells the matter."""
    return not WISH_TO_FILE.search(text) and not VAGUE_WORDS.sub("", text)


def clear_slots(tracker: Tracker, slots: Iterable[str]) -> list[EventType]:
    """Events that empty ``slots``: one for each slot that holds a value. An empty slot gets
    none: every event is stored (encrypted) and sent back to the action server with each
    later call of the conversation."""
    return [SlotSet(slot, None) for slot in slots if tracker.get_slot(slot) is not None]


def reset_petition(tracker: Tracker) -> list[EventType]:
    """Events that clear one petition in progress (the last filed case stays known)."""
    return clear_slots(tracker, PETITION_STATE_SLOTS)


# Words about the registration itself, not the matter ("我想了想，还是同意吧，帮我登记").
ABOUT_REGISTERING = re.compile(
    r"我?(?:想了想|考虑了一下|考虑好了|再想想)|还是|同意|愿意|帮我|给我|我要|我想|登记|一下|重新|吧|了|啊|呀|[，,。.！!？?\s]"
)


def has_content(text: str) -> bool:
    """Whether anything but punctuation and fillers is left ("，谢谢" is not)."""
    return len(re.sub(r"[\W_]|谢谢|好的|麻烦了|吧|啊|呀|了", "", text or "")) >= 2


def opening_description(text: str) -> str | None:
    """The citizen's own description of the matter, if the message contains one."""
    text = tidy_text(text)
    remainder = GENERIC_OPENERS.sub("", text, count=1)
    if len(ABOUT_REGISTERING.sub("", remainder)) < 4:
        return None
    return text if len(remainder) >= 10 else None


class ActionStartIntake(Action):
    """Begin a petition from the citizen's opening message.

    The description becomes the facts (not asked again), its likely category is proposed
    later, and a place named in it is kept; a place outside the jurisdiction is explained
    at once. Nothing personal is asked here: the form first asks for consent.
    """

    def name(self) -> str:
        return "action_start_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        if intent == "inform" and not tracker.latest_message.get("text", "").startswith("/"):
            # An answer with no question asked: it starts a petition when it carries the matter
            # or the citizen's details; a bare "好的" or number is told how to start.
            found = understand(latest_text(tracker))
            if find_case_no(latest_text(tracker)) and not (found.story and found.answers):
                # "帮我查一下 xf 2026 000 789 办到哪了" read as an answer: a lookup, not a petition
                dispatcher.utter_message(
                    text=texts.text("status.case_no_outside_lookup"), buttons=texts.buttons("status.case_no_outside_lookup")
                )
                return [FollowupAction("action_listen")]
            if not found.answers and not found.story:
                if not safety_first(dispatcher, tracker):
                    dispatcher.utter_message(text=texts.text("inform_outside_form"))
                return [FollowupAction("action_listen")]
        # A petition confirmed before may have been filed without the answer arriving: tell
        # its case number first instead of dropping it (actions/filing.py).
        lost = await find_lost_filing(tracker)
        if lost is not None:
            dispatcher.utter_message(
                text=texts.text("submit.recovered", case_no=lost["case"]["case_no"], query_code=lost["query_code"])
            )
        events = reset_petition(tracker) + (filed_events(lost) if lost is not None else [])
        # A "/file_petition" button files the description it was offered for.
        text = described_text(tracker)
        # Emergency numbers first; a matter for another procedure is explained, not filed.
        diverted = divert_opening(dispatcher, tracker, text)
        if diverted is not None:
            return events + diverted
        if text and is_vague_opener(text):
            dispatcher.utter_message(text=texts.text("describe_first"))
            return events + [FollowupAction("action_listen")]
        description = opening_description(text) if text else None
        if description:
            found = understand(description)
            # Personal details in the opening wait for the consent notice (actions/understanding.py).
            # (the place is taken below, with the explanation of a place outside the area)
            pieces = {s: v for s, v in found.answers.items() if s in FORM_SLOTS and s != "place"}
            if pieces:
                events.append(SlotSet(PENDING_SLOT, pieces))
            story = found.story if found.answers else description
            if story:
                events.append(SlotSet("facts", story[:2000]))
            guesses = infer_categories(description)
            if guesses:
                events.append(SlotSet("category_guess", guesses[0][0]))
            if asks_who_handles(description):
                # "这个事情找谁": who handles it first, then the registration goes on
                slots = {"facts": story, "category_guess": guesses[0][0] if guesses else None}
                dispatcher.utter_message(text=handler_answer(description, slots))
            place = resolve_place(story or description)
            if place.status not in ("in", "out") and story:
                # the place said with the name ("我是文新街道的李秀英"), not the home address
                address = found.answers.get("address")
                place = resolve_place(description.replace(address, "") if address else description)
            if place.status not in ("in", "out") and found.answers.get("place"):
                # the matter told as at home ("住…转塘街道…。我们村…"): the 街道 of the address
                place = resolve_place(found.answers["place"])
            if place.status == "in" and place.subdivision:
                events.append(SlotSet("place", place.subdivision))
            elif place.status == "out" and place.outside_area:
                # Say at once where the matter belongs (属地管理) before asking anything.
                events.append(SlotSet("place", place.outside_area))
                dispatcher.utter_message(
                    text=texts.text("place_out", area=place.outside_area, body=place.responsible_body)
                )
        return events


def place_of_address(address: Any) -> str | None:
    """The 街道 or 镇 of the area a home address names by its full official name
    ("西湖区文新街道竞舟路66号" -> 文新街道). Nothing when the name is only suggested: a road
    ("三墩路" is in 文新街道), a 小区 ("翠苑一区"), a misspelling — those are asked."""
    text = tidy_text(str(address or ""))
    named = [s.name for s in load_jurisdiction().subdivisions if s.name in text]
    return named[0] if len(named) == 1 else None


class ValidatePetitionForm(AskingFormValidationAction):
    """Extracts and checks every answer of ``petition_form``, then asks its next question.

    An answer is taken only when it answers the question asked (see ``is_answer_to``);
    a failed check explains what was wrong and asks again; after repeated failures the
    form pauses and offers the hotline, keeping every answer given so far. The questions are
    ``QUESTIONS`` below (actions/asking.py: asked in the same call).
    """

    def name(self) -> str:
        return "validate_petition_form"

    @property
    def questions(self) -> Mapping[str, Question]:
        return QUESTIONS

    async def validate_turn(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        before = dict(tracker.slots)
        events = await super().validate_turn(dispatcher, tracker, domain)
        after = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        from_address = (
            after.get("place") if not before.get("place") and after.get("address")
            and after.get("place") == place_of_address(after["address"]) else None
        )
        shown = {k: v for k, v in after.items() if k != "place"} if from_address else after
        line = understood_line(before, shown, before.get("requested_slot"))
        if line:
            dispatcher.utter_message(text=line)
        if from_address:
            dispatcher.utter_message(text=texts.text("place_from_address", place=from_address))
        return events

    # --- extraction ---------------------------------------------------------------------
    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The answer to the question asked, and every other piece of the message
        (actions/understanding.py): open questions it answers, held personal details,
        more of the story."""
        slot = tracker.get_slot("requested_slot")
        if slot not in FORM_SLOTS or not is_answer_to(tracker, slot):
            return []
        if slot == "pi_consent" and refuses_registration(tracker):
            return [SlotSet(slot, False)]  # declining the notice: nothing of the message is kept
        found = heard(tracker)
        text = latest_text(tracker)
        if not found and asks_who_handles(text) and is_question(text):
            # "这个事情找谁啊": answered first, then the same question again
            answer_text = handler_answer(text, tracker.slots)
            dispatcher.utter_message(text=f"{answer_text}\n{texts.text('jurisdiction_question.in_form')}")
            return []
        pieces = other_pieces(found, slot, tracker.slots)
        name = bare_name(text) if slot in BARE_NAME_SLOTS and not found and not found.story else None
        if name and not is_given(tracker.get_slot("petitioner_name")):
            pieces["petitioner_name"] = name  # the name given late, while another question is open
        answer = self.raw_answer(slot, tracker)
        consent_by_number = slot == "id_consent" and "id_number" in pieces  # the number is the consent
        if slot in found.answers and (pieces or found.story or slot in OWN_PIECE_SLOTS):
            answer = found.answers[slot]  # this question's own piece, without the words around it
        elif (pieces or found.story) and slot in YES_NO_SLOTS and not consent_by_number:
            answer = leading_yes_no(text)  # only a yes or no said in words, not one guessed from a story
        elif slot == "petitioner_name" and pieces and 2 <= len(found.rest) <= NAME_MAX_LEFTOVER:
            # "陈志明 3301… 1370… 家住…": the name is what is left; "先记一下我电话…" gave none
            answer = found.rest if looks_like_name(found.rest) else None
        elif pieces and not has_content(found.rest) and not consent_by_number:
            answer = None  # it answered other questions only ("13812345678" when the 证件 is asked)
        elif slot in NUMBER_SLOTS and pieces and not check_slot(slot, found.rest, tracker.slots).ok:
            answer = None  # "想了想还是把身份证号给你吧，3301…" when the phone is asked: no phone in it
        elif (pieces or found.story) and slot not in STORY_KEEPING_SLOTS and slot not in YES_NO_SLOTS:
            answer = found.rest or None  # the free text left once the pieces are out
        events: list[EventType] = []
        gates = dict(tracker.slots)
        if "id_number" in pieces and tracker.get_slot("id_consent") is False and not declines_document("id_number", text):
            # the number given after all: giving it is the consent (PIPL 第二十九条), the earlier
            # "不提供" is replaced
            gates["id_consent"] = True
            events += [SlotSet("id_consent", True), SlotSet("id_type", None), SlotSet("guardian_consent", None)]
        now, held = split_pieces(pieces, gates)
        events += [SlotSet(s, v) for s, v in now.items()]
        if held:
            events.append(SlotSet(PENDING_SLOT, merged_pending(tracker.slots, held)))
        if slot in STORY_KEEPING_SLOTS and found.story:
            facts = with_story(tracker.slots, found.story)
            if facts:
                events.append(SlotSet("facts", facts))
        if answer is not None and answer != "":
            events.append(SlotSet(slot, answer))
        return events

    @staticmethod
    def raw_answer(slot: str, tracker: Tracker) -> Any:
        """The answer as given: a button's entity, yes/no for yes/no slots, else the text."""
        if slot in ENTITY_SLOTS:
            value = latest_entity(tracker, ENTITY_SLOTS[slot])
            if value is not None:
                return value
        if slot in YES_NO_SLOTS or slot == "category":
            if declines_document(slot, latest_text(tracker)):
                return False  # "这个，嗯，先不给了": a no, whatever a stray 嗯 suggests
            value = yes_no_from_message(tracker)
            if value is None:
                value = leading_yes_no(latest_text(tracker))
            if slot == "category":
                return True if value is True else latest_text(tracker)
            return value if value is not None else latest_text(tracker)
        intent, _ = latest_intent(tracker)
        if intent == "deny" and slot in ("respondent", "prior_case_no"):
            return False
        return latest_text(tracker)

    # --- validation ---------------------------------------------------------------------
    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        updates: dict[str, Any] = {}
        found = heard(tracker)
        for slot, value in tracker.slots_to_validate().items():
            if slot == "summary_confirmed":
                result = self.validate_summary(value, dispatcher, tracker)
            elif slot == PENDING_SLOT:
                result = {PENDING_SLOT: value}
            elif slot in CHECKS and value is not None:
                result = self.validate_answer(slot, value, dispatcher, tracker, found)
            else:
                continue
            updates.update(result)
            tracker.slots.update(result)
        if updates.get("address") and not tracker.get_slot("place"):
            # The home address names a 街道 or 镇 of the area and no other place was said: the
            # matter is taken to be there, told in one line with the way to say otherwise
            # (run() below), and confirmed again in the summary.
            derived = place_of_address(updates["address"])
            if derived:
                updates["place"] = derived
                tracker.slots["place"] = derived
        elif updates.get("facts") and tracker.get_slot("place") and \
                tracker.get_slot("place") == place_of_address(tracker.get_slot("address")):
            # The place was taken from the home address; the matter told now happened elsewhere
            # in the area ("我在三墩的工地干了半年…"): the story's place is the one.
            told = resolve_place(updates["facts"])
            if told.status == "in" and told.subdivision and told.subdivision != tracker.get_slot("place"):
                updates["place"] = told.subdivision
                tracker.slots["place"] = told.subdivision
                dispatcher.utter_message(text=texts.text("place_from_story", place=told.subdivision))
        if updates.get("facts") and not tracker.get_slot("category_guess") and not tracker.get_slot("category"):
            # the matter told after the opening: its likely category is proposed too
            guesses = infer_categories(updates["facts"])
            if guesses:
                updates["category_guess"] = guesses[0][0]
                tracker.slots["category_guess"] = guesses[0][0]
        released = release_pending(tracker.slots)
        for message in released.pop(RELEASE_MESSAGES, ()):
            dispatcher.utter_message(text=message)
        updates.update(released)
        tracker.slots.update(released)
        return [SlotSet(slot, value) for slot, value in updates.items()]

    def validate_answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        found: Understanding | None = None,
    ) -> dict[str, Any]:
        answered = tracker.get_slot("requested_slot") == slot
        if not answered and isinstance(value, str) and value in NOT_GIVEN_VALUES:
            return {}  # "不适用", "未提供" ...: recorded by an earlier answer, not an answer itself
        outcome = check_slot(slot, value, tracker.slots)
        if outcome.ok and not answered:
            # A value given earlier, checked again when the form resumes: it must not reset what
            # later answers decided (e.g. the 复核 follow-ups of a review stage). A piece of this
            # very message says what it implies (the representatives rule for a group).
            if outcome.message and found is not None and slot in found.answers:
                dispatcher.utter_message(text=outcome.message)
            kept = {k: v for k, v in outcome.updates.items() if k == slot or tracker.get_slot(k) is None}
            return {k: v for k, v in kept.items() if k != "requested_slot"}
        if outcome.ok:
            if outcome.message and answered:
                dispatcher.utter_message(text=outcome.message)
            attempts = self._attempts(tracker, slot, reset=True)
            attempts.update(outcome.remember)
            if attempts != (tracker.get_slot("failed_attempts") or {}):
                return {**outcome.updates, "failed_attempts": attempts}
            return dict(outcome.updates)
        if not answered:  # a value carried over from the opening message: just ask for it
            return {slot: None}
        if slot == "pi_consent" and found is not None and (found.story or found.answers):
            # The matter or personal details told instead of a yes/no: kept (above), no error;
            # the consent question is asked again in one short sentence.
            return {slot: None}
        return self._fail(slot, outcome, dispatcher, tracker)

    def validate_summary(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if value is None:  # cleared for a new petition (e.g. after a recovered filing): no answer
            return {}
        if value is True:
            return {
                "summary_confirmed": True,
                "intake_status": "confirmed",
                "submission_key": submission_key(tracker.slots, tracker.sender_id, channel_of(tracker), today_local()),
            }
        if value is False:
            return {"summary_confirmed": None, "awaiting_field_choice": True}
        dispatcher.utter_message(text=texts.text("summary.unclear"))
        return {"summary_confirmed": None}

    def _fail(
        self, slot: str, outcome: AnswerOutcome, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if outcome.message:
            dispatcher.utter_message(text=outcome.message, buttons=outcome.buttons or [])
        attempts = self._attempts(tracker, slot)
        attempts.update(outcome.remember)
        if attempts.get(slot, 0) >= MAX_FAILURES:
            # Stop asking the same question: the answers are kept and the citizen is
            # offered another way (action_complete_petition explains).
            return {slot: None, "failed_attempts": {}, "intake_status": "paused", "requested_slot": None}
        return {slot: None, "failed_attempts": attempts}

    @staticmethod
    def _attempts(tracker: Tracker, slot: str, reset: bool = False) -> dict[str, int]:
        attempts = dict(tracker.get_slot("failed_attempts") or {})
        if reset:
            attempts.pop(slot, None)
            if slot == "place":
                attempts.pop("place_unspecified", None)
        else:
            attempts[slot] = attempts.get(slot, 0) + 1
        return attempts


# --- asking ---------------------------------------------------------------------------------
def field_choice_buttons(slots: Mapping[str, Any]) -> list[dict[str, str]]:
    """Buttons for the fields the citizen has filled so far, to pick one to correct."""
    return [
        {"title": BY_SLOT[slot].label, "payload": "/correct" + _json({"field": slot})}
        for slot in correctable_slots(slots)
    ]


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


class SlotQuestion(Question):
    """Asks one form question, or which field to correct when the citizen wants to."""

    def events(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if tracker.get_slot("awaiting_field_choice"):
            dispatcher.utter_message(
                text=texts.text("field_choice"), buttons=field_choice_buttons(tracker.slots)
            )
            return [SlotSet("awaiting_field_choice", None)]
        self.ask(dispatcher, tracker)
        return []

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        prompt = BY_SLOT[self.slot].prompt if self.slot in BY_SLOT else f"ask.{self.slot}"
        dispatcher.utter_message(text=texts.text(prompt), buttons=texts.buttons(prompt))


class AskPiConsent(SlotQuestion):
    """The full notice once per petition; asked again, one short sentence with its link."""

    slot = "pi_consent"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        key = "consent.again" if notice_shown(tracker) else "consent"
        dispatcher.utter_message(text=texts.text(key), buttons=texts.buttons(key))


def notice_shown(tracker: Tracker) -> bool:
    """Whether the full consent notice was shown since this petition started."""
    opening = texts.text("consent").splitlines()[0]
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_start_intake":
            return False
        if event.get("event") == "bot" and (event.get("text") or "").startswith(opening):
            return True
    return False


class AskPlace(SlotQuestion):
    slot = "place"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        options = [(s.name, inform_payload("place", s.name)) for s in load_jurisdiction().subdivisions]
        dispatcher.utter_message(
            text=texts.text("ask.place"),
            buttons=[{"title": title, "payload": payload} for title, payload in options],
        )


class AskCategory(SlotQuestion):
    slot = "category"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        guess = tracker.get_slot("category_guess")
        others = [name for name in category_names() if name != guess]
        buttons = [{"title": name, "payload": inform_payload("category", name)} for name in others]
        if guess:
            confirm = {"title": f"{texts.entry('category.confirm_button')}，{guess}", "payload": "/affirm"}
            dispatcher.utter_message(text=texts.text("category.guess", category=guess), buttons=[confirm] + buttons)
        else:
            dispatcher.utter_message(text=texts.text("category.choose"), buttons=buttons)


class AskSummaryConfirmed(SlotQuestion):
    slot = "summary_confirmed"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        note = group_note(tracker)
        if note:
            dispatcher.utter_message(text=note)
        dispatcher.utter_message(text=render_summary(tracker.slots), buttons=texts.buttons("summary"))


def group_note(tracker: Tracker) -> str | None:
    """For a matter of 5 or more people, the representatives rule (第二十条) with the first
    read-back, unless this very turn already said it (the number was just answered)."""
    size = tracker.get_slot("group_size")
    if not isinstance(size, (int, float)) or size < GROUP_MIN:
        return None
    note = texts.text("group", n=int(size))
    header = texts.text("summary.header")
    this_turn = True
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_start_intake":
            break
        if event.get("event") == "user":
            this_turn = False
        text = (event.get("text") or "") if event.get("event") == "bot" else ""
        if (this_turn and text == note) or text.startswith(header):
            return None
    return note


def plain_question(slot: str) -> SlotQuestion:
    """The question for ``slot`` whose text and buttons are ``ask.<slot>`` in prompts.yml (or
    the field's prompt)."""
    return SlotQuestion(slot)


# Every question of the petition form; the ones not written above take their text and buttons
# from actions/prompts.yml.
CUSTOM_QUESTIONS: dict[str, SlotQuestion] = {
    q.slot: q for q in (AskPiConsent(), AskPlace(), AskCategory(), AskSummaryConfirmed())
}
QUESTIONS: dict[str, SlotQuestion] = {
    slot: CUSTOM_QUESTIONS.get(slot) or plain_question(slot) for slot in FORM_SLOTS
}

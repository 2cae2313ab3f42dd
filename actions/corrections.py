"""Corrections of any answer during the form, and cancelling the petition."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.fields import BY_SLOT, PRIOR_SLOTS, display_value
from bot.rules.idcard import check_id_number
from bot.rules.jurisdiction import IN, OUT, resolve_place
from bot.rules.petition import detect_field, extract_correction_value
from bot.rules.phone import check_mobile

from actions import texts
from actions.answer_checks import check_slot
from actions.common import latest_entity, latest_text
from actions.intake import reset_petition

# Answers that belong together: correcting one asks them all again.
REPEAT_GROUP = ("is_first",) + PRIOR_SLOTS
# A new value this short that names a 街道/镇 or another area is a place, not an address.
PLACE_VALUE_MAX = 12


def correction_target(text: str, field: str | None) -> tuple[str | None, str | None]:
    """Which field the citizen corrects and the new value, if they gave one.

    "电话写错了，应该是13912345678" -> ("phone", "13912345678"); "地址改一下" -> ("address", None);
    a bare new number ("是13912345678") is recognised by its form.
    """
    field = field or (detect_field(text) if text else None)
    value = extract_correction_value(text) if text else None
    if field is None and text:
        if check_mobile(text).ok:
            return "phone", text
        if check_id_number(text).ok:
            return "id_number", text
    if field is None and value and len(value) <= PLACE_VALUE_MAX and resolve_place(value).status in (IN, OUT):
        return "place", value  # "站台不在留下，是在转塘那边": a place named alone is where it happened
    return field, value


class ActionCorrectField(Action):
    """Change one answer; the form then asks whatever is missing and reads back again."""

    def name(self) -> str:
        return "action_correct_field"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        field, value = correction_target(latest_text(tracker), latest_entity(tracker, "field"))
        if field not in BY_SLOT or not BY_SLOT[field].correctable:
            # The next question becomes "which field?" (see SlotQuestion in actions/intake.py).
            return [SlotSet("awaiting_field_choice", True)]
        events: list[EventType] = [SlotSet("summary_confirmed", None)]
        if field in REPEAT_GROUP:
            return events + [SlotSet(slot, None) for slot in REPEAT_GROUP]
        label = BY_SLOT[field].label
        if value:
            outcome = check_slot(field, value, tracker.slots)
            if outcome.ok:
                shown = display_value(field, outcome.updates.get(field), {**tracker.slots, **outcome.updates})
                dispatcher.utter_message(text=texts.text("correction.done", label=label, value=shown))
                if outcome.message:
                    dispatcher.utter_message(text=outcome.message)
                return events + [SlotSet(slot, v) for slot, v in outcome.updates.items()]
            dispatcher.utter_message(text=texts.text("correction.invalid", label=label, reason=outcome.message))
        return events + [SlotSet(field, None)]


class ActionCancelPetition(Action):
    """The citizen confirmed cancelling: nothing is filed and their answers are cleared."""

    def name(self) -> str:
        return "action_cancel_petition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=texts.text("cancelled"))
        return reset_petition(tracker)

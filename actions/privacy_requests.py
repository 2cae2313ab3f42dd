"""The citizen asks what is held about them, or to delete it (PIPL 第44–47条: 查阅、删除).

- A case was filed in this conversation (slot ``case_no``): its registration and conversation
  are the archive of a 信访事项 and are kept for the retention period of the jurisdiction file
  (then anonymised, ``python -m bot purge``); the citizen is told so and how to ask staff
  (hotline, reception place, or 「转人工」).
- Nothing was filed: the assistant lists what this conversation holds (the answers given so
  far, numbers masked) and offers to delete it (buttons), during the petition form too (the
  form waits for the answer, then goes on, or ends after the deletion). On confirmation the
  back office
  overwrites the conversation's stored texts and answers (``POST /conversations/{id}/erase``)
  and the answers are emptied here. Texts: ``privacy_request.*`` in actions/prompts.yml.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.fields import FIELDS, PERSONAL_SLOTS, display_value
from bot.rules.masking import mask_numbers_in_text, mask_phone

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import log_tag
from actions.intake import PETITION_STATE_SLOTS, clear_slots, reset_petition
from actions.understanding import PENDING_SLOT

logger = logging.getLogger(__name__)

SHOWN_CHARS = 20
ADDRESS_CHARS = 6


def held_lines(slots: dict[str, Any]) -> list[str]:
    """One "label：value" line per answer held, numbers masked, long texts shortened."""
    lines = []
    for field in FIELDS:
        shown = display_value(field.slot, slots.get(field.slot), slots)
        if shown is None:
            continue
        if field.show == "phone":
            shown = mask_phone(shown) if any(c.isdigit() for c in shown) else shown
        elif field.slot == "petitioner_name":
            shown = shown[:1] + "*" * (len(shown) - 1)
        elif field.slot == "address":
            shown = mask_numbers_in_text(shown)[:ADDRESS_CHARS] + "……"
        else:
            shown = mask_numbers_in_text(shown)
        if len(shown) > SHOWN_CHARS:
            shown = shown[:SHOWN_CHARS] + "……"
        lines.append(f"{field.label}：{shown}")
    return lines


class ActionDataRequest(Action):
    """What this conversation holds, and the offer to delete it; or the archive rule."""

    def name(self) -> str:
        return "action_data_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        case_no = tracker.get_slot("case_no")
        if case_no:
            dispatcher.utter_message(
                text=texts.text("privacy_request.filed", case_no=case_no),
                buttons=texts.buttons("privacy_request.filed"),
            )
            return []
        slots = tracker.current_slot_values()
        # details told before consent, held for the form (actions/understanding.py), are held too
        pending = {k: v for k, v in (slots.get(PENDING_SLOT) or {}).items() if slots.get(k) is None}
        lines = held_lines({**slots, **pending})
        held = "\n".join(lines) if lines else texts.text("privacy_request.nothing_registered")
        dispatcher.utter_message(
            text=texts.text("privacy_request.held", held=held),
            buttons=texts.buttons("privacy_request.held"),
        )
        return []


class ActionDataErase(Action):
    """Delete what this unfiled conversation holds (after the citizen confirmed)."""

    def name(self) -> str:
        return "action_data_erase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("case_no"):
            dispatcher.utter_message(text=texts.text("privacy_request.filed", case_no=tracker.get_slot("case_no")))
            return []
        try:
            erased = await BackOfficeClient.from_settings().erase_conversation(tracker.sender_id)
        except BackOfficeError as exc:
            logger.warning("erasure failed (conversation %s): %s", log_tag(tracker), exc)
            dispatcher.utter_message(text=texts.text("privacy_request.unavailable"))
            return []
        if not erased:
            dispatcher.utter_message(text=texts.text("privacy_request.filed_elsewhere"))
            return []
        dispatcher.utter_message(text=texts.text("privacy_request.erased"))
        return reset_petition(tracker) + clear_slots(tracker, sorted(PERSONAL_SLOTS - set(PETITION_STATE_SLOTS)))


class ActionDataKeep(Action):
    """The citizen chose not to delete."""

    def name(self) -> str:
        return "action_data_keep"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        in_form = (tracker.active_loop or {}).get("name") == "petition_form"
        dispatcher.utter_message(text=texts.text("privacy_request.kept_in_form" if in_form else "privacy_request.kept"))
        return []

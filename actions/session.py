"""The start of every conversation session: the agency's published facts become slots.

Policy answers (data/responses/faq.yml, the one file staff edit) name the agency, its hotline,
reception address and hours, online channel and retention period through placeholders such as
``{hotline}``; Rasa fills placeholders from slots. This action sets those slots from the
jurisdiction configuration (bot/config/jurisdiction.yml) whenever a session starts, and
otherwise does what Rasa's own ``action_session_start`` does (carry the slots over, listen).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.fields import FORM_SLOTS
from bot.rules.jurisdiction import load_jurisdiction

from actions import texts


def agency_slots() -> dict[str, str]:
    """Slot name -> value of every local fact the FAQ answers may use."""
    facts = load_jurisdiction().public_facts()
    # The slots spell address and hours out: the FAQ answers read "{reception_address}".
    facts["reception_address"] = facts.pop("address")
    facts["reception_hours"] = facts.pop("hours")
    return facts


# Never carried into a new session: the query code of the last filed case and a lookup in
# progress. A new session (after the expiry, or a device that reuses the conversation id)
# tells a case's status only to whoever gives its number and query code again.
NOT_CARRIED_OVER = frozenset({"session_started_metadata", "query_code", "lookup_case_no", "lookup_query_code"})


def unfinished_petition(slots: dict[str, Any]) -> bool:
    """Whether the carried-over slots hold a petition begun and not filed (filing, cancelling
    and declining clear them)."""
    if slots.get("intake_status") not in (None, "paused"):
        return False
    return slots.get("pi_consent") is True and any(slots.get(s) is not None for s in FORM_SLOTS if s != "pi_consent")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        carry_over = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True)
        facts = agency_slots()
        if carry_over:
            kept: dict[str, Any] = {
                name: value
                for name, value in (tracker.slots or {}).items()
                if value is not None and name not in facts and name not in NOT_CARRIED_OVER
            }
            events.extend(SlotSet(name, value) for name, value in kept.items())
            if unfinished_petition(kept):
                # Left in the middle of a petition and come back: its answers are kept, and
                # "继续填写" takes it up again where it stopped.
                events += [SlotSet("intake_status", "paused"), SlotSet("requested_slot", None)]
                dispatcher.utter_message(text=texts.text("session.unfinished"))
        events.extend(SlotSet(name, value) for name, value in facts.items())
        events.append(ActionExecuted("action_listen"))
        return events

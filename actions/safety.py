"""Emergencies: the emergency numbers first, immediately, before anything else.

Triggered by the ``emergency`` intent, which the NLU pipeline sets whenever the deterministic
safety net of ``bot.rules.safety`` finds a danger (``connectors/safety_net.py``), whatever the
classifier said; the petition form does not take a message with emergency words as an answer
(``actions.common.is_answer_to``), and every action of the policy answers calls
:func:`safety_first` before its own reply. Inside a form nothing is lost: the rules of
data/rules/policy.yml run the form again afterwards, which asks its question again.

The first sentence names the numbers for the danger first (``bot.rules.safety.NUMBERS``):
119 for a fire or a gas leak, 110 for violence, a child in danger or a threat to one's own
life (with 120 and the psychological-assistance hotline 12356), 120 for a medical emergency,
110 and 120 for someone in the water, 122 for a traffic accident (120 first when someone is hurt).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.safety import Emergency, detect_emergency

from actions import texts
from actions.common import latest_intent, latest_text


def emergency_message(found: Emergency | None, petition_in_progress: bool = False) -> str:
    """The emergency reply: the number to call first, all numbers, then what happens next."""
    kind = found.kind if found else "other"
    parts = [
        texts.text(f"emergency.first.{kind}"),
        texts.text("emergency.numbers"),
        texts.text("emergency.after_form" if petition_in_progress else "emergency.after"),
    ]
    return "\n".join(parts)


def petition_in_progress(tracker: Tracker) -> bool:
    return (tracker.active_loop or {}).get("name") == "petition_form"


def safety_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Say the emergency numbers if the latest message describes an emergency; whether it did."""
    found = detect_emergency(latest_text(tracker))
    if found is None:
        return False
    dispatcher.utter_message(text=emergency_message(found, petition_in_progress(tracker)))
    return True


class ActionHandleEmergency(Action):
    """The emergency numbers (110 / 119 / 120 / 122 / 12356), the first ones for the danger described."""

    def name(self) -> str:
        return "action_handle_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        found = detect_emergency(latest_text(tracker))
        intent, _ = latest_intent(tracker)
        if found is None and intent != "emergency":
            # A message the form did not take for another reason: nothing to warn about,
            # the form asks its question again.
            return []
        dispatcher.utter_message(text=emergency_message(found, petition_in_progress(tracker)))
        return []

"""The forms' questions, asked by each form's validator in the same call to the action server.

Rasa's form (``FormAction`` in Rasa 3.6) calls ``validate_<form>`` at every turn of the form:
at activation, after each answer, and when the form resumes after an interruption (then with
no slot to validate). It then asks for the next slot with an ``action_ask_<slot>`` or an
``utter_ask_<slot>`` of the domain; an ask action is a second call to the action server, which
sends the whole tracker again. Here the validator asks the next question itself, at the end of
the same call, and the domain lists no ask action and no ``utter_ask_*`` response for a form
slot, so Rasa's form finds nothing to ask with and asks nothing (``FormAction._ask_for_slot``).

``AskingFormValidationAction.run`` chooses the slot as Rasa's form would from the same events:

- nothing is asked when the validation ends the form (``requested_slot`` set to ``None`` last,
  or the loop deactivated) or rejected the turn;
- the slot the validation named in ``requested_slot`` (the first one it set, as Rasa takes it);
- else the first required slot of the form (``domain["forms"]``) without a value; the
  validator then also sets ``requested_slot`` to it, which Rasa keeps;
- no slot left: nothing, and Rasa completes the form.

The question sees what an ask action saw: the slots and events after the validation, the
validation's own messages of this turn included.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

REQUESTED_SLOT = "requested_slot"


class Question(ABC):
    """How one form slot is asked for: ``slot`` is a class attribute of a written-out question,
    or given when one class serves several slots."""

    slot: str

    def __init__(self, slot: str | None = None) -> None:
        if slot is not None:
            self.slot = slot

    def events(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Ask (through ``dispatcher``); the events asking sets."""
        self.ask(dispatcher, tracker)
        return []

    @abstractmethod
    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Say the question."""


class AskingFormValidationAction(FormValidationAction, ABC):
    """A form validator that also asks the form's next question (see the module's docstring).

    Subclasses put their validation in ``validate_turn`` (by default rasa-sdk's extraction and
    validation) and name their questions in ``questions`` (slot -> ``Question``).
    """

    questions: Mapping[str, Question] = {}

    @abstractmethod
    def name(self) -> str:
        """``validate_<form>``."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # the tracker as Rasa sent it: validation updates its slots and events in place
        slots, events = dict(tracker.slots), list(tracker.events)
        validated = await self.validate_turn(dispatcher, tracker, domain)
        said = [
            {"event": "bot", "text": message.get("text"), "data": {"buttons": message.get("buttons") or []}}
            for message in dispatcher.messages
        ]
        after = Tracker(
            tracker.sender_id,
            {**slots, **{e["name"]: e.get("value") for e in validated if e.get("event") == "slot"}},
            tracker.latest_message,
            # as Rasa's form hands its ask action the tracker: the form's run, the validation's
            # messages, then its events
            events + [{"event": "action", "name": self.form_name()}] + said + list(validated),
            tracker.is_paused(),
            tracker.followup_action,
            tracker.active_loop,
            tracker.latest_action_name,
        )
        return validated + self.ask_next(dispatcher, after, validated, domain)

    async def validate_turn(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The extraction and validation of this turn (rasa-sdk's, unless overridden)."""
        return await super().run(dispatcher, tracker, domain)

    def ask_next(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, validated: list[EventType], domain: DomainDict
    ) -> list[EventType]:
        """The next question's events (``requested_slot`` first when the validation did not set
        it), or nothing when the form ends here."""
        slot = next_slot(validated, self.domain_slots(domain), tracker.slots)
        if slot is None:
            return []
        named = any(e.get("event") == "slot" and e.get("name") == REQUESTED_SLOT for e in validated)
        asked = self.questions[slot].events(dispatcher, tracker)
        return ([] if named else [SlotSet(REQUESTED_SLOT, slot)]) + asked


def next_slot(validated: list[EventType], required: list[str], slots: Mapping[str, Any]) -> str | None:
    """The slot Rasa's form requests after a validation that returned ``validated``
    (``FormAction.is_done``, ``request_next_slot``), or ``None`` when it requests none."""
    if any(e.get("event") == "action_execution_rejected" for e in validated):
        return None  # rejected by the validation: Rasa asks nothing
    requested = [e.get("value") for e in validated if e.get("event") == "slot" and e.get("name") == REQUESTED_SLOT]
    loops = [e for e in validated if e.get("event") == "active_loop"]
    if (requested and requested[-1] is None) or (loops and loops[-1].get("name") is None):
        return None  # the validation ended the form
    if requested:
        return requested[0]
    return next((slot for slot in required if slots.get(slot) is None), None)

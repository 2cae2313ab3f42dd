"""The greeting: what the assistant can do, with the agency's own name."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=texts.text("greet"))
        if tracker.get_slot("intake_status") == "paused":
            dispatcher.utter_message(text=texts.text("session.unfinished"))
        return []

"""Small talk: who the assistant is, whether this is a real government channel, abuse.

Answers come from actions/prompts.yml (``smalltalk.<intent>``) with the agency's own facts;
abuse gets a calm answer and an offer of help, never a retort.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.jurisdiction import load_jurisdiction

from actions import texts
from actions.common import latest_intent
from actions.safety import safety_first

SMALLTALK_INTENTS = ("bot_identity", "ask_official", "insult")


class ActionSmalltalk(Action):
    def name(self) -> str:
        return "action_smalltalk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if safety_first(dispatcher, tracker):
            return []
        intent, _ = latest_intent(tracker)
        if intent in SMALLTALK_INTENTS:
            dispatcher.utter_message(
                text=texts.text(f"smalltalk.{intent}", online_url=load_jurisdiction().online_url)
            )
        return []

"""When understanding is uncertain: the 2-3 most likely questions as buttons, then a plain
fallback with the hotline.

Runs for ``nlu_fallback`` (the FallbackClassifier: low confidence, or two intents too close to
call). The candidates come from the classifier's intent ranking and, for policy questions,
from the ResponseSelector's ranking of the answers, so the citizen chooses instead of getting a
confident wrong answer. A policy question is offered with a paraphrase the assistant knows for
certain (one of its training examples); any other choice with its intent ("/query_status").
When the citizen was just offered choices, or none is likely, the plain fallback names the
hotline and the service hours.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.common import latest_text, user_turns
from actions.procedures import explain_procedure, is_payload
from actions.safety import petition_in_progress, safety_first
from bot.rules.procedures import detect_procedure

MAX_CHOICES = 3
MIN_SCORE = 0.05
NONE_OF_THESE_PAYLOAD = "/nlu_fallback"


def faq_ranking(parse: dict[str, Any]) -> list[tuple[str, float]]:
    """(FAQ key, confidence) from the ResponseSelector output of a parsed message, best first."""
    selector = (parse.get("response_selector") or {}).get("faq") or {}
    ranking = []
    for item in selector.get("ranking") or []:
        key = str(item.get("intent_response_key") or "")
        if key.startswith("faq/"):
            ranking.append((key.removeprefix("faq/"), float(item.get("confidence") or 0.0)))
    return sorted(ranking, key=lambda pair: -pair[1])


def candidates(parse: dict[str, Any]) -> list[tuple[str, str, float]]:
    """The most likely meanings of a message: (kind, key, score), kind "intent" or "faq".

    An intent's score is its confidence; a policy answer's score is the confidence of the
    intent ``faq`` times the selector's confidence in that answer. Only meanings that can be
    offered as a choice count (no greetings, yes/no, form answers).
    """
    offered_intents = texts.entry("clarify.intents")
    offered_faq = texts.entry("clarify.faq")
    scored: list[tuple[str, str, float]] = []
    for item in parse.get("intent_ranking") or []:
        name, confidence = item.get("name"), float(item.get("confidence") or 0.0)
        if name == "faq":
            for key, share in faq_ranking(parse)[:MAX_CHOICES]:
                if key in offered_faq:
                    scored.append(("faq", key, confidence * share))
        elif name in offered_intents:
            scored.append(("intent", name, confidence))
    scored.sort(key=lambda item: -item[2])
    return [c for c in scored if c[2] >= MIN_SCORE][:MAX_CHOICES]


def choice_button(kind: str, key: str) -> dict[str, str]:
    if kind == "faq":
        entry = texts.entry(f"clarify.faq.{key}")
        return {"title": entry["title"], "payload": entry["ask"]}
    return {"title": texts.entry(f"clarify.intents.{key}"), "payload": f"/{key}"}


def just_clarified(tracker: Tracker) -> bool:
    """Whether the bot's reply to the previous message was already a clarification."""
    turns = user_turns(tracker)
    return len(turns) >= 2 and "action_clarify" in turns[-2][1]


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if safety_first(dispatcher, tracker):
            return []
        # The precise phrases of another lawful procedure (a judgment, an arbitration, a
        # village secretary's embezzlement) decide even when the classifier cannot.
        match = None if is_payload(tracker.latest_message) else detect_procedure(latest_text(tracker))
        if match is not None:
            explain_procedure(dispatcher, match, petition_in_progress(tracker))
            return []
        choices = [] if just_clarified(tracker) else candidates(tracker.latest_message or {})
        if not choices:
            dispatcher.utter_message(text=texts.text("clarify.fallback"))
            return []
        buttons = [choice_button(kind, key) for kind, key, _ in choices]
        buttons.append({"title": texts.entry("clarify.none_button"), "payload": NONE_OF_THESE_PAYLOAD})
        dispatcher.utter_message(text=texts.text("clarify.ask"), buttons=buttons)
        return []

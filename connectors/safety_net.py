"""The emergency safety net inside the NLU pipeline: danger decides the intent.

A message that ``bot.rules.safety.detect_emergency`` reads as an emergency ("厨房起火了怎么办",
"我妈倒在厨房叫不醒") gets the intent ``emergency`` with confidence 1.0, whatever the
classifiers made of it, so the emergency rules answer it first on every path of the
conversation (opening message, inside a form, during consent or a status lookup). The other
intents stay in the ranking, in their order, with the probability mass the emergency took
(their confidence becomes 0.0); the classifiers' own top prediction is kept under
``safety_net`` in the parse result, for the logs.

With ``veto_dismissed`` (off unless the pipeline sets it), a classifier's ``emergency``
is replaced by its next intent when the detector found emergency words but explicitly
dismissed them as hypothetical, past or a figure of speech ("万一着火", "去年出了车祸", "跳楼价").

An intent of ``keep_intents`` predicted with at least ``keep_confidence`` is kept: its own answer already starts with the emergency numbers
and says more that the citizen needs ("带一桶汽油去区政府门口": the numbers, then the warning of
第二十六条, actions/procedures.py). Button payloads ("/intent{...}") are left alone. Placed after the classifiers and before
FallbackClassifier: a confidence of 1.0 is never a fallback.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.rules.safety import detect_emergency, dismissed_emergency

EMERGENCY_INTENT = "emergency"
SAFETY_NET_KEY = "safety_net"
VETO_KEY = "veto_dismissed"
KEEP_KEY = "keep_intents"
KEEP_CONFIDENCE_KEY = "keep_confidence"

logger = logging.getLogger(__name__)


def _is_payload(text: str) -> bool:
    return text.lstrip().startswith("/")


def emergency_prediction(intent: Optional[Dict[Text, Any]], ranking: List[Dict[Text, Any]]) -> Tuple[Dict, List]:
    """The intent and ranking once the safety net fired: ``emergency`` at 1.0 first, the
    other intents after it in their order, with confidence 0.0."""
    top = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    rest = [
        {**entry, PREDICTED_CONFIDENCE_KEY: 0.0}
        for entry in ranking
        if entry.get(INTENT_NAME_KEY) != EMERGENCY_INTENT
    ]
    return top, [dict(top), *rest]


def vetoed_prediction(ranking: List[Dict[Text, Any]]) -> Tuple[Optional[Dict], List]:
    """The intent and ranking without ``emergency``: the next intent of the classifier, its
    confidence renormalized over the remaining intents."""
    rest = [entry for entry in ranking if entry.get(INTENT_NAME_KEY) != EMERGENCY_INTENT]
    total = sum(float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for entry in rest)
    if total > 0:
        rest = [{**entry, PREDICTED_CONFIDENCE_KEY: float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) / total}
                for entry in rest]
    return (dict(rest[0]) if rest else None), rest


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencySafetyNet(GraphComponent, IntentClassifier):
    """Sets the intent ``emergency`` whenever the deterministic detector finds a danger."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {VETO_KEY: False, KEEP_KEY: ["prohibited_action"], KEEP_CONFIDENCE_KEY: 0.6}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencySafetyNet:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _keeps(self, intent: Dict[Text, Any]) -> bool:
        return intent.get(INTENT_NAME_KEY) in self.component_config.get(KEEP_KEY, []) and float(
            intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0
        ) >= self.component_config.get(KEEP_CONFIDENCE_KEY, 1.0)

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or _is_payload(text):
            return
        intent = message.get(INTENT) or {}
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        found = detect_emergency(text)
        if found is not None and self._keeps(intent):
            message.set(SAFETY_NET_KEY, {"kind": found.kind, "words": found.words, "kept": True}, add_to_output=True)
            return
        if found is not None:
            top, new_ranking = emergency_prediction(intent, ranking)
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, new_ranking, add_to_output=True)
            message.set(
                SAFETY_NET_KEY,
                {"kind": found.kind, "words": found.words, "classifier_intent": intent.get(INTENT_NAME_KEY)},
                add_to_output=True,
            )
            logger.debug("Safety net: %s (%r), classifier said %r", found.kind, found.words, intent)
            return
        if (
            self.component_config.get(VETO_KEY)
            and intent.get(INTENT_NAME_KEY) == EMERGENCY_INTENT
            and dismissed_emergency(text)
        ):
            top, new_ranking = vetoed_prediction(ranking)
            if top is None:
                return
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, new_ranking, add_to_output=True)
            message.set(SAFETY_NET_KEY, {"vetoed": EMERGENCY_INTENT}, add_to_output=True)
            logger.debug("Safety net: emergency dismissed for %r", text)

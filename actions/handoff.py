"""Human handoff, the citizen's side: "我要人工" flags the conversation in the back office.

``POST /api/v1/handoffs`` (service token) puts the conversation in the staff console's queue;
staff take it over there and answer in the same conversation. The citizen is told the service
hours, the phone line and what happens next; if the back office cannot be reached, the citizen
still gets the phone line. A petition in progress is kept and can go on while they wait.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import latest_text, log_tag
from actions.safety import petition_in_progress, safety_first
from actions.submission import channel_of

logger = logging.getLogger(__name__)

DEFAULT_REASON = "信访人要求人工服务"
REASON_CHARS = 200


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety_first(dispatcher, tracker)
        reason = latest_text(tracker)[:REASON_CHARS] or DEFAULT_REASON
        try:
            result = await BackOfficeClient.from_settings().request_handoff(
                tracker.sender_id, channel_of(tracker), reason
            )
        except BackOfficeError as exc:
            logger.warning("handoff request failed (conversation %s): %s", log_tag(tracker), exc)
            dispatcher.utter_message(text=texts.text("handoff.unavailable"))
            return []
        handoff = result["handoff"]
        if result.get("created"):
            key = "handoff.requested"
        elif handoff.get("status") == "active":
            key = "handoff.active"
        else:
            key = "handoff.waiting"
        lines = [texts.text(key)]
        if petition_in_progress(tracker):
            lines.append(texts.text("handoff.in_form"))
        dispatcher.utter_message(text="\n".join(lines))
        logger.info("handoff %s for conversation %s", handoff.get("id"), log_tag(tracker))
        return []

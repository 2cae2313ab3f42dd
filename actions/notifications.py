"""Case updates from the back office, told to the citizen in their conversation.

When staff accept, refer, assign, extend, answer or close a case, the back office triggers the
external intent ``EXTERNAL_case_update`` with the entities ``case_no`` and
``notification_id`` (Rasa HTTP API, ``trigger_intent?output_channel=latest``). A rule runs
this action, which reads the notification's text from the back office and says it: the text
(status, what happens next, the deadline and its article of 《信访工作条例》) is composed in
one place, ``bot/store/notifications.py``, and the console shows exactly what was sent.

If the text cannot be read, the action says nothing; the back office sees that the message was
not said and appends it to the conversation itself, so the citizen is told either way.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.ratings import RATING_REQUEST_KIND

from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import latest_entity, log_tag
from actions.rating import rating_buttons

logger = logging.getLogger(__name__)


class ActionNotifyCaseUpdate(Action):
    def name(self) -> str:
        return "action_notify_case_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        notification_id = latest_entity(tracker, "notification_id")
        if not notification_id:
            logger.warning("case update without a notification id (conversation %s)", log_tag(tracker))
            return []
        try:
            notification: dict[str, Any] = await BackOfficeClient.from_settings().notification(
                str(notification_id)
            )
        except BackOfficeError as exc:
            logger.warning("notification %s not readable: %s", notification_id, exc)
            return []
        if notification.get("conversation_id") not in (None, tracker.sender_id):
            logger.warning("notification %s belongs to another conversation", notification_id)
            return []
        # The metadata marks the message in the tracker (the console shows it as a notice).
        # The invitation to rate (第二十一条) comes with its three buttons.
        buttons = rating_buttons(notification["case_no"]) if (
            notification.get("kind") == RATING_REQUEST_KIND and notification.get("case_no")) else None
        dispatcher.utter_message(
            text=notification["text"],
            buttons=buttons,
            notification_id=notification.get("id"),
            case_no=notification.get("case_no"),
        )
        return []

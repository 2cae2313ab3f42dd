"""What happens when the petition form ends: file the case, or explain why not."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.petition import FIELD_LABELS

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import NONE_GIVEN, NOT_APPLICABLE, NOT_REMEMBERED, cn_date
from actions.intake import reset_petition

logger = logging.getLogger(__name__)

# API field names (last dotted part) that differ from the form's slot names.
API_FIELD_SLOTS = {"name": "petitioner_name", "location": "place"}

# Rasa input channel name -> the channel recorded on the case.
CHANNELS = {"socketio": "web", "wechat": "wechat", "rest": "rest", "rasa": "web", "cmdline": "rest"}


def channel_of(tracker: Tracker) -> str:
    return CHANNELS.get(tracker.get_latest_input_channel() or "", "web")


def _given(value: Any) -> Any:
    return None if value in (None, "", NOT_APPLICABLE, NONE_GIVEN, NOT_REMEMBERED) else value


def case_payload(slots: Mapping[str, Any], conversation_id: str, channel: str) -> dict[str, Any]:
    """The POST /cases body built from the confirmed answers."""
    repeat = slots.get("is_first") is False
    return {
        "conversation_id": conversation_id,
        "channel": channel,
        "petitioner": {
            "name": slots.get("petitioner_name"),
            "id_number": slots.get("id_number"),
            "phone": slots.get("phone"),
            "address": slots.get("address"),
        },
        "location": slots.get("place"),
        "category": slots.get("category"),
        "respondent": _given(slots.get("respondent")),
        "facts": slots.get("facts"),
        "request": slots.get("request"),
        "is_repeat": repeat,
        "prior_case": (
            {
                "body": _given(slots.get("prior_body")),
                "case_no": _given(slots.get("prior_case_no")),
                "review_stage": _given(slots.get("review_stage")),
            }
            if repeat
            else None
        ),
        "group_size": int(slots.get("group_size") or 1),
    }


class ActionCompletePetition(Action):
    """Runs when the petition form ends and when the citizen asks to submit again.

    Outcomes: consent declined, paused after repeated invalid answers, not accepted after
    复核 (条例第36条), or confirmed → POST to the back office. A failed submission keeps
    every answer and the idempotency key, so "重新提交" files exactly one case.
    """

    def name(self) -> str:
        return "action_complete_petition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        status = tracker.get_slot("intake_status")
        if status == "declined":
            dispatcher.utter_message(text=texts.text("consent.declined"))
            return reset_petition()
        if status == "paused":
            button = {"title": texts.entry("validation.paused_button"), "payload": "/continue_petition"}
            dispatcher.utter_message(text=texts.text("validation.paused"), buttons=[button])
            return []
        if status == "barred":
            dispatcher.utter_message(text=texts.text("barred"))
            return reset_petition()
        if status in ("confirmed", "submit_failed") and tracker.get_slot("submission_key"):
            return await self.submit(dispatcher, tracker)
        dispatcher.utter_message(response="utter_nothing_to_submit")
        return []

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        payload = case_payload(tracker.slots, tracker.sender_id, channel_of(tracker))
        key = tracker.get_slot("submission_key")
        try:
            result = await BackOfficeClient.from_settings().create_case(payload, key)
        except BackOfficeError as exc:
            return self.failed(dispatcher, exc)
        case = result["case"]
        deadlines = case.get("deadlines") or {}
        dispatcher.utter_message(
            text=texts.text(
                "submit.success",
                case_no=case["case_no"],
                query_code=result["query_code"],
                unit=case.get("responsible_unit") or "",
                acceptance_due=cn_date(deadlines.get("acceptance_notice_due")),
            )
        )
        logger.info("petition filed as %s (conversation %s)", case["case_no"], tracker.sender_id)
        return reset_petition() + [
            SlotSet("case_no", case["case_no"]),
            SlotSet("query_code", result["query_code"]),
        ]

    @staticmethod
    def failed(dispatcher: CollectingDispatcher, exc: BackOfficeError) -> list[EventType]:
        if exc.unavailable:
            logger.warning("submission failed, answers kept for a retry: %s", exc)
            button = {"title": texts.entry("submit.retry_button"), "payload": "/retry_submit"}
            dispatcher.utter_message(text=texts.text("submit.failed"), buttons=[button])
            return [SlotSet("intake_status", "submit_failed")]
        # The back office refused the content: let the citizen fix it in the form.
        fields = (exc.body or {}).get("fields") or {}
        logger.warning("submission refused by the back office: %s (fields: %s)", exc, sorted(fields))
        reason = "；".join(str(v) for v in fields.values()) or exc.message or "信息不完整"
        dispatcher.utter_message(
            text=texts.text("submit.rejected", reason=reason),
            buttons=[{"title": texts.entry("validation.paused_button"), "payload": "/continue_petition"}],
        )
        events: list[EventType] = [
            SlotSet("intake_status", "paused"),
            SlotSet("summary_confirmed", None),
            SlotSet("submission_key", None),
        ]
        for name in fields:
            last = name.split(".")[-1]
            slot = API_FIELD_SLOTS.get(last, last)
            if slot in FIELD_LABELS:
                events.append(SlotSet(slot, None))
        return events

"""What happens when the petition form ends: file the case, or explain why not."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.cn_dates import cn_date
from bot.rules.fields import FORM_SLOTS, asking_slot, slot_of_api_path
from bot.rules.filing import ADDED, AFTER_RECHECK, REPEAT

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import log_tag
from actions.filing import CASE_CHANNEL_OF_INPUT, case_payload, channel_of, filed_events  # noqa: F401 (used by others)
from actions.intake import reset_petition

logger = logging.getLogger(__name__)


def slots_to_ask_again(api_fields: Mapping[str, Any]) -> list[str]:
    """The form questions behind the fields the API refused ("petitioner.phone" -> "phone")."""
    slots = []
    for path in api_fields:
        slot = slot_of_api_path(path)
        if slot is not None and asking_slot(slot) in FORM_SLOTS and asking_slot(slot) not in slots:
            slots.append(asking_slot(slot))
    return slots


def repeat_note(related: Mapping[str, Any]) -> str:
    """What the citizen is told about the earlier case of the same matter."""
    if related.get("stage") == AFTER_RECHECK:
        return texts.text("submit.repeat_after_recheck", case_no=related["case_no"])
    due = related.get("review_request_due")
    return texts.text(
        "submit.repeat_note", case_no=related["case_no"], status_label=related.get("status_label") or "",
        review_due=texts.text("submit.repeat_note_review_due", date=cn_date(due)) if due else "",
    )


class ActionCompletePetition(Action):
    """Runs when the petition form ends and when the citizen asks to submit again.

    Outcomes: consent declined, paused after repeated invalid answers, not accepted after
    复核 (条例第36条), or confirmed → POST to the back office. A failed submission keeps
    every answer and the idempotency key, so "重新提交" files exactly one case; so does a
    filing whose answer was lost on its way to Rasa ("confirmed" stays set): the replay of
    the same key returns the first case number and query code (actions/filing.py).
    """

    def name(self) -> str:
        return "action_complete_petition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        status = tracker.get_slot("intake_status")
        if status == "declined":
            dispatcher.utter_message(text=texts.text("consent.declined"))
            return reset_petition(tracker)
        if status == "paused":
            button = {"title": texts.entry("validation.paused_button"), "payload": "/continue_petition"}
            dispatcher.utter_message(text=texts.text("validation.paused"), buttons=[button])
            return []
        if status == "barred":
            dispatcher.utter_message(text=texts.text("barred"))
            return reset_petition(tracker)
        if status == "guardian_declined":
            dispatcher.utter_message(text=texts.text("guardian.declined"))
            return reset_petition(tracker)
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
        if result.get("outcome") == ADDED:
            dispatcher.utter_message(text=texts.text(
                "submit.added_to_case", case_no=case["case_no"],
                status_label=case.get("status_label") or "", unit=case.get("responsible_unit") or "",
            ))
            logger.info("petition added to %s as material (conversation %s)", case["case_no"], log_tag(tracker))
            return reset_petition(tracker) + filed_events(result)
        deadlines = case.get("deadlines") or {}
        # 60 days (第34条) only for 第31条(六) matters; litigation etc. follow their own limits.
        own = deadlines.get("handling_procedure") == "own_procedure"
        handling = texts.entry("submit.success.handling_own_procedure" if own else "submit.success.handling")
        dispatcher.utter_message(
            text=texts.text(
                "submit.success",
                case_no=case["case_no"],
                query_code=result["query_code"],
                unit=case.get("responsible_unit") or "",
                forwarding_due=cn_date(deadlines.get("forwarding_due") or deadlines.get("acceptance_notice_due")),
                notice_due_latest=cn_date(deadlines.get("receipt_notice_due_latest")),
                handling=handling,
            )
        )
        related = result.get("related_case")
        if result.get("outcome") == REPEAT and related:
            dispatcher.utter_message(text=repeat_note(related))
        logger.info("petition filed as %s (conversation %s)", case["case_no"], log_tag(tracker))
        return reset_petition(tracker) + filed_events(result)

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
        events.extend(SlotSet(slot, None) for slot in slots_to_ask_again(fields))
        return events

"""The case a confirmed petition becomes: the POST /cases body, and finding a filing whose
answer never reached the conversation.

When the back office files a case but the action server's answer to Rasa is lost, the
tracker keeps the confirmed petition (``intake_status`` "confirmed" or "submit_failed", its
``submission_key``) and never learns the case number. Every path that could file it again
first asks the back office for the cases of this conversation; when one is there that the
tracker does not know, the filing is replayed with the petition's idempotency key, which
returns the first result (case number and query code) and never files a second case.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date
from typing import Any, Mapping

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from bot.rules.fields import BY_SLOT, CASE_SLOTS, is_given

from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import log_tag

logger = logging.getLogger(__name__)

# Rasa input channel name -> the channel recorded on the case.
CASE_CHANNEL_OF_INPUT = {"socketio": "web", "wechat": "wechat", "rest": "rest", "rasa": "web", "cmdline": "rest"}
# A confirmed petition whose filing may have happened without the conversation hearing of it.
PENDING_STATES = ("confirmed", "submit_failed")


def channel_of(tracker: Tracker) -> str:
    return CASE_CHANNEL_OF_INPUT.get(tracker.get_latest_input_channel() or "", "web")


def _api_value(slot: str, value: Any) -> Any:
    """A slot value as the API takes it (see the petition contract, bot.rules.fields)."""
    if not is_given(value):
        return None
    if slot == "is_first":
        return value is False  # the API asks "is_repeat"
    if slot == "recheck_same_matter":
        return value == "yes"
    if slot == "group_size":
        return int(value)
    return value


def case_payload(slots: Mapping[str, Any], conversation_id: str, channel: str) -> dict[str, Any]:
    """The POST /cases body built from the confirmed answers, field by field from the table."""
    body: dict[str, Any] = {"conversation_id": conversation_id, "channel": channel}
    for slot in CASE_SLOTS:
        path = BY_SLOT[slot].api.split(".")
        node = body
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _api_value(slot, slots.get(slot))
    if not body["is_repeat"]:
        body["prior_case"] = None
    body["is_repeat"] = bool(body["is_repeat"])
    body["group_size"] = body["group_size"] or 1
    return body


def submission_key(slots: Mapping[str, Any], conversation_id: str, channel: str, day: date) -> str:
    """The idempotency key of a confirmed petition: a digest of what would be filed, by whom
    and on which day. Confirming the same answers again (after a process died between the
    filing and the saving of the conversation, so that the conversation never kept a key)
    gives the same key and the first case; changed answers are another petition."""
    body = json.dumps(case_payload(slots, conversation_id, channel), ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(f"{conversation_id}\n{day.isoformat()}\n{body}".encode())
    return digest.hexdigest()[:32]


def has_pending_filing(tracker: Tracker) -> bool:
    """A confirmed petition with its idempotency key that the conversation never saw filed."""
    return tracker.get_slot("intake_status") in PENDING_STATES and bool(tracker.get_slot("submission_key"))


async def find_lost_filing(tracker: Tracker) -> dict[str, Any] | None:
    """The back office's answer (``case``, ``query_code``) to the filing of this conversation's
    confirmed petition when the case exists but the conversation never heard of it; None when
    nothing was filed, nothing is pending, or the back office cannot tell now."""
    if not has_pending_filing(tracker):
        return None
    client = BackOfficeClient.from_settings()
    try:
        cases = await client.cases_of_conversation(tracker.sender_id)
        # Newest first: the last case the conversation knows of means nothing was lost.
        if not cases or cases[0].get("case_no") == tracker.get_slot("case_no"):
            return None
        payload = case_payload(tracker.slots, tracker.sender_id, channel_of(tracker))
        result = await client.create_case(payload, tracker.get_slot("submission_key"))
    except BackOfficeError as exc:
        logger.warning("could not check for a lost filing (conversation %s): %s", log_tag(tracker), exc)
        return None
    logger.info("lost answer recovered: %s (conversation %s)", result["case"]["case_no"], log_tag(tracker))
    return result


def filed_events(result: Mapping[str, Any]) -> list[EventType]:
    """The slots that remember the filed case in this conversation."""
    return [
        SlotSet("case_no", result["case"]["case_no"]),
        # None when the petition was added to an earlier case (its code was given then).
        SlotSet("query_code", result.get("query_code")),
    ]

"""Leader reception days (领导接访日) in the chat: the coming days and the rules of a visit
(信访工作条例 第二十条: the body at the same level or one level up; at most five
representatives), and a booking for the citizen's case still being handled (a button carries
``day_id``). The case is the one filed in this conversation, or — from another chat or device —
the one whose number and query code the citizen gives: typed with the question, found by a
status lookup, or asked for (the status lookup form) after a day was chosen. The reminder the
day before comes from the back office like every case update, into this conversation."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.case_numbers import find_case_no, find_query_code
from bot.rules.cn_dates import cn_date
from bot.rules.workflow import OPEN_STATUSES
from bot.rules.reception import MAX_REPRESENTATIVES, NOT_BEING_HANDLED, WHAT_TO_BRING

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import latest_entity, latest_text, log_tag, lookup_error_text, verified_case, verified_events
from actions.filing import channel_of

logger = logging.getLogger(__name__)

WEEKDAYS = "一二三四五六日"


def day_label(day: dict[str, Any]) -> str:
    d = date.fromisoformat(day["date"])
    return f"{cn_date(d)}（周{WEEKDAYS[d.weekday()]}）{day['start']}—{day['end']}"


def is_being_handled(status: dict[str, Any]) -> bool:
    return status.get("status") in OPEN_STATUSES


class ActionReceptionDays(Action):
    def name(self) -> str:
        return "action_reception_days"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        client = BackOfficeClient.from_settings()
        day_id = latest_entity(tracker, "day_id")
        try:
            if day_id:
                return await self.choose(dispatcher, tracker, client, str(day_id))
            events = await self.prove_typed_case(dispatcher, tracker, client)
            listing = await client.reception_days(tracker.sender_id)
            proven = await self.proven_open_case(tracker, client, events) if not listing.get("case_no") else None
        except BackOfficeError as exc:
            logger.warning("reception days not readable (conversation %s): %s", log_tag(tracker), exc)
            dispatcher.utter_message(text=texts.text("reception.unavailable"))
            return []
        self.list_days(dispatcher, listing, proven)
        return events

    @staticmethod
    async def proven_open_case(tracker: Tracker, client: BackOfficeClient, typed: list[EventType]) -> str | None:
        """The case proven in this session by its query code (typed just now, or looked up
        earlier) if it is still being handled."""
        if typed:
            return typed[0]["value"]
        proven = verified_case(tracker)
        if proven is None:
            return None
        try:
            status = await client.case_status(proven[0], proven[1], tracker.sender_id)
        except BackOfficeError as exc:
            if exc.unavailable:
                raise
            return None
        return status["case_no"] if is_being_handled(status) else None

    @staticmethod
    async def prove_typed_case(dispatcher: CollectingDispatcher, tracker: Tracker,
                               client: BackOfficeClient) -> list[EventType]:
        """"预约领导接访，XF2026000123 查询码 483920": the case is checked as a status lookup
        would (rate limited) and kept for the booking; a wrong pair is said, not ignored."""
        text = latest_text(tracker)
        case_no = find_case_no(text)
        code = find_query_code(text) if case_no else None
        if not case_no or not code:
            return []
        try:
            status = await client.case_status(case_no, code, tracker.sender_id)
        except BackOfficeError as exc:
            if exc.unavailable:
                raise
            dispatcher.utter_message(text=lookup_error_text(exc))
            return []
        if not is_being_handled(status):
            dispatcher.utter_message(text=NOT_BEING_HANDLED.format(case_no=status["case_no"],
                                                                   status_label=status.get("status_label") or ""))
            return []
        return verified_events(status["case_no"], code)

    @staticmethod
    def list_days(dispatcher: CollectingDispatcher, listing: dict[str, Any], proven: str | None) -> None:
        rules = texts.text("reception.rules", max=MAX_REPRESENTATIVES, bring=WHAT_TO_BRING)
        days = listing.get("days") or []
        if not days:
            dispatcher.utter_message(text=texts.text("reception.none") + "\n" + rules)
            return
        lines = [texts.text("reception.list_head")]
        for n, day in enumerate(days, start=1):
            lines.append(texts.text("reception.day", n=n, when=day_label(day), leader=day["leader"],
                                    place=day["place"], topics=f"，接访事项：{day['topics']}" if day.get("topics") else "",
                                    left=day["left"]))
        lines.append(rules)
        case_no = listing.get("case_no") or proven
        booked = set(listing.get("booked_day_ids") or []) if listing.get("case_no") else set()
        buttons = [
            {"title": f"预约{cn_date(date.fromisoformat(d['date']))}",
             "payload": "/ask_reception" + json.dumps({"day_id": str(d["id"])})}
            for d in days if d["left"] > 0 and d["id"] not in booked
        ]
        if case_no and buttons:
            lines.append(texts.text("reception.can_book", case_no=case_no))
        elif case_no:
            lines.append(texts.text("reception.nothing_bookable", case_no=case_no))
        elif buttons:
            # Filed elsewhere (another chat, the hotline, a visit): the number and the query code
            # are asked for after a day is chosen.
            lines.append(texts.text("reception.book_with_code"))
        else:
            lines.append(texts.text("reception.all_full"))
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)

    async def choose(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: BackOfficeClient,
                     day_id: str) -> list[EventType]:
        """A day was chosen: book this conversation's case, else the proven one, else ask for
        the case number and query code (the status lookup form; action_lookup_status books)."""
        try:
            return await book(dispatcher, tracker, client, day_id)
        except BackOfficeError as exc:
            if exc.unavailable or (exc.body or {}).get("error") != "no_case":
                raise
        dispatcher.utter_message(text=texts.text("reception.ask_case"))
        return [SlotSet("reception_day_id", day_id), SlotSet("requested_slot", None),
                FollowupAction("status_form")]


async def book(dispatcher: CollectingDispatcher, tracker: Tracker, client: BackOfficeClient,
               day_id: str, proof: tuple[str, str] | None = None) -> list[EventType]:
    """Book the reception day for this conversation's case, or for ``proof`` (case number and
    query code; by default the case proven in this session, if any). BackOfficeError
    ``no_case`` when there is neither."""
    proof = proof or verified_case(tracker)
    try:
        result = await client.book_reception(day_id, tracker.sender_id, channel_of(tracker), proof)
    except BackOfficeError as exc:
        if exc.unavailable or (exc.body or {}).get("error") == "no_case":
            raise
        dispatcher.utter_message(text=(exc.body or {}).get("message") or texts.text("reception.unavailable"))
        return [SlotSet("reception_day_id", None)]
    day = result["day"]
    group = texts.text("reception.representatives", n=result["representatives"], max=MAX_REPRESENTATIVES) \
        if result.get("representatives", 1) > 1 else ""
    dispatcher.utter_message(text=texts.text(
        "reception.booked", when=day_label(day), leader=day["leader"], place=day["place"],
        case_no=result["case_no"], group=group, bring=WHAT_TO_BRING,
    ))
    logger.info("reception day %s booked for %s (conversation %s)", day_id, result["case_no"], log_tag(tracker))
    return [SlotSet("reception_day_id", None)]

"""Leader reception days (领导接访日) in the chat: the coming days and the rules of a visit
(信访工作条例 第二十条: the body at the same level or one level up; at most five
representatives), and a booking for the citizen's case still being handled in this
conversation (a button carries ``day_id``). The reminder the day before comes from the back
office like every case update."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.cn_dates import cn_date
from bot.rules.reception import MAX_REPRESENTATIVES, WHAT_TO_BRING

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import latest_entity, log_tag
from actions.filing import channel_of

logger = logging.getLogger(__name__)

WEEKDAYS = "一二三四五六日"


def day_label(day: dict[str, Any]) -> str:
    d = date.fromisoformat(day["date"])
    return f"{cn_date(d)}（周{WEEKDAYS[d.weekday()]}）{day['start']}—{day['end']}"


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
                return await self.book(dispatcher, tracker, client, str(day_id))
            listing = await client.reception_days(tracker.sender_id)
        except BackOfficeError as exc:
            if not exc.unavailable and day_id:
                dispatcher.utter_message(text=(exc.body or {}).get("message") or texts.text("reception.unavailable"))
            else:
                logger.warning("reception days not readable (conversation %s): %s", log_tag(tracker), exc)
                dispatcher.utter_message(text=texts.text("reception.unavailable"))
            return []
        rules = texts.text("reception.rules", max=MAX_REPRESENTATIVES, bring=WHAT_TO_BRING)
        days = listing.get("days") or []
        if not days:
            dispatcher.utter_message(text=texts.text("reception.none") + "\n" + rules)
            return []
        lines = [texts.text("reception.list_head")]
        for n, day in enumerate(days, start=1):
            lines.append(texts.text("reception.day", n=n, when=day_label(day), leader=day["leader"],
                                    place=day["place"], topics=f"，接访事项：{day['topics']}" if day.get("topics") else "",
                                    left=day["left"]))
        lines.append(rules)
        case_no = listing.get("case_no")
        booked = set(listing.get("booked_day_ids") or [])
        buttons = [
            {"title": f"预约{cn_date(date.fromisoformat(d['date']))}",
             "payload": "/ask_reception" + json.dumps({"day_id": str(d["id"])})}
            for d in days if d["left"] > 0 and d["id"] not in booked
        ] if case_no else []
        if case_no and buttons:
            lines.append(texts.text("reception.can_book", case_no=case_no))
        elif case_no:
            lines.append(texts.text("reception.nothing_bookable", case_no=case_no))
        else:
            lines.append(texts.text("reception.file_first"))
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)
        return []

    @staticmethod
    async def book(dispatcher: CollectingDispatcher, tracker: Tracker, client: BackOfficeClient,
                   day_id: str) -> list[EventType]:
        result = await client.book_reception(day_id, tracker.sender_id, channel_of(tracker))
        day = result["day"]
        group = texts.text("reception.representatives", n=result["representatives"], max=MAX_REPRESENTATIVES) \
            if result.get("representatives", 1) > 1 else ""
        dispatcher.utter_message(text=texts.text(
            "reception.booked", when=day_label(day), leader=day["leader"], place=day["place"],
            case_no=result["case_no"], group=group, bring=WHAT_TO_BRING,
        ))
        logger.info("reception day %s booked for %s (conversation %s)", day_id, result["case_no"], log_tag(tracker))
        return []

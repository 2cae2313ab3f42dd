"""The citizen rates the handling of their case (信访工作条例 第二十一条), in the chat they used.

The invitation comes with the closing of the case (a notification of kind ``rating_request``
with three buttons); "我要评价" — or a status lookup of an answered case — offers it again
until the case is rated or the period ends. A button press carries the case number and the
rating (``/ask_rating{"case_no": …, "rating": …}``); a typed "评价：不满意，拖得太久" gives the
rating and the comment in one message when there is one case to rate. 不满意 is answered with
the 复查 right and its deadline (第三十五条). One rating per case: the back office refuses a
second one.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.case_numbers import find_case_no
from bot.rules.cn_dates import cn_date
from bot.rules.ratings import DISSATISFIED, RATING_LABELS, parse_rating

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.common import latest_entity, latest_text, log_tag, verified_case

logger = logging.getLogger(__name__)

# Cases offered in one answer (the newest answered ones).
MAX_OFFERED = 3
# What a typed rating says besides the rating itself; the rest, when long enough, is the comment.
_NOT_COMMENT = re.compile(r"我要评价|我想评价|评价一下|评价|给个|打分|[:：,，。！!、\s]")
COMMENT_MIN_CHARS = 4


def rating_buttons(case_no: str) -> list[dict[str, str]]:
    return [
        {"title": label, "payload": "/ask_rating" + json.dumps({"case_no": case_no, "rating": key}, ensure_ascii=False)}
        for key, label in RATING_LABELS.items()
    ]


def offer(dispatcher: CollectingDispatcher, case: dict[str, Any]) -> None:
    dispatcher.utter_message(
        text=texts.text("rating.offer", case_no=case["case_no"], unit=case.get("responsible_unit") or "",
                        due=cn_date(case.get("due"))),
        buttons=rating_buttons(case["case_no"]),
    )


def typed_comment(text: str) -> str | None:
    """The comment of a typed rating ("不满意，拖了三个月才答复" -> the whole message)."""
    rest = _NOT_COMMENT.sub("", text)
    for words in ("基本满意", "不太满意", "不满意", "满意"):
        rest = rest.replace(words, "")
    return text if len(rest) >= COMMENT_MIN_CHARS else None


class ActionRateCase(Action):
    def name(self) -> str:
        return "action_rate_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        case_no = latest_entity(tracker, "case_no") or find_case_no(text)
        rating = latest_entity(tracker, "rating") or parse_rating(text)
        if rating not in RATING_LABELS:
            rating = None
        comment = typed_comment(text) if text and rating else None
        client = BackOfficeClient.from_settings()
        try:
            cases = await client.ratings_of_conversation(tracker.sender_id)
        except BackOfficeError as exc:
            logger.warning("ratings not readable (conversation %s): %s", log_tag(tracker), exc)
            dispatcher.utter_message(text=texts.text("rating.unavailable"))
            return []
        open_cases = [c for c in cases if c.get("open")]
        proven = verified_case(tracker)
        if case_no is None:
            if len(open_cases) == 1 and rating:
                case_no = open_cases[0]["case_no"]
            elif not open_cases and proven and rating:
                case_no = proven[0]  # looked up with its query code in this session
            elif open_cases:
                for case in open_cases[:MAX_OFFERED]:
                    offer(dispatcher, case)
                return []
            else:
                rated = [c for c in cases if c.get("rating")]
                if rated:
                    dispatcher.utter_message(text=texts.text(
                        "rating.all_rated", case_no=rated[0]["case_no"], rating=rated[0]["rating"]))
                else:
                    dispatcher.utter_message(text=texts.text("rating.nothing_to_rate"))
                return []
        if rating is None:
            known = next((c for c in open_cases if c["case_no"] == case_no), None)
            if known is not None:
                offer(dispatcher, known)
            else:
                dispatcher.utter_message(text=texts.text("rating.nothing_to_rate"))
            return []
        code = proven[1] if proven and proven[0] == case_no else None
        return await self.rate(dispatcher, tracker, client, case_no, rating, comment, code)

    @staticmethod
    async def rate(dispatcher: CollectingDispatcher, tracker: Tracker, client: BackOfficeClient,
                   case_no: str, rating: str, comment: str | None, query_code: str | None = None) -> list[EventType]:
        try:
            result = await client.rate_case(case_no, rating, comment, tracker.sender_id, query_code)
        except BackOfficeError as exc:
            if exc.unavailable:
                dispatcher.utter_message(text=texts.text("rating.unavailable"))
            else:
                # Already rated, the period ended, not this conversation's case: the back
                # office's own explanation, then what the citizen can still do.
                message = (exc.body or {}).get("message") or texts.text("rating.nothing_to_rate")
                dispatcher.utter_message(text=texts.text("rating.refused", reason=message))
            return []
        logger.info("case %s rated %s (conversation %s)", case_no, rating, log_tag(tracker))
        lines = [texts.text("rating.thanks", case_no=case_no, rating=result.get("rating") or RATING_LABELS[rating])]
        if comment:
            lines.append(texts.text("rating.comment_kept"))
        if rating == DISSATISFIED:
            due = result.get("review_request_due")
            lines.append(texts.text(
                "rating.review_right",
                due=texts.text("rating.review_due", date=cn_date(due)) if due else "",
            ))
        dispatcher.utter_message(text="\n".join(lines))
        return []

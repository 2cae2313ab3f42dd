"""Status lookup in the chat: case number + query code → status and next deadline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.case_numbers import find_case_no, find_query_code, says_number_lost
from bot.rules.cn_dates import cn_date
from bot.rules.deadlines import local_date

from actions import texts
from actions.backoffice import BackOfficeClient, BackOfficeError
from actions.rating import offer
from actions.reception import book, is_being_handled
from actions.common import (
    is_answer_to, latest_intent, latest_text, lookup_error_text, set_in_this_session, verified_case, verified_events,
)
from actions.filing import filed_events, find_lost_filing
from actions.asking import AskingFormValidationAction
from actions.intake import plain_question, reset_petition

LOOKUP_SLOTS = ("lookup_case_no", "lookup_query_code")
MAX_FAILURES = 3

# The lookup's questions: text and buttons are ``ask.<slot>`` in actions/prompts.yml.
LOOKUP_QUESTIONS = {slot: plain_question(slot) for slot in LOOKUP_SLOTS}


class ValidateStatusForm(AskingFormValidationAction):
    """Takes a case number and a query code from any message of the lookup.

    "查一下 XF2026000123 查询码 483920" fills both at once. Only the case this session filed
    (its query code set in this session, by the same sender) is looked up without asking:
    a case number and query code remembered from an earlier session, perhaps another
    person's on a shared device or a reused conversation id, are never used, so the
    status is told only to whoever gives both. A petition confirmed in this session whose
    answer was lost is found at the back office first (actions/filing.py) and told.
    """

    def name(self) -> str:
        return "validate_status_form"

    questions = LOOKUP_QUESTIONS

    async def validate_turn(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        recovered: list[EventType] = []
        starting = tracker.get_slot("requested_slot") is None
        if starting and tracker.get_slot("reception_day_id") and latest_intent(tracker)[0] != "ask_reception":
            # A lookup of its own, not the one a reception day's button started: a day chosen
            # earlier (and the lookup then cancelled) is not booked by surprise.
            recovered.append(SlotSet("reception_day_id", None))
            tracker.slots["reception_day_id"] = None
        if starting and set_in_this_session(tracker, "submission_key"):
            lost = await find_lost_filing(tracker)
            if lost is not None:
                dispatcher.utter_message(
                    text=texts.text("submit.recovered", case_no=lost["case"]["case_no"], query_code=lost["query_code"])
                )
                recovered += reset_petition(tracker) + filed_events(lost)
                tracker.add_slots(recovered)  # the lookup below then takes this case
        return recovered + await super().validate_turn(dispatcher, tracker, domain)

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        if requested is None:  # the message that started the lookup
            case_no = find_case_no(text)
            if case_no:
                code = find_query_code(text)
                return [SlotSet("lookup_case_no", case_no)] + ([SlotSet("lookup_query_code", code)] if code else [])
            if tracker.get_slot("case_no") and set_in_this_session(tracker, "query_code"):
                return [
                    SlotSet("lookup_case_no", tracker.get_slot("case_no")),
                    SlotSet("lookup_query_code", tracker.get_slot("query_code")),
                ]
            proven = verified_case(tracker)
            if proven:
                return [SlotSet("lookup_case_no", proven[0]), SlotSet("lookup_query_code", proven[1])]
            return []
        if requested not in LOOKUP_SLOTS or not is_answer_to(tracker, requested):
            return []
        events = []
        if requested == "lookup_case_no":
            events.append(SlotSet("lookup_case_no", find_case_no(text) or text))
            code = find_query_code(text) if find_case_no(text) else None
            if code:
                events.append(SlotSet("lookup_query_code", code))
        else:
            events.append(SlotSet("lookup_query_code", find_query_code(text) or text))
        return events

    def validate_lookup_case_no(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        case_no = find_case_no(str(value or ""))
        if case_no:
            return {"lookup_case_no": case_no}
        if says_number_lost(str(value or "")):
            return self._given_up("lookup_case_no")
        dispatcher.utter_message(text=texts.text("status.bad_case_no"))
        return self._failed("lookup_case_no", tracker)

    def validate_lookup_query_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = find_query_code(str(value or ""))
        if code and len(str(value).strip()) <= 20:
            return {"lookup_query_code": code}
        if says_number_lost(str(value or "")):
            return self._given_up("lookup_query_code")
        dispatcher.utter_message(text=texts.text("status.bad_query_code"))
        return self._failed("lookup_query_code", tracker)

    @staticmethod
    def _given_up(slot: str) -> dict[str, Any]:
        """The number is lost: the lookup ends (action_lookup_status tells the other way)."""
        return {slot: None, "failed_attempts": {}, "requested_slot": None}

    @staticmethod
    def _failed(slot: str, tracker: Tracker) -> dict[str, Any]:
        attempts = dict(tracker.get_slot("failed_attempts") or {})
        attempts[slot] = attempts.get(slot, 0) + 1
        if attempts[slot] >= MAX_FAILURES:
            return {slot: None, "failed_attempts": {}, "requested_slot": None}
        return {slot: None, "failed_attempts": attempts}


class ActionLookupStatus(Action):
    """Asks the back office; a wrong code and an unknown case look the same."""

    def name(self) -> str:
        return "action_lookup_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        case_no = tracker.get_slot("lookup_case_no")
        code = tracker.get_slot("lookup_query_code")
        reset = [SlotSet(slot, None) for slot in LOOKUP_SLOTS] + [SlotSet("failed_attempts", None)]
        if not case_no or not code:
            if says_number_lost(latest_text(tracker)):
                # the policy answer on lost numbers: the hotline, or the reception with an ID
                dispatcher.utter_message(response="utter_faq/lost_query_code")
            else:
                dispatcher.utter_message(text=texts.text("status.incomplete"))
            return reset
        client = BackOfficeClient.from_settings()
        day_id = tracker.get_slot("reception_day_id") if set_in_this_session(tracker, "reception_day_id") else None
        if day_id:
            reset.append(SlotSet("reception_day_id", None))
        try:
            status = await client.case_status(case_no, code, tracker.sender_id)
        except BackOfficeError as exc:
            dispatcher.utter_message(text=lookup_error_text(exc))
            return reset
        dispatcher.utter_message(text=self.status_text(status))
        # The case is proven by its number and query code: kept for this session (a rating or
        # a reception booking from this chat needs no second proof).
        proven = verified_events(status["case_no"], code)
        if not is_being_handled(status):
            await self.offer_rating(dispatcher, tracker, status)
            return proven + reset
        # A case being handled: a reception day chosen before the lookup is booked at once.
        if day_id:
            try:
                return proven + await book(dispatcher, tracker, client, day_id, (status["case_no"], code)) + reset
            except BackOfficeError:
                dispatcher.utter_message(text=texts.text("reception.unavailable"))
        return proven + reset

    @staticmethod
    async def offer_rating(dispatcher: CollectingDispatcher, tracker: Tracker, status: dict[str, Any]) -> None:
        """An answered case not rated yet, within the period: the rating is offered again
        (第二十一条) until it is given or the period ends — in any chat the case was looked up
        from with its query code, not only the one it was filed from."""
        state = status.get("rating") or {}
        if state.get("open"):
            offer(dispatcher, {"case_no": status["case_no"], "responsible_unit": status.get("responsible_unit"),
                               "due": state.get("due")})

    @staticmethod
    def status_text(status: dict[str, Any]) -> str:
        created = status.get("created_at")
        created_text = cn_date(local_date(datetime.fromisoformat(created))) if created else ""
        lines = [
            texts.text(
                "status.found",
                case_no=status["case_no"],
                status_label=status.get("status_label") or status.get("status"),
                unit=status.get("responsible_unit") or "",
                created=created_text,
            )
        ]
        lines.extend(ActionLookupStatus.time_limit_lines(status))
        return "\n".join(lines)

    @staticmethod
    def time_limit_lines(status: dict[str, Any]) -> list[str]:
        """What comes next and by when, as 《信访工作条例》 sets it for this case: the two steps
        before the responsible body's notice (第22条、第23条), 60 days only for 第31条(六)
        matters (第34条), and the 复查/复核 windows from the day of receipt (第35条、第36条)."""
        state = status.get("status")
        deadlines = status.get("deadlines") or {}
        deadline = status.get("next_deadline") or {}
        lines: list[str] = []
        if state == "registered" and deadlines.get("forwarding_due"):
            lines.append(texts.text(
                "status.registered_steps",
                forwarding_due=cn_date(deadlines["forwarding_due"]),
                notice_due_latest=cn_date(deadlines.get("receipt_notice_due_latest")),
            ))
        elif deadline.get("date"):
            lines.append(texts.text(
                "status.next_deadline", date=cn_date(deadline["date"]),
                label=deadline.get("label", ""), article=deadline.get("article", ""),
            ))
        own = deadlines.get("handling_procedure") == "own_procedure"
        if deadlines.get("handling_channel"):
            lines.append(texts.text("status.referred", referred_to=deadlines["handling_channel"]))
        elif state in ("registered", "accepted", "assigned"):
            lines.append(texts.text("status.own_procedure" if own else "status.handling_article_34"))
        windows = {
            "replied": ("review", "reply_delivered_on", "review_request_due"),
            "reviewed": ("recheck", "review_opinion_delivered_on", "recheck_request_due"),
        }
        if state in windows:
            kind, delivered, due = windows[state]
            if deadlines.get(due):
                lines.append(texts.text(
                    f"status.{kind}_window", delivered=cn_date(deadlines.get(delivered)),
                    date=cn_date(deadlines[due]),
                ))
            else:
                lines.append(texts.text(f"status.{kind}_window_pending"))
        return lines

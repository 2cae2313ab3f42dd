"""Lawful procedures: matters for other procedures (诉访分离), visits over levels, behaviour
forbidden by 第26条, and which area is responsible (属地管理).

Nothing is silently filed or silently refused: each reply says where the matter belongs, how
to get there and the time limit to watch, and (outside a petition in progress) offers to
file it here anyway with a "/file_petition" button. Texts: actions/prompts.yml.
"""

from __future__ import annotations

from typing import Any, Mapping

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.rules.procedures import (
    SERVICE,
    ProcedureMatch,
    procedure_for,
    detect_prohibited,
    opening_procedure,
    referral_bodies,
)
from bot.rules.categories import infer_categories
from bot.rules.fields import is_given
from bot.rules.jurisdiction import IN, IN_UNSPECIFIED, OUT, load_jurisdiction, resolve_place, responsible_unit
from bot.rules.understanding import asks_who_handles
from bot.rules.text import tidy_text

from actions import texts
from actions.common import latest_intent, user_turns
from actions.safety import petition_in_progress, safety_first


def is_payload(message: dict[str, Any] | None) -> bool:
    return ((message or {}).get("text") or "").startswith("/")


def described_text(tracker: Tracker) -> str:
    """The citizen's own words behind this turn.

    The latest message; for a button ("/file_petition", "/procedure_litigation") the message
    just before it, which the button answers (the description that was explained).
    """
    latest = tracker.latest_message or {}
    if not is_payload(latest):
        return tidy_text(latest.get("text"))
    turns = user_turns(tracker)
    if len(turns) >= 2 and not is_payload(turns[-2][0]):
        return tidy_text(turns[-2][0].get("text"))
    return ""


def payload_intent(tracker: Tracker) -> str | None:
    intent, _ = latest_intent(tracker)
    return intent


def procedure_bodies() -> dict[str, str]:
    """The local bodies named in the procedure texts: the body that decides each kind of matter
    (court, procuratorate, police, labour arbitration, 行政复议机关: ``referral_bodies`` of the
    jurisdiction file) and the 纪委监委 (from the category routing table)."""
    j = load_jurisdiction()
    discipline = j.category("纪检监察")
    bodies = {f"{key}_body": name for key, name in referral_bodies().items()}
    bodies["discipline_body"] = discipline.unit if discipline and discipline.unit else f"{j.name}纪委监委"
    return bodies


def procedure_message(match: ProcedureMatch, in_form: bool) -> str:
    """Where the matter belongs and how to get there, then the offer to file it here."""
    explanation = texts.text(f"procedures.{match.topic}", **procedure_bodies())
    if in_form:
        offer = texts.text("procedures.in_form")
    else:
        offer = texts.text("procedures.offer_service" if match.procedure == SERVICE else "procedures.offer")
    return f"{explanation}\n{offer}"


def explain_procedure(dispatcher: CollectingDispatcher, match: ProcedureMatch, in_form: bool) -> None:
    dispatcher.utter_message(
        text=procedure_message(match, in_form), buttons=[] if in_form else texts.buttons("procedures")
    )


def divert_opening(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType] | None:
    """Checks on a description before a petition is started from it (action_start_intake).

    Emergency words: the emergency numbers are said first, and the petition goes on. A matter
    that belongs to another procedure although the classifier took it for a petition: it is
    explained with the offer to file it anyway, and the form is not started (the events
    returned make Rasa listen). None: start the petition. A button press ("/file_petition")
    is the citizen's choice to file and is never diverted.
    """
    if not text or is_payload(tracker.latest_message):
        return None
    safety_first(dispatcher, tracker)
    match = opening_procedure(text)
    if match is None:
        return None
    explain_procedure(dispatcher, match, in_form=False)
    return [FollowupAction("action_listen")]


class ActionExplainProcedure(Action):
    """诉访分离: court, enforcement, police, arbitration, 行政复议, 纪检监察, 12345."""

    def name(self) -> str:
        return "action_explain_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety_first(dispatcher, tracker)
        match = procedure_for(payload_intent(tracker), described_text(tracker))
        if match is None:
            match = ProcedureMatch("litigation", "lawsuit")
        explain_procedure(dispatcher, match, petition_in_progress(tracker))
        return []


class ActionExplainVisit(Action):
    """逐级走访 (第20条) and the 第19条 rule, with the offer to file here now."""

    def name(self) -> str:
        return "action_explain_visit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety_first(dispatcher, tracker)
        text = texts.text("visit.text", city=load_jurisdiction().city)
        if petition_in_progress(tracker):
            dispatcher.utter_message(text=f"{text}\n{texts.text('visit.in_form')}")
        else:
            dispatcher.utter_message(text=text, buttons=texts.buttons("visit"))
        return []


def prohibited_items(text: str) -> str:
    """The sentence of 第26条 for what the citizen said they would do."""
    items = texts.entry("prohibited.items")
    found = detect_prohibited(text) or [1, 6]
    parts = [str(items[n]).removeprefix("信访人") for n in found]
    return "信访人" + "；".join(parts)


class ActionWarnProhibited(Action):
    """A calm warning under 第26条 (consequences 第47条) and the lawful way to be heard."""

    def name(self) -> str:
        return "action_warn_prohibited"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety_first(dispatcher, tracker)  # a threat of harm: the emergency numbers first
        text = texts.text("prohibited.text", items=prohibited_items(described_text(tracker)))
        if petition_in_progress(tracker):
            dispatcher.utter_message(text=f"{text}\n{texts.text('prohibited.in_form')}")
        else:
            dispatcher.utter_message(text=text, buttons=texts.buttons("prohibited"))
        return []


def handler_answer(text: str, slots: Mapping[str, Any]) -> str:
    """Which body handles the matter (属地管理、谁主管谁负责), from the routing table of the
    jurisdiction file: the category and place of the petition in progress, else those the
    message itself suggests."""
    j = load_jurisdiction()
    category = slots.get("category") or slots.get("category_guess")
    if not category:
        guesses = infer_categories(" ".join(filter(None, [text, slots.get("facts")])))
        category = guesses[0][0] if guesses else None
    place_text = slots.get("place") if is_given(slots.get("place")) else None
    place = resolve_place(place_text or " ".join(filter(None, [text, slots.get("facts")])))
    if place.status == OUT:
        body = place.responsible_body or j.outside_body_template.format(area=place.outside_area)
        return texts.text("handler.out", area=place.outside_area, body=body)
    rule = j.category(category) if category else None
    if rule is None:
        return texts.text("handler.unknown")
    if place.status == IN and place.subdivision:
        unit = responsible_unit(rule.name, place, j)
        return texts.text("handler.in_place", category=rule.name, place=place.subdivision, unit=unit)
    if rule.unit:
        return texts.text("handler.in_district", category=rule.name, unit=rule.unit)
    return texts.text("handler.by_place", category=rule.name)


class ActionExplainJurisdiction(Action):
    """属地管理 (第5条): which body is responsible for the place named."""

    def name(self) -> str:
        return "action_explain_jurisdiction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety_first(dispatcher, tracker)
        j = load_jurisdiction()
        said = described_text(tracker)
        place = resolve_place(said)
        buttons = texts.buttons("jurisdiction_question")
        if place.status != OUT and (asks_who_handles(said) or petition_in_progress(tracker)):
            # "这个事情找谁": the body that handles this matter, then the form or the offer to file
            answer = handler_answer(said, tracker.slots)
            if petition_in_progress(tracker):
                dispatcher.utter_message(text=f"{answer}\n{texts.text('jurisdiction_question.in_form')}")
            else:
                dispatcher.utter_message(text=f"{answer}\n{texts.text('handler.offer')}", buttons=buttons[:1])
            return []
        if place.status == OUT:
            body = place.responsible_body or j.outside_body_template.format(area=place.outside_area)
            text = texts.text("jurisdiction_question.out", area=place.outside_area, body=body)
        elif place.status == IN and place.subdivision:
            text = texts.text("jurisdiction_question.in", place=place.subdivision)
            buttons = buttons[:1]
        elif place.status == IN_UNSPECIFIED:
            text = texts.text("jurisdiction_question.in_district")
            buttons = buttons[:1]
        else:
            subdivisions = "、".join(s.name for s in j.subdivisions)
            text = texts.text("jurisdiction_question.unknown", subdivisions=subdivisions)
            buttons = []
        if petition_in_progress(tracker):
            dispatcher.utter_message(text=f"{text}\n{texts.text('jurisdiction_question.in_form')}")
        else:
            dispatcher.utter_message(text=text, buttons=buttons)
        return []

"""Checks of one petition-form answer, shared by form validation and corrections.

Each check turns a raw answer into slot updates (the value and any slots that follow from
it) or a polite explanation of what is wrong. Domain rules come from ``bot.rules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from bot.rules.categories import category_names, match_category_answer
from bot.rules.idcard import check_id_number
from bot.rules.jurisdiction import load_jurisdiction, resolve_place
from bot.rules.numbers import parse_people_count
from bot.rules.petition import (
    REVIEW_STAGES,
    check_address,
    check_free_text,
    check_name,
    parse_review_stage,
    parse_yes_no,
)
from bot.rules.phone import check_mobile
from bot.rules.text import tidy_text

from actions import texts
from actions.common import NONE_GIVEN, NOT_APPLICABLE, NOT_REMEMBERED, find_case_no

# The follow-up questions about an earlier petition, filled with NOT_APPLICABLE for a
# first-time petition so that the form does not ask them.
PRIOR_SLOTS = ("prior_body", "prior_case_no", "review_stage", "recheck_same_matter")

UNSURE_WORDS = ("不清楚", "不知道", "不确定", "说不清", "不太清楚")
NONE_WORDS = ("无", "没有", "没", "不知道", "不清楚", "没有具体对象", "没有具体的人")
FORGOT_WORDS = ("不记得", "忘了", "记不清", "没有编号", "不知道", "没有")


@dataclass
class Outcome:
    """The result of checking one answer."""

    ok: bool
    updates: dict[str, Any] = field(default_factory=dict)
    message: str | None = None  # error when not ok; information for the citizen when ok
    buttons: list[dict[str, str]] | None = None
    remember: dict[str, Any] = field(default_factory=dict)  # hints kept for the next attempt


def _from_check(slot: str, check: Any) -> Outcome:
    if check.ok:
        return Outcome(True, {slot: check.value})
    return Outcome(False, message=check.message)


def _as_text(raw: Any) -> str:
    return tidy_text(raw if isinstance(raw, str) else "")


def _as_bool(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    return parse_yes_no(_as_text(raw)) if isinstance(raw, str) else None


def check_pi_consent(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    value = _as_bool(raw)
    if value is None:
        return Outcome(False, message=texts.text("consent.unclear"), buttons=texts.buttons("consent"))
    if value:
        return Outcome(True, {"pi_consent": True})
    return Outcome(True, {"pi_consent": False, "intake_status": "declined", "requested_slot": None})


def check_petitioner_name(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    return _from_check("petitioner_name", check_name(_as_text(raw)))


def check_id(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    return _from_check("id_number", check_id_number(_as_text(raw)))


def check_phone(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    return _from_check("phone", check_mobile(_as_text(raw)))


def check_home_address(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    return _from_check("address", check_address(_as_text(raw)))


def check_place(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    text = _as_text(raw)
    jurisdiction = load_jurisdiction()
    match = resolve_place(text) if text else None
    attempts = slots.get("failed_attempts") or {}
    if match is None or match.status == "unknown":
        if attempts.get("place_unspecified") and any(w in text for w in UNSURE_WORDS):
            return Outcome(True, {"place": f"{jurisdiction.name}（街道不详）"})
        return Outcome(False, message=texts.text("validation.place_unknown"))
    if match.status == "in_unspecified":
        return Outcome(
            False, message=texts.text("validation.place_unspecified"), remember={"place_unspecified": True}
        )
    if match.status == "out":
        info = texts.text("place_out", area=match.outside_area, body=match.responsible_body)
        return Outcome(True, {"place": text}, message=info)
    # A short loose name ("文新那边", "三墩") becomes the official one; a precise
    # description ("古荡街道古墩路188号附近") is kept as given.
    value = match.subdivision if len(text) <= 8 else text
    return Outcome(True, {"place": value})


def check_category(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    if raw is True and slots.get("category_guess"):
        return Outcome(True, {"category": slots["category_guess"]})
    text = _as_text(raw)
    if text in category_names():
        return Outcome(True, {"category": text})
    matched = match_category_answer(text) if text else None
    if matched:
        return Outcome(True, {"category": matched})
    return Outcome(False, message=texts.text("category.unclear"))


def check_respondent(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    text = _as_text(raw)
    if raw is False or raw == NONE_GIVEN or text in NONE_WORDS or not text:
        return Outcome(True, {"respondent": NONE_GIVEN})
    if len(text) > 100:
        return Outcome(False, message=texts.text("validation.respondent_too_long"))
    return Outcome(True, {"respondent": text})


def check_facts(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    return _from_check("facts", check_free_text(_as_text(raw), "facts", 10, 2000))


def check_request(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    return _from_check("request", check_free_text(_as_text(raw), "request", 4, 500))


def check_is_first(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    value = _as_bool(raw)
    if value is None:
        return Outcome(False, message=texts.text("validation.unclear_yes_no"), buttons=texts.buttons("ask.is_first"))
    if value:
        return Outcome(True, {"is_first": True, **{s: NOT_APPLICABLE for s in PRIOR_SLOTS}})
    updates: dict[str, Any] = {"is_first": False}
    # Changing a first-time petition into a repeat one: the follow-up questions now apply.
    updates.update({s: None for s in PRIOR_SLOTS if slots.get(s) == NOT_APPLICABLE})
    return Outcome(True, updates)


def check_prior_body(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    text = _as_text(raw)
    if len(text) < 2 or len(text) > 200:
        return Outcome(False, message=texts.text("validation.prior_body"))
    return Outcome(True, {"prior_body": text})


def check_prior_case_no(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    text = _as_text(raw)
    if raw is False or any(w in text for w in FORGOT_WORDS):
        return Outcome(True, {"prior_case_no": NOT_REMEMBERED})
    case_no = find_case_no(text)
    if case_no:
        return Outcome(True, {"prior_case_no": case_no})
    # Numbers of other systems (a 12345 work order, a letter reference) are kept as given.
    if 3 <= len(text) <= 40 and any(ch.isdigit() for ch in text):
        return Outcome(True, {"prior_case_no": text})
    return Outcome(False, message=texts.text("validation.prior_case_no"))


def check_review_stage(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    text = _as_text(raw)
    stage = text if text in REVIEW_STAGES else (parse_review_stage(text) if text else None)
    if stage is None:
        return Outcome(False, message=texts.text("validation.review_stage"), buttons=texts.buttons("ask.review_stage"))
    updates: dict[str, Any] = {"review_stage": stage}
    updates["recheck_same_matter"] = None if stage == "rechecked" else NOT_APPLICABLE
    return Outcome(True, updates)


def check_recheck_same_matter(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    value = _as_bool(raw)
    if value is None:
        return Outcome(
            False,
            message=texts.text("validation.unclear_yes_no"),
            buttons=texts.buttons("ask.recheck_same_matter"),
        )
    if value:
        return Outcome(
            True, {"recheck_same_matter": "yes", "intake_status": "barred", "requested_slot": None}
        )
    return Outcome(True, {"recheck_same_matter": "no"})


def check_group_size(raw: Any, slots: Mapping[str, Any]) -> Outcome:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw >= 1:
        count = int(raw)
    else:
        parsed = parse_people_count(_as_text(raw))
        if parsed is None or parsed.n < 1:
            return Outcome(False, message=texts.text("validation.group_size"))
        count = parsed.n
    info = texts.text("group", n=count) if count >= 5 else None
    return Outcome(True, {"group_size": float(count)}, message=info)


CHECKS: dict[str, Callable[[Any, Mapping[str, Any]], Outcome]] = {
    "pi_consent": check_pi_consent,
    "petitioner_name": check_petitioner_name,
    "id_number": check_id,
    "phone": check_phone,
    "address": check_home_address,
    "place": check_place,
    "category": check_category,
    "respondent": check_respondent,
    "facts": check_facts,
    "request": check_request,
    "is_first": check_is_first,
    "prior_body": check_prior_body,
    "prior_case_no": check_prior_case_no,
    "review_stage": check_review_stage,
    "recheck_same_matter": check_recheck_same_matter,
    "group_size": check_group_size,
}


def check_slot(slot: str, raw: Any, slots: Mapping[str, Any]) -> Outcome:
    """Check the answer ``raw`` for ``slot`` given the other slot values."""
    return CHECKS[slot](raw, slots)

"""Checks of one petition-form answer, shared by form validation and corrections.

Each check turns a raw answer into slot updates (the value and any slots that follow from
it) or a polite explanation of what is wrong. Domain rules come from ``bot.rules``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from bot.rules.case_numbers import LOST_NUMBER_WORDS, find_case_no
from bot.rules.categories import category_names, match_category_answer
from bot.rules.deadlines import today_local
from bot.rules.documents import NO_DOCUMENT, RESIDENT_ID, RESIDENCE_PERMIT, check_document
from bot.rules.fields import (
    AFTER_RECHECK_SLOTS,
    BY_SLOT,
    MAX_GROUP_SIZE,
    NONE_GIVEN,
    NOT_APPLICABLE,
    NOT_PROVIDED,
    NOT_REMEMBERED,
    PRIOR_SLOTS,
    RECHECKED,
    REVIEW_STAGES,
)
from bot.rules.idcard import id_birth_date
from bot.rules.jurisdiction import load_jurisdiction, resolve_place
from bot.rules.numbers import GROUP_MIN, parse_people_count
from bot.rules.petition import (
    check_address,
    check_free_text,
    check_name,
    parse_review_stage,
    parse_yes_no,
)
from bot.rules.phone import check_contact
from bot.rules.text import spelled_digits_to_arabic, tidy_text

from actions import texts

# PIPL 第31条: personal information of a child under 14 needs a parent's or guardian's consent.
GUARDIAN_AGE = 14
# "I have no 证件 / won't give it" while the number is asked: no number (第19条 does not need one).
NO_DOCUMENT_WORDS = (
    "没有证件", "没证件", "不想提供", "不想给", "不方便提供", "不提供", "不愿意提供", "不填", "不给",
    # the number is not at hand ("身份证号我记不住，要去翻一下"): not given now, the form goes on
    "记不住", "记不得", "不记得", "记不清", "忘了", "没带", "找不到", "要去翻",
)

UNSURE_WORDS = ("不清楚", "不知道", "不确定", "说不清", "不太清楚")
NONE_WORDS = ("无", "没有", "没", "不知道", "不清楚", "没有具体对象", "没有具体的人")
FORGOT_WORDS = (*LOST_NUMBER_WORDS, "没有编号", "不知道", "没有")


@dataclass
class AnswerOutcome:
    """The result of checking one answer."""

    ok: bool
    updates: dict[str, Any] = field(default_factory=dict)
    message: str | None = None  # error when not ok; information for the citizen when ok
    buttons: list[dict[str, str]] | None = None
    remember: dict[str, Any] = field(default_factory=dict)  # hints kept for the next attempt


def _from_check(slot: str, check: Any) -> AnswerOutcome:
    if check.ok:
        return AnswerOutcome(True, {slot: check.value})
    return AnswerOutcome(False, message=check.message)


def _as_text(raw: Any) -> str:
    """The answer as text, digits half-width and Arabic ("３３０１…", "幺三八…")."""
    return spelled_digits_to_arabic(tidy_text(raw if isinstance(raw, str) else ""))


def _as_bool(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    return parse_yes_no(_as_text(raw)) if isinstance(raw, str) else None


def _unclear(slot: str, text_key: str = "validation.unclear_yes_no") -> AnswerOutcome:
    """An answer that is neither yes nor no: say so and offer the question's buttons again."""
    return AnswerOutcome(False, message=texts.text(text_key), buttons=texts.buttons(BY_SLOT[slot].prompt))


def check_pi_consent(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    value = _as_bool(raw)
    if value is None:  # the form asks again, in one short sentence (AskPiConsent in actions/intake.py)
        return AnswerOutcome(False)
    if value:
        return AnswerOutcome(True, {"pi_consent": True})
    return AnswerOutcome(True, {"pi_consent": False, "intake_status": "declined", "requested_slot": None})


def check_petitioner_name(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    return _from_check("petitioner_name", check_name(_as_text(raw)))


NO_ID = {"id_number": NOT_PROVIDED, "id_type": NO_DOCUMENT, "guardian_consent": NOT_APPLICABLE}


def check_id_consent(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    """The separate consent for the 证件号码, sensitive personal information (PIPL 第29条)."""
    text = _as_text(raw)
    value = False if any(w in text for w in NO_DOCUMENT_WORDS) and not any(c.isdigit() for c in text) else _as_bool(raw)
    if value is None and sum(c.isalnum() and c.isascii() for c in text) >= 6:
        # Answering the question with the number is the explicit act of consent for it; a
        # number of the wrong form is explained and the number asked for again.
        given = check_id(raw, slots)
        if not given.ok:  # counts as a first failed answer to the 证件 question
            return AnswerOutcome(True, {"id_consent": True}, message=given.message, remember={"id_number": 1})
        return AnswerOutcome(True, {"id_consent": True, **given.updates}, message=given.message)
    if value is None:
        return _unclear("id_consent", "id_consent.unclear")
    if value:
        return AnswerOutcome(True, {"id_consent": True})
    return AnswerOutcome(True, {"id_consent": False, **NO_ID}, message=texts.text("id_consent.declined"))


def age_on(birth, today) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def check_id(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    text = _as_text(raw)
    if any(w in text for w in NO_DOCUMENT_WORDS) and not any(c.isdigit() for c in text):
        return AnswerOutcome(True, dict(NO_ID), message=texts.text("id_consent.declined"))
    result = check_document(text)
    if not result.ok:
        return AnswerOutcome(False, message=result.message)
    document = result.value
    updates: dict[str, Any] = {"id_number": document.number, "id_type": document.id_type}
    if document.id_type in (RESIDENT_ID, RESIDENCE_PERMIT):
        age = age_on(id_birth_date(document.number), today_local())
        if age < GUARDIAN_AGE:
            return AnswerOutcome(True, {**updates, "guardian_consent": None})
    return AnswerOutcome(True, {**updates, "guardian_consent": NOT_APPLICABLE})


def check_guardian_consent(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    value = _as_bool(raw)
    if value is None:
        return _unclear("guardian_consent")
    if value:
        return AnswerOutcome(True, {"guardian_consent": True})
    return AnswerOutcome(
        True, {"guardian_consent": False, "intake_status": "guardian_declined", "requested_slot": None}
    )


def check_phone(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    result = check_contact(_as_text(raw))
    if not result.ok:
        return AnswerOutcome(False, message=result.message)
    contact = result.value
    number = contact.number or NOT_PROVIDED
    info = texts.text("contact.by_address") if contact.number is None else None
    return AnswerOutcome(True, {"phone": number, "contact_type": contact.kind}, message=info)


def check_home_address(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    return _from_check("address", check_address(_as_text(raw)))


def check_place(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    text = _as_text(raw)
    jurisdiction = load_jurisdiction()
    match = resolve_place(text) if text else None
    attempts = slots.get("failed_attempts") or {}
    if match is None or match.status == "unknown":
        if attempts.get("place_unspecified") and any(w in text for w in UNSURE_WORDS):
            return AnswerOutcome(True, {"place": f"{jurisdiction.name}（街道不详）"})
        return AnswerOutcome(False, message=texts.text("validation.place_unknown"))
    if match.status == "in_unspecified":
        return AnswerOutcome(
            False, message=texts.text("validation.place_unspecified"), remember={"place_unspecified": True}
        )
    if match.status == "out":
        info = texts.text("place_out", area=match.outside_area, body=match.responsible_body)
        return AnswerOutcome(True, {"place": text}, message=info)
    # A short loose name ("文新那边", "三墩") becomes the official one; a precise
    # description ("古荡街道古墩路188号附近") is kept as given.
    value = match.subdivision if len(text) <= 8 else text
    return AnswerOutcome(True, {"place": value})


def check_category(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    if raw is True and slots.get("category_guess"):
        return AnswerOutcome(True, {"category": slots["category_guess"]})
    text = _as_text(raw)
    if text in category_names():
        return AnswerOutcome(True, {"category": text})
    matched = match_category_answer(text) if text else None
    if matched:
        return AnswerOutcome(True, {"category": matched})
    return AnswerOutcome(False, message=texts.text("category.unclear"))


def check_respondent(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    text = _as_text(raw)
    if raw is False or raw == NONE_GIVEN or text in NONE_WORDS or not text:
        return AnswerOutcome(True, {"respondent": NONE_GIVEN})
    return _from_check("respondent", check_free_text(text, "respondent"))


def check_facts(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    return _from_check("facts", check_free_text(_as_text(raw), "facts"))


def check_request(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    return _from_check("request", check_free_text(_as_text(raw), "request"))


def check_new_facts(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    return _from_check("new_facts", check_free_text(_as_text(raw), "new_facts"))


def check_is_first(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    value = _as_bool(raw)
    if value is None:
        return _unclear("is_first")
    if value:
        return AnswerOutcome(True, {"is_first": True, **{s: NOT_APPLICABLE for s in PRIOR_SLOTS}})
    updates: dict[str, Any] = {"is_first": False}
    # Changing a first-time petition into a repeat one: the follow-up questions now apply.
    updates.update({s: None for s in PRIOR_SLOTS if slots.get(s) == NOT_APPLICABLE})
    return AnswerOutcome(True, updates)


def check_prior_body(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    text = _as_text(raw)
    spec = BY_SLOT["prior_body"]
    if not spec.min_len <= len(text) <= spec.max_len:
        return AnswerOutcome(False, message=texts.text("validation.prior_body", max=spec.max_len))
    return AnswerOutcome(True, {"prior_body": text})


_NUMBER_NAME_RE = re.compile(r"^[^0-9]{0,6}?(?:编号|单号|号码|号)(?:是|为|:|：)?\s*(?=[0-9A-Za-z])")


def check_prior_case_no(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    text = _as_text(raw)
    if raw is False or any(w in text for w in FORGOT_WORDS):
        return AnswerOutcome(True, {"prior_case_no": NOT_REMEMBERED})
    case_no = find_case_no(text)
    if case_no:
        return AnswerOutcome(True, {"prior_case_no": case_no})
    # Numbers of other systems (a 12345 work order, a letter reference) are kept as given,
    # without the words that name them ("工单号是20250312088").
    text = _NUMBER_NAME_RE.sub("", text)
    spec = BY_SLOT["prior_case_no"]
    if spec.min_len <= len(text) <= spec.max_len and any(ch.isdigit() for ch in text):
        return AnswerOutcome(True, {"prior_case_no": text})
    return AnswerOutcome(False, message=texts.text("validation.prior_case_no"))


def check_review_stage(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    text = _as_text(raw)
    stage = text if text in REVIEW_STAGES else (parse_review_stage(text) if text else None)
    if stage is None:
        return AnswerOutcome(False, message=texts.text("validation.review_stage"), buttons=texts.buttons("ask.review_stage"))
    follow = None if stage == RECHECKED else NOT_APPLICABLE
    return AnswerOutcome(True, {"review_stage": stage, **{s: follow for s in AFTER_RECHECK_SLOTS}})


def check_recheck_same_matter(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    value = _as_bool(raw)
    if value is None:
        return _unclear("recheck_same_matter")
    if value:  # 第36条 explained by the next question, which asks whether to register anyway
        return AnswerOutcome(True, {"recheck_same_matter": "yes", "register_anyway": None, "new_facts": NOT_APPLICABLE})
    return AnswerOutcome(True, {"recheck_same_matter": "no", "register_anyway": NOT_APPLICABLE, "new_facts": None})


def check_register_anyway(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    """After 复核, same facts and reasons: registered when the citizen insists (第22条), flagged
    for the agency's written decision (第36条); otherwise nothing is filed."""
    value = _as_bool(raw)
    if value is None:
        return _unclear("register_anyway")
    if value:
        return AnswerOutcome(True, {"register_anyway": True}, message=texts.text("recheck.registered_flagged"))
    return AnswerOutcome(True, {"register_anyway": False, "intake_status": "barred", "requested_slot": None})


def check_group_size(raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw >= 1:
        count = int(raw)
    else:
        parsed = parse_people_count(_as_text(raw))
        if parsed is None or parsed.n < 1:
            return AnswerOutcome(False, message=texts.text("validation.group_size"))
        count = parsed.n
    if count > MAX_GROUP_SIZE:
        return AnswerOutcome(False, message=texts.text("validation.group_size"))
    info = texts.text("group", n=count) if count >= GROUP_MIN else None
    return AnswerOutcome(True, {"group_size": float(count)}, message=info)


CHECKS: dict[str, Callable[[Any, Mapping[str, Any]], AnswerOutcome]] = {
    "pi_consent": check_pi_consent,
    "petitioner_name": check_petitioner_name,
    "id_consent": check_id_consent,
    "id_number": check_id,
    "guardian_consent": check_guardian_consent,
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
    "register_anyway": check_register_anyway,
    "new_facts": check_new_facts,
    "group_size": check_group_size,
}


def check_slot(slot: str, raw: Any, slots: Mapping[str, Any]) -> AnswerOutcome:
    """Check the answer ``raw`` for ``slot`` given the other slot values."""
    return CHECKS[slot](raw, slots)

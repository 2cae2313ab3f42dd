"""The JSON shapes of the API: validation of a new case, rendering of cases and status.

A new case is validated again here with the same rules the conversation used (bot.rules), so
the back office never stores what the intake form would have refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from bot.rules.categories import PURPOSES, category_names, is_litigation_related
from bot.rules.checks import Check
from bot.rules.documents import ID_TYPES, NO_DOCUMENT, Document, check_document
from bot.rules.fields import BY_API, RECHECKED, REVIEW_STAGES, label
from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.messages import message
from bot.rules.petition import check_address, check_free_text, check_name
from bot.rules.phone import CONTACT_TYPES, NO_PHONE, Contact, check_contact
from bot.rules.text import normalize_text
from bot.store.due import owed_next
from bot.store.cases import CaseIntake, PriorCase, case_deadlines_of
from bot.rules.statuses import CASE_STATUS_LABELS
from bot.store.models import Case
from bot.web.errors import ApiError

CONVERSATION_ID_MAX = 128
LITIGATION_CATEGORY = "涉法涉诉"
CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Fields stored normalized (identifiers); other free text is stored as the citizen wrote it.
NORMALIZED_TEXT_FIELDS = frozenset({"prior_case.case_no"})


class _Fields:
    """Collects per-field messages while reading the body."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def missing(self, path: str) -> None:
        self.fail(path, message("field.missing", label=label(path)))

    def malformed(self, path: str, code: str, **values: Any) -> None:
        self.fail(path, message(f"field.{code}", label=label(path), **values))

    def string(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True):
        value = obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.missing(path)
            return None
        if not isinstance(value, str):
            self.malformed(path, "not_text")
            return None
        return value

    def check(self, path: str, result: Check) -> Any:
        if not result.ok:
            self.fail(path, result.message or message("field.missing", label=label(path)))
            return None
        return result.value

    def text(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True):
        raw = self.string(obj, key, path, required=required)
        if raw is None:
            return None
        normalized = self.check(path, check_free_text(raw, BY_API[path].slot))
        if normalized is None or path in NORMALIZED_TEXT_FIELDS:
            return normalized
        return raw.strip()

    def checked(
        self, obj: dict[str, Any], key: str, path: str, rule: Callable[[str], Check]
    ) -> Any:
        raw = self.string(obj, key, path)
        return None if raw is None else self.check(path, rule(raw))

    def boolean(
        self,
        obj: dict[str, Any],
        key: str,
        path: str,
        *,
        default: bool | None,
        required: bool = True,
    ):
        value = obj.get(key)
        if value is None:
            if required and default is None:
                self.missing(path)
            return default
        if not isinstance(value, bool):
            self.malformed(path, "not_boolean")
            return default
        return value

    def obj(self, parent: dict[str, Any], key: str, *, required: bool) -> dict | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.missing(key)
            return None
        if not isinstance(value, dict):
            self.malformed(key, "not_object")
            return None
        return value


def _group_size(fields: _Fields, body: dict[str, Any]) -> int:
    value = body.get("group_size", 1)
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        fields.malformed("group_size", "not_integer")
        return 1
    spec = BY_API["group_size"]
    if not spec.min_len <= value <= spec.max_len:
        fields.malformed("group_size", "out_of_range", min=spec.min_len, max=spec.max_len)
    return value


def _prior_case(fields: _Fields, body: dict[str, Any], is_repeat: bool) -> PriorCase | None:
    prior = fields.obj(body, "prior_case", required=False)
    if not is_repeat:
        return None  # a first petition has no earlier case, whatever was sent
    if prior is None:
        return PriorCase(body=None, case_no=None, review_stage="unknown")
    stage = prior.get("review_stage") or "unknown"
    if not isinstance(stage, str) or stage not in REVIEW_STAGES:
        choices = "；".join(f"{key}（{text}）" for key, text in REVIEW_STAGES.items())
        fields.malformed("prior_case.review_stage", "choice", choices=choices)
        stage = "unknown"
    same_matter = new_facts = None
    if stage == RECHECKED:
        # 第36条: after 复核 the same facts and reasons are registered only flagged for a written
        # decision (第22条); new facts or reasons must be stated.
        same_matter = fields.boolean(
            prior, "same_matter_after_recheck", "prior_case.same_matter_after_recheck", default=None
        )
        if same_matter is False:
            new_facts = fields.text(prior, "new_facts", "prior_case.new_facts")
    return PriorCase(
        body=fields.text(prior, "body", "prior_case.body", required=False),
        case_no=fields.text(prior, "case_no", "prior_case.case_no", required=False),
        review_stage=stage,
        same_matter_after_recheck=same_matter,
        new_facts=new_facts,
    )


def _document(fields: _Fields, petitioner: dict[str, Any]) -> Document | None:
    """The 证件: optional (条例 第19条 asks for name and address); checked by its type."""
    id_type = fields.string(petitioner, "id_type", "petitioner.id_type", required=False)
    if id_type is not None and id_type not in ID_TYPES:
        fields.malformed("petitioner.id_type", "choice", choices="、".join(ID_TYPES))
        return None
    if id_type == NO_DOCUMENT:
        return None
    raw = fields.string(petitioner, "id_number", "petitioner.id_number", required=id_type is not None)
    if raw is None:
        return None
    return fields.check("petitioner.id_number", check_document(raw, id_type))


def _contact(fields: _Fields, petitioner: dict[str, Any]) -> Contact:
    """A mobile, a landline or none (then the address is the contact)."""
    kind = fields.string(petitioner, "contact_type", "petitioner.contact_type", required=False)
    if kind is not None and kind not in CONTACT_TYPES:
        fields.malformed("petitioner.contact_type", "choice", choices="、".join(CONTACT_TYPES))
    raw = fields.string(petitioner, "phone", "petitioner.phone", required=kind not in (None, NO_PHONE))
    if raw is None:
        return Contact(NO_PHONE, None)
    contact = fields.check("petitioner.phone", check_contact(raw))
    return contact or Contact(NO_PHONE, None)


def validate_case_request(body: dict[str, Any]) -> CaseIntake:
    """A ``CaseIntake`` from the request body, or ``ApiError`` 422 with per-field messages."""
    f = _Fields()

    conversation_id = f.string(body, "conversation_id", "conversation_id")
    if conversation_id is not None and len(conversation_id) > CONVERSATION_ID_MAX:
        f.fail("conversation_id", f"会话编号不能超过{CONVERSATION_ID_MAX}个字符。")
    channel = f.string(body, "channel", "channel")
    if channel is not None and not CHANNEL_RE.match(channel):
        f.malformed("channel", "choice", choices="小写英文标识，例如 web、wechat、rest")

    petitioner = f.obj(body, "petitioner", required=True)
    name = address = document = None
    contact = Contact(NO_PHONE, None)
    if petitioner is not None:
        name = f.checked(petitioner, "name", "petitioner.name", check_name)
        document = _document(f, petitioner)
        contact = _contact(f, petitioner)
        address = f.checked(petitioner, "address", "petitioner.address", check_address)

    location = f.text(body, "location", "location")
    category = f.string(body, "category", "category")
    if category is not None:
        rule = load_jurisdiction().category(category)  # a name or one of its aliases
        if rule is None:
            names = "、".join(category_names())
            f.malformed("category", "choice", choices=names)
        category = rule.name if rule else None
    purpose = f.string(body, "purpose", "purpose", required=False)
    if purpose is not None and normalize_text(purpose) not in PURPOSES:
        f.malformed("purpose", "choice", choices="、".join(PURPOSES))
    respondent = f.text(body, "respondent", "respondent", required=False)
    facts = f.text(body, "facts", "facts")
    request = f.text(body, "request", "request")
    is_repeat = f.boolean(body, "is_repeat", "is_repeat", default=None)
    prior = _prior_case(f, body, bool(is_repeat))
    group_size = _group_size(f, body)
    litigation = f.boolean(body, "litigation", "litigation", default=None, required=False)

    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    if litigation is None:  # not stated: inferred from the category and the story
        litigation = category == LITIGATION_CATEGORY or is_litigation_related(f"{facts}\n{request}")
    return CaseIntake(
        conversation_id=conversation_id,
        channel=channel,
        name=name,
        id_type=document.id_type if document else NO_DOCUMENT,
        id_number=document.number if document else None,
        contact_type=contact.kind,
        phone=contact.number,
        address=address,
        location=location,
        category=category,
        purpose=normalize_text(purpose) if purpose else None,
        respondent=respondent,
        facts=facts,
        request=request,
        is_repeat=bool(is_repeat),
        prior_case=prior,
        group_size=group_size,
        litigation=bool(litigation),
    )


# --- rendering ---------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def deadlines_json(case: Case) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in case_deadlines_of(case).items()}


def case_json(case: Case, *, revealed: dict[str, str] | None = None) -> dict[str, Any]:
    """A case for the service and staff; personal numbers masked unless ``revealed``."""
    numbers = revealed or {"id_number": case.id_number_masked, "phone": case.phone_masked}
    prior = None
    if case.is_repeat:
        prior = {
            "body": case.prior_body,
            "case_no": case.prior_case_no,
            "review_stage": case.review_stage,
            "same_matter_after_recheck": case.recheck_same_matter,
            "new_facts": case.new_facts,
        }
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_label": CASE_STATUS_LABELS.get(case.status, case.status),
        "channel": case.channel,
        "conversation_id": case.conversation_id,
        "created_at": case.created_at.isoformat(),
        "petitioner": {
            "name": case.petitioner_name,
            "id_type": case.id_type,
            "id_number": numbers["id_number"],
            "contact_type": case.contact_type,
            "phone": numbers["phone"],
            "address": case.address,
        },
        "personal_numbers_revealed": revealed is not None,
        "location": {
            "text": case.location_text,
            "division": case.location_division,
            "division_code": case.location_division_code,
            "status": case.location_status,
        },
        "category": case.category,
        "purpose": case.purpose,
        "respondent": case.respondent,
        "facts": case.facts,
        "request": case.request,
        "is_repeat": case.is_repeat,
        "prior_case": prior,
        "group_size": case.group_size,
        "litigation": case.litigation,
        "responsible_unit": case.responsible_unit,
        "deadlines": deadlines_json(case),
    }


def status_json(case: Case) -> dict[str, Any]:
    """What the citizen's status lookup shows: no personal data at all."""
    deadlines = deadlines_json(case)
    owed = owed_next(case)
    next_deadline = {"label": owed[0], "article": owed[1], "date": owed[2].isoformat()} if owed else None
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_label": CASE_STATUS_LABELS.get(case.status, case.status),
        "created_at": case.created_at.isoformat(),
        "responsible_unit": case.responsible_unit,
        "next_deadline": next_deadline,
        "deadlines": deadlines,
    }

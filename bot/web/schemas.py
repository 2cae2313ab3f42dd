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
from bot.rules.idcard import check_id_number
from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.petition import (
    REVIEW_STAGES,
    check_address,
    check_free_text,
    check_name,
    is_barred_after_recheck,
)
from bot.rules.phone import check_mobile
from bot.rules.text import MAX_TEXT_LEN, normalize_text
from bot.store.due import owed_next
from bot.store.cases import CaseIntake, PriorCase, case_deadlines_of
from bot.store.models import STATUS_LABELS, Case
from bot.web.errors import ApiError

# Field -> Chinese label, for messages about missing or malformed fields.
FIELD_LABELS: dict[str, str] = {
    "conversation_id": "会话编号",
    "channel": "信访渠道",
    "petitioner": "信访人信息",
    "petitioner.name": "姓名",
    "petitioner.id_number": "身份证号码",
    "petitioner.phone": "手机号码",
    "petitioner.address": "住址",
    "location": "问题发生地",
    "category": "内容分类",
    "purpose": "信访目的",
    "respondent": "被反映人或单位",
    "facts": "事实和理由",
    "request": "诉求",
    "is_repeat": "是否反映过",
    "prior_case": "此前信访情况",
    "prior_case.body": "此前受理的机关",
    "prior_case.case_no": "此前的信访件编号",
    "prior_case.review_stage": "此前的办理阶段",
    "group_size": "涉及人数",
    "litigation": "是否涉法涉诉",
}

# Free-text fields: (field name in bot.rules.petition, min length, max length) in characters.
# They are checked on the normalized text but stored as the citizen wrote them (trimmed), so
# staff read the original punctuation; identifiers like case numbers are stored normalized.
TEXT_FIELDS: dict[str, tuple[str, int, int]] = {
    "location": ("place", 2, 200),
    "respondent": ("respondent", 1, 200),
    "facts": ("facts", 10, MAX_TEXT_LEN),
    "request": ("request", 4, MAX_TEXT_LEN),
    "prior_case.body": ("prior_body", 1, 200),
    "prior_case.case_no": ("prior_case_no", 1, 64),
}
NORMALIZED_TEXT_FIELDS = frozenset({"prior_case.case_no"})
CONVERSATION_ID_MAX = 128
LITIGATION_CATEGORY = "涉法涉诉"
CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_GROUP_SIZE = 100000

NOT_ACCEPTED_AFTER_RECHECK = (
    "您反映的事项已经过复核。根据《信访工作条例》第三十六条，信访人对复核意见不服，"
    "仍以同一事实和理由提出的信访事项，各级机关不再受理。如您确有困难，"
    "当地有关部门仍会提供政策咨询、矛盾调解和帮扶救助。"
)


class _Fields:
    """Collects per-field messages while reading the body."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def missing(self, path: str) -> None:
        self.fail(path, f"请填写{FIELD_LABELS.get(path, path)}。")

    def malformed(self, path: str, expected: str) -> None:
        self.fail(path, f"{FIELD_LABELS.get(path, path)}的格式不正确，应为{expected}。")

    def string(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True):
        value = obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.missing(path)
            return None
        if not isinstance(value, str):
            self.malformed(path, "文字")
            return None
        return value

    def check(self, path: str, result: Check) -> Any:
        if not result.ok:
            self.fail(path, result.message or f"{FIELD_LABELS.get(path, path)}不符合要求。")
            return None
        return result.value

    def text(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True):
        raw = self.string(obj, key, path, required=required)
        if raw is None:
            return None
        field, low, high = TEXT_FIELDS[path]
        normalized = self.check(path, check_free_text(raw, field, low, high))
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
            self.malformed(path, "true 或 false")
            return default
        return value

    def obj(self, parent: dict[str, Any], key: str, *, required: bool) -> dict | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.missing(key)
            return None
        if not isinstance(value, dict):
            self.malformed(key, "对象")
            return None
        return value


def _group_size(fields: _Fields, body: dict[str, Any]) -> int:
    value = body.get("group_size", 1)
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        fields.malformed("group_size", "整数")
        return 1
    if not 1 <= value <= MAX_GROUP_SIZE:
        fields.fail("group_size", f"涉及人数应在1至{MAX_GROUP_SIZE}人之间。")
    return value


def _prior_case(fields: _Fields, body: dict[str, Any], is_repeat: bool) -> PriorCase | None:
    prior = fields.obj(body, "prior_case", required=False)
    if not is_repeat:
        return None  # a first petition has no earlier case, whatever was sent
    if prior is None:
        return PriorCase(body=None, case_no=None, review_stage="unknown")
    stage = prior.get("review_stage") or "unknown"
    if not isinstance(stage, str) or stage not in REVIEW_STAGES:
        choices = "；".join(f"{key}（{label}）" for key, label in REVIEW_STAGES.items())
        fields.fail("prior_case.review_stage", f"此前的办理阶段应为以下之一：{choices}。")
        stage = "unknown"
    return PriorCase(
        body=fields.text(prior, "body", "prior_case.body", required=False),
        case_no=fields.text(prior, "case_no", "prior_case.case_no", required=False),
        review_stage=stage,
    )


def validate_case_request(body: dict[str, Any]) -> CaseIntake:
    """A ``CaseIntake`` from the request body, or ``ApiError`` 422 with per-field messages."""
    f = _Fields()

    conversation_id = f.string(body, "conversation_id", "conversation_id")
    if conversation_id is not None and len(conversation_id) > CONVERSATION_ID_MAX:
        f.fail("conversation_id", f"会话编号不能超过{CONVERSATION_ID_MAX}个字符。")
    channel = f.string(body, "channel", "channel")
    if channel is not None and not CHANNEL_RE.match(channel):
        f.malformed("channel", "小写英文标识，例如 web、wechat、rest")

    petitioner = f.obj(body, "petitioner", required=True)
    name = id_number = phone = address = None
    if petitioner is not None:
        name = f.checked(petitioner, "name", "petitioner.name", check_name)
        id_number = f.checked(petitioner, "id_number", "petitioner.id_number", check_id_number)
        phone = f.checked(petitioner, "phone", "petitioner.phone", check_mobile)
        address = f.checked(petitioner, "address", "petitioner.address", check_address)

    location = f.text(body, "location", "location")
    category = f.string(body, "category", "category")
    if category is not None:
        rule = load_jurisdiction().category(category)  # a name or one of its aliases
        if rule is None:
            names = "、".join(category_names())
            f.fail("category", f"请选择以下内容分类之一：{names}。")
        category = rule.name if rule else None
    purpose = f.string(body, "purpose", "purpose", required=False)
    if purpose is not None and normalize_text(purpose) not in PURPOSES:
        f.fail("purpose", "信访目的应为以下之一：" + "、".join(PURPOSES) + "。")
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
    if is_repeat and prior is not None and is_barred_after_recheck(prior.review_stage):
        raise ApiError(422, "not_accepted_after_recheck", NOT_ACCEPTED_AFTER_RECHECK, article="36")
    return CaseIntake(
        conversation_id=conversation_id,
        channel=channel,
        name=name,
        id_number=id_number,
        phone=phone,
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
        }
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_label": STATUS_LABELS.get(case.status, case.status),
        "channel": case.channel,
        "conversation_id": case.conversation_id,
        "created_at": case.created_at.isoformat(),
        "petitioner": {
            "name": case.petitioner_name,
            "id_number": numbers["id_number"],
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
        "status_label": STATUS_LABELS.get(case.status, case.status),
        "created_at": case.created_at.isoformat(),
        "responsible_unit": case.responsible_unit,
        "next_deadline": next_deadline,
        "deadlines": deadlines,
    }

"""The petition contract: every field of a petition, written once.

One row per field: the form slot the conversation fills, where it goes in the back office's
``POST /api/v1/cases`` body, its Chinese label, its limits, the prompt that asks for it and how
the read-back shows it. The intake form (``actions/``), the summary, corrections, the submission
and the API's validation (``bot/api/schemas.py``) all read this table; contract tests keep
``domain.yml``'s ``required_slots`` equal to ``FORM_SLOTS``.

条例 第19条: name, address, request, facts and reasons; 第35-36条: 复查 and 复核, and after
复核 the same facts and reasons are not accepted again (the agency decides that in writing;
the petition is still registered, 第22条).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from bot.rules.documents import NO_DOCUMENT, id_type_label
from bot.rules.masking import mask_id_number
from bot.rules.personal import EXTRA_PERSONAL_SLOTS
from bot.rules.phone import CONTACT_TYPES, NO_PHONE
from bot.rules.statuses import RECHECKED  # the review stage and the status share the name

# Values recorded for a form question that does not apply or was not answered (Rasa forms ask
# every empty required slot, so an inapplicable one is filled).
NOT_APPLICABLE = "不适用"
NONE_GIVEN = "无"
NOT_REMEMBERED = "不记得"
NOT_PROVIDED = "未提供"
NOT_GIVEN_VALUES = frozenset({NOT_APPLICABLE, NONE_GIVEN, NOT_REMEMBERED, NOT_PROVIDED, ""})

# 复查/复核 stages of an earlier petition.
REVIEW_STAGES: dict[str, str] = {
    "no_reply_yet": "还在办理中或尚未收到答复",
    "replied": "已收到处理意见但未申请复查",
    "reviewed": "已经复查（收到复查意见）",
    "rechecked": "已经复核（收到复核意见）",
    "unknown": "不清楚",
}

MAX_GROUP_SIZE = 100000


@dataclass(frozen=True)
class Field:
    """One field of the petition contract.

    ``api`` is the dotted path in the API body (None: the field is not sent). ``kind`` says
    what the value is: "text" (free text within min/max characters), "bool", "int", "choice",
    or "derived" (set together with another slot, never asked). ``show`` names how the
    read-back shows the value (see ``display_value``). ``asked``: the form asks for it.
    """

    slot: str
    api: str | None
    label: str
    kind: str = "text"
    min_len: int | None = None
    max_len: int | None = None
    show: str = "plain"
    asked: bool = True
    correctable: bool = True
    asked_with: str | None = None  # a derived field: the question that sets it

    @property
    def prompt(self) -> str:
        """The key of the question in actions/prompts.yml."""
        return f"ask.{self.slot}"


FIELDS: tuple[Field, ...] = (
    Field("pi_consent", None, "个人信息处理同意", "bool", show="hidden", correctable=False),
    Field("petitioner_name", "petitioner.name", "姓名", min_len=2, max_len=20),
    Field("id_consent", None, "证件号码处理同意", "bool", show="hidden", correctable=False),
    Field(
        "id_type", "petitioner.id_type", "证件类型", "derived", show="id_type", asked=False,
        asked_with="id_number",
    ),
    Field("id_number", "petitioner.id_number", "证件号码", min_len=5, max_len=20, show="id_number"),
    Field("guardian_consent", None, "监护人同意", "bool", show="hidden", correctable=False),
    Field(
        "contact_type", "petitioner.contact_type", "联系方式", "derived", show="hidden", asked=False,
        asked_with="phone",
    ),
    Field("phone", "petitioner.phone", "联系电话", min_len=7, max_len=20, show="phone"),
    Field("address", "petitioner.address", "住址", min_len=5, max_len=200),
    Field("place", "location", "问题发生地", min_len=2, max_len=200),
    Field("category", "category", "内容分类", "choice"),
    Field("respondent", "respondent", "被反映人或单位", min_len=1, max_len=200),
    Field("facts", "facts", "事实和理由", min_len=10, max_len=2000),
    Field("request", "request", "诉求", min_len=4, max_len=1000),
    Field("is_first", "is_repeat", "是否首次反映", "bool", show="is_first"),
    Field("prior_body", "prior_case.body", "此前反映的单位和时间", min_len=2, max_len=200),
    Field("prior_case_no", "prior_case.case_no", "此前的信访件编号", min_len=3, max_len=64),
    Field("review_stage", "prior_case.review_stage", "此前的办理阶段", "choice", show="review_stage"),
    Field(
        "recheck_same_matter", "prior_case.same_matter_after_recheck", "复核后是否同一事实和理由",
        "bool", show="same_matter", correctable=False,
    ),
    Field("register_anyway", None, "仍要求登记", "bool", show="hidden", correctable=False),
    Field("new_facts", "prior_case.new_facts", "新的事实或理由", min_len=10, max_len=2000),
    Field("group_size", "group_size", "涉及人数", "int", min_len=1, max_len=MAX_GROUP_SIZE, show="people"),
    Field("summary_confirmed", None, "确认提交", "bool", show="hidden", correctable=False),
)

BY_SLOT: dict[str, Field] = {f.slot: f for f in FIELDS}
# Slots holding the citizen's answers or numbers: what a citizen's erasure request in the chat
# empties (actions/privacy_requests.py, bot/store/retention.py).
PERSONAL_SLOTS: frozenset[str] = frozenset(
    {f.slot for f in FIELDS} | EXTRA_PERSONAL_SLOTS
)
BY_API: dict[str, Field] = {f.api: f for f in FIELDS if f.api}
FORM_SLOTS: tuple[str, ...] = tuple(f.slot for f in FIELDS if f.asked)
CASE_SLOTS: tuple[str, ...] = tuple(f.slot for f in FIELDS if f.api)
# The questions about an earlier petition: filled with NOT_APPLICABLE for a first petition.
PRIOR_SLOTS: tuple[str, ...] = (
    "prior_body", "prior_case_no", "review_stage", "recheck_same_matter", "register_anyway", "new_facts",
)
# After 复核 (第36条): what follows from the answer about the same facts and reasons.
AFTER_RECHECK_SLOTS: tuple[str, ...] = ("recheck_same_matter", "register_anyway", "new_facts")
# Labels of the API's own fields that are not form slots (messages about them).
API_ONLY_LABELS: dict[str, str] = {
    "conversation_id": "会话编号",
    "channel": "信访渠道",
    "petitioner": "信访人信息",
    "purpose": "信访目的",
    "prior_case": "此前信访情况",
    "litigation": "是否涉法涉诉",
}


def label(slot_or_api: str) -> str:
    """The Chinese label of a slot or an API path."""
    found = BY_SLOT.get(slot_or_api) or BY_API.get(slot_or_api)
    return found.label if found else API_ONLY_LABELS.get(slot_or_api, slot_or_api)


def slot_of_api_path(path: str) -> str | None:
    """The form slot an API field comes from ("petitioner.phone" -> "phone")."""
    found = BY_API.get(path)
    return found.slot if found else None


def is_given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value in NOT_GIVEN_VALUES)


def display_value(slot: str, value: Any, slots: Mapping[str, Any] | None = None) -> str | None:
    """How the read-back and corrections show a value; None: not shown."""
    field = BY_SLOT[slot]
    if value is None or value == "" or value == NOT_APPLICABLE or field.show == "hidden":
        return None
    slots = slots or {}
    if field.show == "id_number":
        if slots.get("id_type") == NO_DOCUMENT or value == NOT_PROVIDED:
            return NOT_PROVIDED
        return mask_id_number(str(value))
    if field.show == "id_type":
        return id_type_label(value)
    if field.show == "phone":  # the citizen's own number, shown in full to be checked
        if slots.get("contact_type") == NO_PHONE or value == NOT_PROVIDED:
            return CONTACT_TYPES[NO_PHONE]
        return str(value)
    if field.show == "is_first":
        return "是" if value else "否，之前反映过"
    if field.show == "review_stage":
        return REVIEW_STAGES.get(value, value)
    if field.show == "same_matter":
        return {"yes": "是，同一事实和理由", "no": "否，有新的事实或理由"}.get(value, value)
    if field.show == "people":
        return f"{int(value)}人"
    return str(value)


def summary_lines(slots: Mapping[str, Any]) -> list[str]:
    """One "label：value" line per answered field, in the order of the table."""
    lines = []
    for field in FIELDS:
        shown = display_value(field.slot, slots.get(field.slot), slots)
        if shown is not None:
            lines.append(f"{field.label}：{shown}")
    return lines


def correctable_slots(slots: Mapping[str, Any]) -> list[str]:
    """The answered fields the citizen can pick to correct (the earlier-petition group is
    corrected through "是否首次反映")."""
    return [
        f.slot
        for f in FIELDS
        if f.correctable and f.asked and f.slot not in PRIOR_SLOTS and is_given(slots.get(f.slot))
    ]


def asking_slot(slot: str) -> str:
    """The question that fills ``slot``: itself, or the one a derived field comes with."""
    return BY_SLOT[slot].asked_with or slot

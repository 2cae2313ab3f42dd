"""The workflow forms of the case page, read into the typed inputs of the workflow's steps.

Checks what can be told from the form alone (required fields, lengths, dates in the right
format and not in the future, a known delivery method). What depends on the case (a date
before the reply, a late request, the extension left) is the workflow's (bot/rules/workflow.py);
the reader runs those checks too as soon as it has read the field, so that staff are told the
first problem of the form. Both raise ``WorkflowError`` with the Chinese message staff see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.text import normalize_text
from bot.rules.workflow import (
    CHAT,
    DELIVERY_METHODS,
    TRANSITIONS,
    AssignInput,
    CaseSnapshot,
    Delivery,
    ExtendInput,
    NoteInput,
    NotAcceptInput,
    OpinionInput,
    ReplyInput,
    RequestInput,
    ReviewStage,
    WorkflowError,
    check_extension_days,
    check_opinion_date,
    check_request_date,
)

NOTE_MAX = 2000
REPLY_MIN, REPLY_MAX = 10, 5000
REASON_MIN = 4
UNIT_MAX = 128
REFERRED_TO_MAX = 255

Form = Mapping[str, str]


def _text(form: Form, key: str, label: str, *, required: bool, low: int = 1,
          high: int = NOTE_MAX) -> str | None:
    raw = (form.get(key) or "").strip()
    if not raw:
        if required:
            raise WorkflowError(f"请填写{label}。")
        return None
    length = len(normalize_text(raw))
    if length < low:
        raise WorkflowError(f"{label}至少需要{low}个字。")
    if len(raw) > high:
        raise WorkflowError(f"{label}不能超过{high}个字。")
    return raw


def _required(form: Form, key: str, label: str, **limits: int) -> str:
    text = _text(form, key, label, required=True, **limits)
    assert text is not None
    return text


def _date(form: Form, key: str, label: str, today: date) -> date:
    raw = (form.get(key) or "").strip()
    if not raw:
        return today
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise WorkflowError(f"{label}的格式不正确，应为 年-月-日，例如 {today.isoformat()}。") from None
    if value > today:
        raise WorkflowError(f"{label}不能晚于今天。")
    return value


def _delivery(form: Form, today: date, *, required: bool) -> Delivery:
    """The delivery fields of a form: ``delivery_method`` and ``delivered_on``."""
    method = (form.get("delivery_method") or CHAT).strip()
    if method not in DELIVERY_METHODS:
        raise WorkflowError("请选择送达方式。")
    if not (form.get("delivered_on") or "").strip():
        if required:
            raise WorkflowError("请填写送达日期（信访人收到之日）。")
        return Delivery(method, None)
    return Delivery(method, _date(form, "delivered_on", "送达日期", today))


def known_units() -> list[str]:
    """Units staff can assign to: the routing table's units and the 街道/镇 governments."""
    return load_jurisdiction().responsible_units()


Reader = Callable[..., object]  # (stage if staged, form, today, case) -> the step's input


def _note(label: str, *, required: bool = False) -> Reader:
    low = REASON_MIN if required else 1
    return lambda form, today, case: NoteInput(_text(form, "note", label, required=required, low=low))


def _not_accept(form: Form, today: date, case: CaseSnapshot) -> NotAcceptInput:
    reason = _required(form, "reason", "不予受理的理由", low=REASON_MIN)
    referred_to = (form.get("referred_to") or "").strip()
    other = (form.get("referred_to_other") or "").strip()
    if referred_to == "other" or (not referred_to and other):
        referred_to = other
    if not referred_to:
        raise WorkflowError("请选择或填写引导信访人前往的渠道（诉访分离）。")
    if len(referred_to) > REFERRED_TO_MAX:
        raise WorkflowError(f"引导渠道不能超过{REFERRED_TO_MAX}个字。")
    return NotAcceptInput(reason, referred_to)


def _assign(form: Form, today: date, case: CaseSnapshot) -> AssignInput:
    unit = (form.get("unit") or "").strip()
    if unit == "other" or not unit:
        unit = (form.get("unit_other") or "").strip()
    if not unit:
        raise WorkflowError("请选择或填写责任单位。")
    if len(unit) > UNIT_MAX:
        raise WorkflowError(f"责任单位名称不能超过{UNIT_MAX}个字。")
    return AssignInput(unit, _text(form, "note", "交办说明", required=False))


def _extend(form: Form, today: date, case: CaseSnapshot) -> ExtendInput:
    try:
        days = int((form.get("days") or "").strip())
    except ValueError:
        raise WorkflowError("请填写延长的天数（整数）。") from None
    check_extension_days(case, days)
    return ExtendInput(days, _required(form, "reason", "延期理由", low=REASON_MIN))


def _reply(form: Form, today: date, case: CaseSnapshot) -> ReplyInput:
    text = _required(form, "reply", "书面答复", low=REPLY_MIN, high=REPLY_MAX)
    return ReplyInput(text, _delivery(form, today, required=False))


def _request(stage: ReviewStage, form: Form, today: date, case: CaseSnapshot) -> RequestInput:
    received = _date(form, "received_on", f"收到{stage.action}请求的日期", today)
    check_request_date(stage, case, received)
    note = _text(form, "note", "备注", required=False)
    return RequestInput(received, note)


def _opinion(stage: ReviewStage, form: Form, today: date, case: CaseSnapshot) -> OpinionInput:
    label = f"{stage.action}意见"
    text = _required(form, "opinion", label, low=REPLY_MIN, high=REPLY_MAX)
    given = _date(form, "given_on", f"{label}的日期", today)
    check_opinion_date(stage, case, given)
    if stage.opens is None:  # the last stage: no window follows, nothing to deliver for it
        return OpinionInput(text, given)
    return OpinionInput(text, given, _delivery(form, today, required=False))


def _delivered(stage: ReviewStage, form: Form, today: date, case: CaseSnapshot) -> Delivery:
    return _delivery(form, today, required=True)


_READERS: dict[str, Reader] = {
    "accept": _note("备注"),
    "not_accept": _not_accept,
    "assign": _assign,
    "objection": _note("异议理由", required=True),
    "extend": _extend,
    "reply": _reply,
    "close": _note("备注"),
    "review_request": _request,
    "recheck_request": _request,
    "review_opinion": _opinion,
    "recheck_opinion": _opinion,
    "reply_delivery": _delivered,
    "review_opinion_delivery": _delivered,
}
assert set(_READERS) == set(TRANSITIONS)


def read(action: str, form: Form, today: date, case: CaseSnapshot) -> object:
    """The typed input of the step ``action`` on ``case`` from its posted form (dates default
    to ``today``); ``WorkflowError`` for a field that is missing, malformed or, for this case,
    out of range."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise WorkflowError("未知的办理操作。")
    staged = (transition.stage,) if transition.stage is not None else ()
    return _READERS[action](*staged, form, today, case)

"""The staff workflow of a case and its legal time limits (信访工作条例, DOMAIN.md §5).

    registered ──accept──► accepted ──assign──► assigned ──reply──► replied ──close──► closed
        │                     ▲  │ extend          │ │ extend            │ ▲            │
        └─not_accept─► not_accepted  └──objection──┘ └─assign (again)   │ └──close──┐   │
                                                                        ▼           │   ▼
                      review_request (复查, ≤30 days after the reply) ─► review_requested
                      review_opinion ─► reviewed ─recheck_request (复核, ≤30 days)─► recheck_requested
                      recheck_opinion ─► rechecked (same facts and reasons not accepted again)

The 复查/复核 windows run from the day the citizen received the reply / the 复查 opinion:
staff record how and when it was delivered (with the step, or later with reply_delivery /
review_opinion_delivery); shown in the chat, it is delivered that day (bot.store.delivery).
Only a request received after that window is late. A matter flagged as litigation-related
or referred elsewhere follows its own procedure's limits, not the 60 days of 第34条.

Every transition checks the status it starts from and its inputs, updates the deadlines,
writes the case history (``case_events``) and the audit log, and queues the notification of
the citizen in the same transaction. Data functions take the caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.cn_dates import cn_date
from bot.rules.deadlines import (
    EXTENSION_MAX_DAYS,
    handling_due,
    local_date,
    objection_due,
    receipt_notice_due,
    receipt_notice_due_latest,
    review_opinion_due,
)
from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.statuses import (
    ACCEPTED,
    ASSIGNED,
    CLOSED,
    NOT_ACCEPTED,
    RECHECK_REQUESTED,
    RECHECKED,
    REGISTERED,
    REPLIED,
    REVIEW_REQUESTED,
    REVIEWED,
)
from bot.rules.text import normalize_text
from bot.store.cases import add_audit
from bot.store.due import owed_next
from bot.store.delivery import (
    CHAT,
    DELIVERY_METHODS,
    set_reply_delivered,
    set_review_opinion_delivered,
)
from bot.store.models import STATUS_LABELS, Case, CaseEvent, Notification
from bot.store.notifications import compose_notification, follows_own_procedure, queue_notification
from bot.web.auth import Permission, Principal


# Statuses in which the agency still owes the citizen something, and by when.
OPEN_STATUSES = (REGISTERED, ACCEPTED, ASSIGNED, REVIEW_REQUESTED, RECHECK_REQUESTED)

# Channels a matter that leaves the petition channel is referred to (诉访分离, 第22、31条).
REFERRAL_CHANNELS: tuple[str, ...] = (
    "人民法院（诉讼、执行等法定程序）",
    "人民检察院（法律监督程序）",
    "公安机关",
    "劳动人事争议仲裁委员会（仲裁）",
    "行政复议机关（行政复议）",
    "纪检监察机关（检举控告，12388）",
    "党员申诉程序",
    "12345政务服务便民热线",
    "其他有权处理的机关",
)

NOTE_MAX = 2000
REPLY_MIN, REPLY_MAX = 10, 5000
REASON_MIN = 4


class WorkflowError(ValueError):
    """A step that cannot be taken now; ``message`` is Chinese, shown to staff."""

    def __init__(self, message: str, *, conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.conflict = conflict  # the case is not in a state that allows it (HTTP 409)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str  # the button, in Chinese
    permission: Permission
    from_statuses: tuple[str, ...]
    to_status: str | None  # None: the status does not change
    notify: bool
    article: str


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("accept", "受理", Permission.CASE_WORK, (REGISTERED,), ACCEPTED, True, "第二十三条"),
        Transition(
            "not_accept", "不予受理", Permission.CASE_WORK, (REGISTERED,), NOT_ACCEPTED, True,
            "第二十二条、第三十一条",
        ),
        Transition(
            "assign", "交办责任单位", Permission.CASE_WORK, (ACCEPTED, ASSIGNED), ASSIGNED, True,
            "第二十二条",
        ),
        Transition(
            "objection", "责任单位提出异议（退回重新交办）", Permission.CASE_WORK, (ASSIGNED,),
            ACCEPTED, False, "第二十三条",
        ),
        Transition(
            "extend", "延长办理期限", Permission.CASE_APPROVE, (ACCEPTED, ASSIGNED), None, True,
            "第三十四条",
        ),
        Transition("reply", "书面答复", Permission.CASE_WORK, (ASSIGNED,), REPLIED, True, "第三十四条"),
        Transition(
            "close", "办结", Permission.CASE_WORK, (REPLIED, REVIEWED, RECHECKED), CLOSED, True,
            "第三十四条",
        ),
        Transition(
            "review_request", "登记复查请求", Permission.CASE_WORK, (REPLIED, CLOSED),
            REVIEW_REQUESTED, True, "第三十五条",
        ),
        Transition(
            "review_opinion", "出具复查意见", Permission.CASE_APPROVE, (REVIEW_REQUESTED,), REVIEWED,
            True, "第三十五条",
        ),
        Transition(
            "recheck_request", "登记复核请求", Permission.CASE_WORK, (REVIEWED, CLOSED),
            RECHECK_REQUESTED, True, "第三十六条",
        ),
        Transition(
            "recheck_opinion", "出具复核意见", Permission.CASE_APPROVE, (RECHECK_REQUESTED,),
            RECHECKED, True, "第三十六条",
        ),
        Transition(
            "reply_delivery", "登记书面答复送达", Permission.CASE_WORK, (REPLIED, CLOSED), None,
            False, "第三十五条",
        ),
        Transition(
            "review_opinion_delivery", "登记复查意见送达", Permission.CASE_WORK, (REVIEWED, CLOSED),
            None, False, "第三十六条",
        ),
    )
}


# --- deadlines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NextDue:
    label: str
    article: str
    due: date
    days_left: int  # negative: overdue by that many days
    state: str  # "overdue", "due_soon" or "ok"


def next_due(case: Case, today: date, due_soon_days: int) -> NextDue | None:
    """What the agency owes next for ``case`` and by when (None when nothing is owed)."""
    owed = owed_next(case)
    if owed is None:
        return None
    label, article, due = owed
    left = (due - today).days
    state = "overdue" if left < 0 else "due_soon" if left <= due_soon_days else "ok"
    return NextDue(label, article, due, left, state)


@dataclass(frozen=True)
class DeadlineRow:
    """One time limit of a case as the console shows it."""

    label: str
    article: str
    rule: str
    due: date | None
    done_on: date | None
    # "done", "overdue", "due_soon", "pending", "expired" (a citizen's window), "waiting" (a
    # citizen's window not started: the document is not delivered yet), "own_procedure"
    state: str
    owed_by_agency: bool = True
    due_text: str = ""  # shown instead of a date when there is none


def _state(due: date | None, done_on: date | None, today: date, soon: int, agency: bool) -> str:
    if done_on is not None:
        return "done"
    if due is None:
        return "pending"
    if due < today:
        return "overdue" if agency else "expired"
    if agency and (due - today).days <= soon:
        return "due_soon"
    return "pending"


def _day(value: datetime | None) -> date | None:
    return local_date(value) if value is not None else None


REVIEW_WINDOW_RULE = "收到{document}之日起30日（期满日遇节假日顺延至其后第一个工作日）"


def deadline_rows(case: Case, today: date, due_soon_days: int) -> list[DeadlineRow]:
    """Every time limit that applies to ``case`` so far, with what has been done."""
    rows: list[DeadlineRow] = []

    def add(label, article, rule, due, done_on, agency=True, state=None, due_text=""):
        rows.append(
            DeadlineRow(
                label, article, rule, due, done_on,
                state or _state(due, done_on, today, due_soon_days, agency), agency, due_text,
            )
        )

    received = _day(case.created_at)
    # Two steps before the citizen hears from the responsible body (第22条, 第23条).
    add("登记并转送、交办", "第二十二条", "信访部门收到之日起15日", case.acceptance_notice_due,
        _day(case.assigned_at) or _day(case.not_accepted_at))
    assigned = _day(case.assigned_at)
    add(
        "书面告知接收情况以及处理途径和程序", "第二十三条",
        "有权处理的机关收到之日起15日（网上信访含转送合计最长约30日）",
        receipt_notice_due(assigned) if assigned else receipt_notice_due_latest(received),
        _day(case.accepted_at) or _day(case.not_accepted_at),
    )
    if case.objection_due is not None:
        # The unit's window, not a duty of the agency: it is open or it has passed.
        add(
            "责任单位提出异议", "第二十三条", "交办之日起5个工作日（按法定节假日安排）",
            case.objection_due, None, False,
        )
    if case.referred_channel:
        add("依法定程序办理", "第二十二条、第三十一条",
            f"已引导至{case.referred_channel}，按该程序自身的期限办理（不适用第三十四条60日期限）",
            None, None, False, "own_procedure", "按该程序期限")
    elif case.accepted_at is not None and follows_own_procedure(case):
        add("办结并书面答复", "第三十一条",
            "涉法涉诉事项：依照诉讼、仲裁、行政复议等相应法定程序的期限办理（不适用第三十四条60日期限）",
            None, _day(case.replied_at), True,
            "done" if case.replied_at else "own_procedure", "按该程序期限")
    elif case.accepted_at is not None:
        rule = "受理之日起60日（第三十一条第（六）项事项）"
        if case.extension_days:
            rule += f"，经批准延长{case.extension_days}日"
        add("办结并书面答复", "第三十四条", rule, case.handling_due, _day(case.replied_at))
    if case.replied_at is not None:
        rule = REVIEW_WINDOW_RULE.format(document="书面答复")
        if case.reply_delivered_on:
            rule += f"；{cn(case.reply_delivered_on)}送达"
        waiting = case.reply_delivered_on is None and case.review_requested_on is None
        due = case.review_request_due if case.reply_delivered_on else None
        add("信访人请求复查", "第三十五条", rule, due, case.review_requested_on,
            False, "waiting" if waiting else None, "待送达后起算" if waiting else "")
    if case.review_opinion_due is not None:
        add("出具复查意见", "第三十五条", "收到复查请求之日起30日", case.review_opinion_due,
            case.review_opinion_on)
    if case.review_opinion_on is not None:
        rule = REVIEW_WINDOW_RULE.format(document="复查意见")
        if case.review_opinion_delivered_on:
            rule += f"；{cn(case.review_opinion_delivered_on)}送达"
        waiting = case.review_opinion_delivered_on is None and case.recheck_requested_on is None
        due = case.recheck_request_due if case.review_opinion_delivered_on else None
        add("信访人请求复核", "第三十六条", rule, due,
            case.recheck_requested_on, False, "waiting" if waiting else None,
            "待送达后起算" if waiting else "")
    if case.recheck_opinion_due is not None:
        add("出具复核意见", "第三十六条", "收到复核请求之日起30日（听证时间不计入）",
            case.recheck_opinion_due, case.recheck_opinion_on)
    return rows


# --- inputs --------------------------------------------------------------------------------


def _text(form: Mapping[str, str], key: str, label: str, *, required: bool, low: int = 1,
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


def _date(form: Mapping[str, str], key: str, label: str, today: date) -> date:
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


@dataclass(frozen=True)
class Delivery:
    """How a reply / 复查 opinion reached the citizen, and when (None: not yet known)."""

    method: str
    on: date | None

    def describe(self) -> str:
        label = DELIVERY_METHODS[self.method]
        if self.on is not None:
            return f"{label}，{cn(self.on)}送达"
        if self.method == CHAT:
            return f"{label}，信访人在对话中看到之日为送达日"
        return f"{label}，送达日期待登记"


def _delivery(form: Mapping[str, str], today: date, earliest: date, *, required: bool) -> Delivery:
    """The delivery fields of a form: ``delivery_method`` and ``delivered_on``."""
    method = (form.get("delivery_method") or CHAT).strip()
    if method not in DELIVERY_METHODS:
        raise WorkflowError("请选择送达方式。")
    if not (form.get("delivered_on") or "").strip():
        if required:
            raise WorkflowError("请填写送达日期（信访人收到之日）。")
        return Delivery(method, None)
    on = _date(form, "delivered_on", "送达日期", today)
    if on < earliest:
        raise WorkflowError(f"送达日期不能早于{cn(earliest)}。")
    return Delivery(method, on)


def known_units() -> list[str]:
    """Units staff can assign to: the routing table's units and the 街道/镇 governments."""
    j = load_jurisdiction()
    units: list[str] = []
    for rule in j.categories:
        for unit in (rule.unit, *(u for _, u in rule.overrides)):
            if unit and unit not in units:
                units.append(unit)
    for sub in j.subdivisions:
        if sub.government and sub.government not in units:
            units.append(sub.government)
    return units


cn = cn_date


# --- transitions ---------------------------------------------------------------------------


@dataclass
class Change:
    """What a transition did: the history note, audit detail and the notification kind."""

    note: str
    detail: dict[str, Any] = field(default_factory=dict)
    notify: str | None = None


def _accept(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    note = _text(form, "note", "备注", required=False)
    case.accepted_at = now
    notice_due = receipt_notice_due_latest(local_date(case.created_at))
    late = today > notice_due
    if follows_own_procedure(case):
        # 第31条(一)-(五): the procedure's own limits, no 60 days (第34条) to state or track.
        case.handling_due = None
        text = "受理，涉法涉诉事项依照相应法定程序的期限办理"
    else:
        case.handling_due = handling_due(today, case.extension_days)
        text = f"受理，办理期限至{cn(case.handling_due)}"
    if late:
        text += f"（已超过{cn(notice_due)}的告知期限）"
    if note:
        text += f"。备注：{note}"
    due = case.handling_due.isoformat() if case.handling_due else None
    return Change(text, {"handling_due": due, "late": late}, "accepted")


def _not_accept(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    reason = _text(form, "reason", "不予受理的理由", required=True, low=REASON_MIN)
    channel = (form.get("referred_channel") or "").strip()
    other = (form.get("referred_channel_other") or "").strip()
    if channel == "other" or (not channel and other):
        channel = other
    if not channel:
        raise WorkflowError("请选择或填写引导信访人前往的渠道（诉访分离）。")
    if len(channel) > 255:
        raise WorkflowError("引导渠道不能超过255个字。")
    case.not_accepted_at = now
    case.not_accepted_reason = reason
    case.referred_channel = channel
    return Change(f"不予受理。理由：{reason}；引导渠道：{channel}", {"referred_channel": channel},
                  "not_accepted")


def _assign(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    unit = (form.get("unit") or "").strip()
    if unit == "other" or not unit:
        unit = (form.get("unit_other") or "").strip()
    if not unit:
        raise WorkflowError("请选择或填写责任单位。")
    if len(unit) > 128:
        raise WorkflowError("责任单位名称不能超过128个字。")
    note = _text(form, "note", "交办说明", required=False)
    previous = case.responsible_unit
    if case.proposed_unit is None:
        case.proposed_unit = previous  # the assistant's routing proposal, kept for the record
    case.responsible_unit = unit
    case.assigned_at = now
    case.objection_due = objection_due(today)
    text = f"交办{unit}，异议期限至{cn(case.objection_due)}（5个工作日）"
    if unit != previous:
        text += f"；原为{previous}"
    if note:
        text += f"。说明：{note}"
    detail = {"unit": unit, "previous_unit": previous, "objection_due": case.objection_due.isoformat()}
    return Change(text, detail, "assigned")


def _objection(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    note = _text(form, "note", "异议理由", required=True, low=REASON_MIN)
    if case.objection_due is not None and today > case.objection_due:
        raise WorkflowError(
            f"异议期限已于{cn(case.objection_due)}届满（第二十三条：5个工作日），不能再退回。"
        )
    unit = case.responsible_unit
    case.objection_due = None
    return Change(f"{unit}提出异议，退回重新交办。理由：{note}", {"unit": unit})


def _extend(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    if case.handling_due is None:
        raise WorkflowError("该事项依照相应法定程序的期限办理，不适用第三十四条的延期。")
    remaining = EXTENSION_MAX_DAYS - case.extension_days
    if remaining <= 0:
        raise WorkflowError(f"办理期限已延长{case.extension_days}日，依据第三十四条最多延长30日。")
    raw = (form.get("days") or "").strip()
    try:
        days = int(raw)
    except ValueError:
        raise WorkflowError("请填写延长的天数（整数）。") from None
    if not 1 <= days <= remaining:
        raise WorkflowError(f"延长天数应在1至{remaining}日之间（第三十四条：延长期限合计不超过30日）。")
    reason = _text(form, "reason", "延期理由", required=True, low=REASON_MIN)
    if case.handling_due is not None and today > case.handling_due:
        raise WorkflowError(f"办理期限已于{cn(case.handling_due)}届满，应在期限内批准延期。")
    case.extension_days += days
    case.extension_reason = reason
    case.handling_due = handling_due(local_date(case.accepted_at), case.extension_days)
    return Change(
        f"经负责人批准延长办理期限{days}日，新期限{cn(case.handling_due)}。理由：{reason}",
        {"days": days, "handling_due": case.handling_due.isoformat()},
        "extended",
    )


def _reply(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    text = _text(form, "reply", "书面答复", required=True, low=REPLY_MIN, high=REPLY_MAX)
    delivery = _delivery(form, today, local_date(case.created_at), required=False)
    case.replied_at = now
    case.reply_text = text
    case.reply_delivered_on = None
    case.review_request_due = None
    note = f"书面答复（{delivery.describe()}）"
    if delivery.on is not None:
        note += f"，复查请求期限至{cn(set_reply_delivered(case, delivery.on))}"
    else:
        note += "，复查请求期限自送达之日起算"
    late = case.handling_due is not None and today > case.handling_due
    if late:
        note += f"（已超过{cn(case.handling_due)}的办理期限）"
    due = case.review_request_due.isoformat() if case.review_request_due else None
    return Change(note, {"late": late, "delivery_method": delivery.method, "review_request_due": due},
                  "replied")


def _reply_delivery(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    if case.replied_at is None:
        raise WorkflowError("尚未登记书面答复。", conflict=True)
    if case.review_requested_on is not None:
        raise WorkflowError("已登记复查请求，无需再登记送达。", conflict=True)
    delivery = _delivery(form, today, local_date(case.replied_at), required=True)
    due = set_reply_delivered(case, delivery.on)
    return Change(
        f"书面答复送达（{delivery.describe()}），复查请求期限至{cn(due)}",
        {"delivery_method": delivery.method, "delivered_on": delivery.on.isoformat(),
         "review_request_due": due.isoformat()},
    )


def _close(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    note = _text(form, "note", "备注", required=False)
    case.closed_at = now
    return Change("办结" + (f"。备注：{note}" if note else ""), {}, "closed")


def _review_request(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    if case.review_requested_on is not None:
        raise WorkflowError("该信访件已登记过复查请求。", conflict=True)
    received = _date(form, "received_on", "收到复查请求的日期", today)
    replied = _day(case.replied_at)
    if replied is not None and received < replied:
        raise WorkflowError("收到复查请求的日期不能早于书面答复日期。")
    # Late only against the window counted from delivery (None: not delivered yet, never late).
    if case.reply_delivered_on is not None and received > case.review_request_due:
        raise WorkflowError(
            f"复查请求应在收到书面答复之日起30日内提出（第三十五条）。书面答复于"
            f"{cn(case.reply_delivered_on)}送达，期限已于{cn(case.review_request_due)}届满。"
        )
    note = _text(form, "note", "备注", required=False)
    case.review_requested_on = received
    case.review_opinion_due = review_opinion_due(received)
    case.closed_at = None
    text = f"收到复查请求（{cn(received)}），复查意见期限至{cn(case.review_opinion_due)}"
    return Change(text + (f"。备注：{note}" if note else ""),
                  {"received_on": received.isoformat()}, "review_requested")


def _review_opinion(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    opinion = _text(form, "opinion", "复查意见", required=True, low=REPLY_MIN, high=REPLY_MAX)
    given = _date(form, "given_on", "复查意见的日期", today)
    if case.review_requested_on is not None and given < case.review_requested_on:
        raise WorkflowError("复查意见的日期不能早于收到复查请求的日期。")
    delivery = _delivery(form, today, given, required=False)
    case.review_opinion = opinion
    case.review_opinion_on = given
    case.review_opinion_delivered_on = None
    case.recheck_request_due = None
    note = f"出具复查意见（{cn(given)}；{delivery.describe()}）"
    if delivery.on is not None:
        note += f"，复核请求期限至{cn(set_review_opinion_delivered(case, delivery.on))}"
    else:
        note += "，复核请求期限自送达之日起算"
    late = case.review_opinion_due is not None and given > case.review_opinion_due
    return Change(note, {"late": late, "delivery_method": delivery.method}, "reviewed")


def _review_opinion_delivery(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    if case.review_opinion_on is None:
        raise WorkflowError("尚未登记复查意见。", conflict=True)
    if case.recheck_requested_on is not None:
        raise WorkflowError("已登记复核请求，无需再登记送达。", conflict=True)
    delivery = _delivery(form, today, case.review_opinion_on, required=True)
    due = set_review_opinion_delivered(case, delivery.on)
    return Change(
        f"复查意见送达（{delivery.describe()}），复核请求期限至{cn(due)}",
        {"delivery_method": delivery.method, "delivered_on": delivery.on.isoformat(),
         "recheck_request_due": due.isoformat()},
    )


def _recheck_request(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    if case.review_opinion_on is None:
        raise WorkflowError("复核请求须在复查意见之后提出（第三十六条）。", conflict=True)
    if case.recheck_requested_on is not None:
        raise WorkflowError("该信访件已登记过复核请求。", conflict=True)
    received = _date(form, "received_on", "收到复核请求的日期", today)
    if received < case.review_opinion_on:
        raise WorkflowError("收到复核请求的日期不能早于复查意见的日期。")
    if case.review_opinion_delivered_on is not None and received > case.recheck_request_due:
        raise WorkflowError(
            f"复核请求应在收到复查意见之日起30日内提出（第三十六条）。复查意见于"
            f"{cn(case.review_opinion_delivered_on)}送达，期限已于{cn(case.recheck_request_due)}届满。"
        )
    case.recheck_requested_on = received
    case.recheck_opinion_due = review_opinion_due(received)
    case.closed_at = None
    return Change(
        f"收到复核请求（{cn(received)}），复核意见期限至{cn(case.recheck_opinion_due)}",
        {"received_on": received.isoformat()}, "recheck_requested",
    )


def _recheck_opinion(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    opinion = _text(form, "opinion", "复核意见", required=True, low=REPLY_MIN, high=REPLY_MAX)
    given = _date(form, "given_on", "复核意见的日期", today)
    if case.recheck_requested_on is not None and given < case.recheck_requested_on:
        raise WorkflowError("复核意见的日期不能早于收到复核请求的日期。")
    case.recheck_opinion = opinion
    case.recheck_opinion_on = given
    late = case.recheck_opinion_due is not None and given > case.recheck_opinion_due
    return Change(f"出具复核意见（{cn(given)}）；同一事实和理由不再受理（第三十六条）",
                  {"late": late}, "rechecked")


_APPLY = {
    "accept": _accept,
    "not_accept": _not_accept,
    "assign": _assign,
    "objection": _objection,
    "extend": _extend,
    "reply": _reply,
    "close": _close,
    "review_request": _review_request,
    "review_opinion": _review_opinion,
    "recheck_request": _recheck_request,
    "recheck_opinion": _recheck_opinion,
    "reply_delivery": _reply_delivery,
    "review_opinion_delivery": _review_opinion_delivery,
}
assert set(_APPLY) == set(TRANSITIONS)


def available(case: Case, principal: Principal) -> list[Transition]:
    """The steps ``principal`` may take on ``case`` in its current status."""
    result = []
    for t in TRANSITIONS.values():
        if case.status not in t.from_statuses or not principal.can(t.permission):
            continue
        if t.name == "review_request" and (case.review_requested_on or not case.replied_at):
            continue
        if t.name == "recheck_request" and (
            case.review_opinion_on is None or case.recheck_requested_on is not None
        ):
            continue
        if t.name == "extend" and (case.extension_days >= EXTENSION_MAX_DAYS or case.handling_due is None):
            continue
        if t.name == "reply_delivery" and (case.replied_at is None or case.review_requested_on):
            continue
        if t.name == "review_opinion_delivery" and (
            case.review_opinion_on is None or case.recheck_requested_on is not None
        ):
            continue
        result.append(t)
    return result


@dataclass
class StepResult:
    case: Case
    transition: Transition
    from_status: str
    change: Change
    notification: Notification | None


async def load_for_update(session: AsyncSession, case_no: str) -> Case | None:
    """The case, locked until the transaction ends (PostgreSQL; SQLite locks on write)."""
    return await session.scalar(
        select(Case).where(Case.case_no == case_no).with_for_update()
    )


async def perform(
    session: AsyncSession,
    case: Case,
    action: str,
    form: Mapping[str, str],
    *,
    actor: Principal,
    now: datetime,
    remote: str | None = None,
) -> StepResult:
    """Apply the step ``action`` to ``case``; ``WorkflowError`` when it cannot be taken.

    ``form["expected_status"]``, when given, must equal the current status, so that two
    officers working the same case cannot both act on what they saw. Flushes, no commit.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise WorkflowError("未知的办理操作。")
    if not actor.can(transition.permission):
        raise PermissionError(action)
    expected = (form.get("expected_status") or "").strip()
    if expected and expected != case.status:
        raise WorkflowError(
            f"该信访件的状态已变为「{STATUS_LABELS.get(case.status, case.status)}」，请刷新页面后重试。",
            conflict=True,
        )
    if case.status not in transition.from_statuses:
        allowed = "、".join(STATUS_LABELS[s] for s in transition.from_statuses)
        raise WorkflowError(
            f"「{transition.label}」只能在以下状态进行：{allowed}；当前状态为"
            f"「{STATUS_LABELS.get(case.status, case.status)}」。",
            conflict=True,
        )
    today = local_date(now)
    from_status = case.status
    change = _APPLY[action](case, form, now, today)
    if transition.to_status is not None:
        case.status = transition.to_status
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.name,
            action=action,
            from_status=from_status,
            to_status=case.status,
            note=change.note,
        )
    )
    await add_audit(
        session,
        actor=actor.name,
        action=f"case_{action}",
        case_id=case.id,
        detail={"from": from_status, "to": case.status, "remote": remote, **change.detail},
        now=now,
    )
    notification = None
    if transition.notify and change.notify:
        text = compose_notification(change.notify, case, today)
        notification = await queue_notification(
            session, case, change.notify, text, actor=actor.name, now=now
        )
    await session.flush()
    return StepResult(case, transition, from_status, change, notification)


async def mark_read(session: AsyncSession, case: Case, actor: str, now: datetime) -> bool:
    """Record the first time a member of staff read the case (阅办). Flushes."""
    if case.first_read_at is not None:
        return False
    case.first_read_at = now
    case.first_read_by = actor
    session.add(
        CaseEvent(case_id=case.id, at=now, actor=actor, action="read",
                  from_status=case.status, to_status=case.status, note="首次阅办")
    )
    await session.flush()
    return True

"""The staff workflow of a case and its legal time limits (信访工作条例, DOMAIN.md §5).

    registered ──accept──► accepted ──assign──► assigned ──reply──► replied ──close──► closed
        │                     ▲  │ extend          │ │ extend            │ ▲            │
        └─not_accept─► not_accepted  └──objection──┘ └─assign (again)   │ └──close──┐   │
                                                                        ▼           │   ▼
                      review_request (复查, ≤30 days after the reply) ─► review_requested
                      review_opinion ─► reviewed ─recheck_request (复核, ≤30 days)─► recheck_requested
                      recheck_opinion ─► rechecked (same facts and reasons not accepted again)

Every transition checks the status it starts from and its inputs, updates the deadlines,
writes the case history (``case_events``) and the audit log, and queues the notification of
the citizen in the same transaction. Data functions take the caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.deadlines import (
    EXTENSION_MAX_DAYS,
    handling_due,
    local_date,
    objection_due,
    review_opinion_due,
    review_request_due,
)
from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.text import normalize_text
from bot.store.cases import add_audit
from bot.store.due import owed_next
from bot.store.models import STATUS_LABELS, Case, CaseEvent, Notification
from bot.store.notifications import compose_notification, queue_notification
from bot.web.auth import Permission, Principal

REGISTERED = "registered"
ACCEPTED = "accepted"
NOT_ACCEPTED = "not_accepted"
ASSIGNED = "assigned"
REPLIED = "replied"
CLOSED = "closed"
REVIEW_REQUESTED = "review_requested"
REVIEWED = "reviewed"
RECHECK_REQUESTED = "recheck_requested"
RECHECKED = "rechecked"

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
    state: str  # "done", "overdue", "due_soon", "pending", "expired" (a citizen's window)
    owed_by_agency: bool = True


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


def deadline_rows(case: Case, today: date, due_soon_days: int) -> list[DeadlineRow]:
    """Every time limit that applies to ``case`` so far, with what has been done."""
    rows: list[DeadlineRow] = []

    def add(label, article, rule, due, done_on, agency=True):
        rows.append(
            DeadlineRow(
                label, article, rule, due, done_on,
                _state(due, done_on, today, due_soon_days, agency), agency,
            )
        )

    decided = _day(case.accepted_at) or _day(case.not_accepted_at)
    add("告知是否受理", "第二十二条、第二十三条", "收到之日起15日", case.acceptance_notice_due, decided)
    if case.objection_due is not None:
        # The unit's window, not a duty of the agency: it is open or it has passed.
        add(
            "责任单位提出异议", "第二十三条", "交办之日起5个工作日（按法定节假日安排）",
            case.objection_due, None, False,
        )
    if case.accepted_at is not None:
        rule = "受理之日起60日"
        if case.extension_days:
            rule += f"，经批准延长{case.extension_days}日"
        add("办结并书面答复", "第三十四条", rule, case.handling_due, _day(case.replied_at))
    if case.review_request_due is not None:
        add(
            "信访人请求复查", "第三十五条", "收到书面答复之日起30日", case.review_request_due,
            case.review_requested_on, False,
        )
    if case.review_opinion_due is not None:
        add("出具复查意见", "第三十五条", "收到复查请求之日起30日", case.review_opinion_due,
            case.review_opinion_on)
    if case.recheck_request_due is not None:
        add(
            "信访人请求复核", "第三十六条", "收到复查意见之日起30日", case.recheck_request_due,
            case.recheck_requested_on, False,
        )
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


def cn(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


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
    case.handling_due = handling_due(today, case.extension_days)
    late = today > case.acceptance_notice_due
    text = f"受理，办理期限至{cn(case.handling_due)}"
    if late:
        text += f"（已超过{cn(case.acceptance_notice_due)}的告知期限）"
    if note:
        text += f"。备注：{note}"
    return Change(text, {"handling_due": case.handling_due.isoformat(), "late": late}, "accepted")


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
    case.replied_at = now
    case.reply_text = text
    case.review_request_due = review_request_due(today)
    late = case.handling_due is not None and today > case.handling_due
    note = f"书面答复，复查请求期限至{cn(case.review_request_due)}"
    if late:
        note += f"（已超过{cn(case.handling_due)}的办理期限）"
    return Change(note, {"late": late, "review_request_due": case.review_request_due.isoformat()},
                  "replied")


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
    if case.review_request_due is not None and received > case.review_request_due:
        raise WorkflowError(
            f"复查请求应在收到书面答复之日起30日内提出（第三十五条），期限已于"
            f"{cn(case.review_request_due)}届满。"
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
    case.review_opinion = opinion
    case.review_opinion_on = given
    case.recheck_request_due = review_request_due(given)
    late = case.review_opinion_due is not None and given > case.review_opinion_due
    return Change(
        f"出具复查意见（{cn(given)}），复核请求期限至{cn(case.recheck_request_due)}",
        {"late": late}, "reviewed",
    )


def _recheck_request(case: Case, form: Mapping[str, str], now: datetime, today: date) -> Change:
    if case.review_opinion_on is None:
        raise WorkflowError("复核请求须在复查意见之后提出（第三十六条）。", conflict=True)
    if case.recheck_requested_on is not None:
        raise WorkflowError("该信访件已登记过复核请求。", conflict=True)
    received = _date(form, "received_on", "收到复核请求的日期", today)
    if received < case.review_opinion_on:
        raise WorkflowError("收到复核请求的日期不能早于复查意见的日期。")
    if case.recheck_request_due is not None and received > case.recheck_request_due:
        raise WorkflowError(
            f"复核请求应在收到复查意见之日起30日内提出（第三十六条），期限已于"
            f"{cn(case.recheck_request_due)}届满。"
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
        if t.name == "extend" and case.extension_days >= EXTENSION_MAX_DAYS:
            continue
        result.append(t)
    return result


@dataclass
class Outcome:
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
) -> Outcome:
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
        text = compose_notification(change.notify, case)
        notification = await queue_notification(
            session, case, change.notify, text, actor=actor.name, now=now
        )
    await session.flush()
    return Outcome(case, transition, from_status, change, notification)


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


def due_window(today: date, due_soon_days: int) -> tuple[date, date]:
    return today, today + timedelta(days=due_soon_days)


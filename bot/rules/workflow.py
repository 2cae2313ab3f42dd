"""The staff workflow of a case as a state machine (信访工作条例, DOMAIN.md §5): pure rules.

    registered ──accept──► accepted ──assign──► assigned ──reply──► replied ──close──► closed
        │                     ▲  │ extend          │ │ extend            │ ▲            │
        └─not_accept─► not_accepted  └──objection──┘ └─assign (again)   │ └──close──┐   │
                                                                        ▼           │   ▼
                      review_request (复查, ≤30 days after the reply) ─► review_requested
                      review_opinion ─► reviewed ─recheck_request (复核, ≤30 days)─► recheck_requested
                      recheck_opinion ─► rechecked (same facts and reasons not accepted again)

复查 and 复核 are two stages of the same procedure (``REVIEW`` and ``RECHECK``): the citizen
requests within 30 days of receiving a document (the written reply / the 复查 opinion), the
agency gives its opinion within 30 days of the request. One request step, one opinion step and
one delivery step serve both stages. The windows run from the day the citizen received the
document: staff record how and when it was delivered (with the step, or later with
reply_delivery / review_opinion_delivery). Only a request received after that window is late.
A matter flagged as litigation-related or referred elsewhere follows its own procedure's limits,
not the 60 days of 第34条.

``take`` checks that a principal may take a step on a case in its state, and computes the
``Outcome``: the new column values, the history note, the audit detail and the notification the
citizen gets. It reads a ``CaseSnapshot`` and typed inputs (the console reads its forms into
them, ``bot/console/workflow_forms.py``); ``bot/store/workflow.py`` writes the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Callable, Mapping

from bot.rules.cn_dates import cn_date as cn
from bot.rules.deadlines import (
    EXTENSION_MAX_DAYS,
    handling_due,
    local_date,
    objection_due,
    receipt_notice_due_latest,
    review_opinion_due,
    review_request_due,
)
from bot.rules.roles import Permission, Principal
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
    status_label,
)

# Statuses in which the agency still owes the citizen something, and by when.
OPEN_STATUSES = (REGISTERED, ACCEPTED, ASSIGNED, REVIEW_REQUESTED, RECHECK_REQUESTED)

# Bodies and procedures a matter leaving the petition procedure is referred to (诉访分离,
# 第22、31条).
REFERRAL_TARGETS: tuple[str, ...] = (
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

# How a reply / 复查 opinion reaches the citizen; shown in the chat, it is delivered that day.
CHAT = "chat"
DELIVERY_METHODS: dict[str, str] = {
    CHAT: "在线对话中送达",
    "post": "邮寄送达",
    "in_person": "当面送达",
    "other": "其他方式送达",
}


class WorkflowError(ValueError):
    """A step that cannot be taken now; ``message`` is Chinese, shown to staff."""

    def __init__(self, message: str, *, conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.conflict = conflict  # the case is not in a state that allows it (HTTP 409)


@dataclass(frozen=True)
class CaseSnapshot:
    """What the machine reads of a case: the workflow's columns of a ``cases`` row."""

    status: str
    created_at: datetime
    litigation: bool = False
    referred_to: str | None = None
    responsible_unit: str = ""
    proposed_unit: str | None = None
    acceptance_notice_due: date | None = None
    accepted_at: datetime | None = None
    not_accepted_at: datetime | None = None
    assigned_at: datetime | None = None
    objection_due: date | None = None
    handling_due: date | None = None
    extension_days: int = 0
    replied_at: datetime | None = None
    reply_delivered_on: date | None = None
    review_request_due: date | None = None
    review_requested_on: date | None = None
    review_opinion_due: date | None = None
    review_opinion_on: date | None = None
    review_opinion_delivered_on: date | None = None
    recheck_request_due: date | None = None
    recheck_requested_on: date | None = None
    recheck_opinion_due: date | None = None
    recheck_opinion_on: date | None = None

    @classmethod
    def of(cls, case: Any) -> CaseSnapshot:
        """The snapshot of anything with these attributes (the SQLAlchemy ``Case``)."""
        return cls(**{f.name: getattr(case, f.name) for f in fields(cls)})


def follows_own_procedure(case: Any) -> bool:
    """A matter flagged as litigation-related or referred to another procedure: its handling
    follows that procedure's time limits, not the 60 days of 第34条."""
    return bool(case.litigation or case.referred_to)


@dataclass(frozen=True)
class ReviewStage:
    """复查 (第35条) or 复核 (第36条): a request within 30 days of receiving ``document``, then
    an opinion within 30 days. ``prefix`` names the stage's columns (``review_requested_on``,
    ``recheck_opinion_due`` …); ``opens``: the stage the opinion's delivery opens (none after
    复核: the same facts and reasons are not accepted again)."""

    prefix: str
    action: str  # 复查 / 复核
    article: str
    document: str  # what the citizen received and contests
    document_column: str  # when the document was given
    document_date: str  # that date, as the error messages name it
    delivered: str  # column: the day the citizen received the document
    requested: str  # status after the request (and the notification kind)
    done: str  # status after the opinion (and the notification kind)
    opens: ReviewStage | None

    @property
    def requested_on(self) -> str:
        return f"{self.prefix}_requested_on"

    @property
    def request_due(self) -> str:
        return f"{self.prefix}_request_due"

    @property
    def opinion(self) -> str:
        return f"{self.prefix}_opinion"

    @property
    def opinion_on(self) -> str:
        return f"{self.prefix}_opinion_on"

    @property
    def opinion_due(self) -> str:
        return f"{self.prefix}_opinion_due"

    def document_on(self, case: CaseSnapshot) -> date | None:
        """The day the document was given (a reply's time as its date in Beijing)."""
        value = getattr(case, self.document_column)
        return local_date(value) if isinstance(value, datetime) else value


# ``done`` is also how the intake names a citizen's earlier petition that reached this stage
# (bot/rules/fields.py REVIEW_STAGES).
RECHECK = ReviewStage(
    prefix="recheck", action="复核", article="第三十六条",
    document="复查意见", document_column="review_opinion_on", document_date="复查意见的日期",
    delivered="review_opinion_delivered_on", requested=RECHECK_REQUESTED, done=RECHECKED,
    opens=None,
)
REVIEW = ReviewStage(
    prefix="review", action="复查", article="第三十五条",
    document="书面答复", document_column="replied_at", document_date="书面答复日期",
    delivered="reply_delivered_on", requested=REVIEW_REQUESTED, done=REVIEWED,
    opens=RECHECK,
)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str  # the button, in Chinese
    permission: Permission
    from_statuses: tuple[str, ...]
    to_status: str | None  # None: the status does not change
    notify: bool
    article: str
    stage: ReviewStage | None = None  # the 复查/复核 stage a staged step works on


_WORK, _APPROVE = Permission.CASE_WORK, Permission.CASE_APPROVE

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("accept", "受理", _WORK, (REGISTERED,), ACCEPTED, True, "第二十三条"),
        Transition("not_accept", "不予受理", _WORK, (REGISTERED,), NOT_ACCEPTED, True,
                   "第二十二条、第三十一条"),
        Transition("assign", "交办责任单位", _WORK, (ACCEPTED, ASSIGNED), ASSIGNED, True, "第二十二条"),
        Transition("objection", "责任单位提出异议（退回重新交办）", _WORK, (ASSIGNED,), ACCEPTED,
                   False, "第二十三条"),
        Transition("extend", "延长办理期限", _APPROVE, (ACCEPTED, ASSIGNED), None, True, "第三十四条"),
        Transition("reply", "书面答复", _WORK, (ASSIGNED,), REPLIED, True, "第三十四条"),
        Transition("close", "办结", _WORK, (REPLIED, REVIEWED, RECHECKED), CLOSED, True, "第三十四条"),
        Transition("review_request", "登记复查请求", _WORK, (REPLIED, CLOSED), REVIEW_REQUESTED,
                   True, "第三十五条", REVIEW),
        Transition("review_opinion", "出具复查意见", _APPROVE, (REVIEW_REQUESTED,), REVIEWED, True,
                   "第三十五条", REVIEW),
        Transition("recheck_request", "登记复核请求", _WORK, (REVIEWED, CLOSED), RECHECK_REQUESTED,
                   True, "第三十六条", RECHECK),
        Transition("recheck_opinion", "出具复核意见", _APPROVE, (RECHECK_REQUESTED,), RECHECKED,
                   True, "第三十六条", RECHECK),
        Transition("reply_delivery", "登记书面答复送达", _WORK, (REPLIED, CLOSED), None, False,
                   "第三十五条", REVIEW),
        Transition("review_opinion_delivery", "登记复查意见送达", _WORK, (REVIEWED, CLOSED), None,
                   False, "第三十六条", RECHECK),
    )
}


# --- typed inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """How a reply / 复查 opinion reached the citizen, and when (None: not yet known)."""

    method: str
    on: date | None = None

    def describe(self) -> str:
        label = DELIVERY_METHODS[self.method]
        if self.on is not None:
            return f"{label}，{cn(self.on)}送达"
        if self.method == CHAT:
            return f"{label}，信访人在对话中看到之日为送达日"
        return f"{label}，送达日期待登记"


@dataclass(frozen=True)
class NoteInput:
    """accept, close (an optional note) and objection (the unit's reasons)."""

    note: str | None = None


@dataclass(frozen=True)
class NotAcceptInput:
    reason: str
    referred_to: str  # where the citizen is referred (诉访分离)


@dataclass(frozen=True)
class AssignInput:
    unit: str
    note: str | None = None


@dataclass(frozen=True)
class ExtendInput:
    days: int
    reason: str


@dataclass(frozen=True)
class ReplyInput:
    text: str
    delivery: Delivery = Delivery(CHAT)


@dataclass(frozen=True)
class RequestInput:
    """A 复查/复核 request and the day the agency received it."""

    received_on: date
    note: str | None = None


@dataclass(frozen=True)
class OpinionInput:
    """A 复查/复核 opinion; ``delivery`` only where it opens the next stage (复查)."""

    text: str
    given_on: date
    delivery: Delivery = Delivery(CHAT)


# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What one step does: the new column values, the history note, the audit detail and the
    kind of notification of the citizen (None: no notification)."""

    changes: dict[str, Any]
    note: str
    detail: dict[str, Any] = field(default_factory=dict)
    notify: str | None = None


def _with_note(text: str, note: str | None, label: str = "备注") -> str:
    return text + (f"。{label}：{note}" if note else "")


def _check_delivered_on(delivery: Delivery, earliest: date) -> None:
    if delivery.on is not None and delivery.on < earliest:
        raise WorkflowError(f"送达日期不能早于{cn(earliest)}。")


def _window(stage: ReviewStage, delivery: Delivery, changes: dict[str, Any]) -> str:
    """The delivery of the document that opens ``stage``: its columns, and the note's tail."""
    if delivery.on is None:
        changes.update({stage.delivered: None, stage.request_due: None})
        return f"，{stage.action}请求期限自送达之日起算"
    due = review_request_due(delivery.on)
    changes.update({stage.delivered: delivery.on, stage.request_due: due})
    return f"，{stage.action}请求期限至{cn(due)}"


def _accept(case: CaseSnapshot, inp: NoteInput, now: datetime, today: date) -> Change:
    notice_due = receipt_notice_due_latest(local_date(case.created_at))
    late = today > notice_due
    if follows_own_procedure(case):
        # 第31条(一)-(五): the procedure's own limits, no 60 days (第34条) to state or track.
        due = None
        text = "受理，涉法涉诉事项依照相应法定程序的期限办理"
    else:
        due = handling_due(today, case.extension_days)
        text = f"受理，办理期限至{cn(due)}"
    if late:
        text += f"（已超过{cn(notice_due)}的告知期限）"
    detail = {"handling_due": due.isoformat() if due else None, "late": late}
    return Change({"accepted_at": now, "handling_due": due}, _with_note(text, inp.note), detail,
                  "accepted")


def _not_accept(case: CaseSnapshot, inp: NotAcceptInput, now: datetime, today: date) -> Change:
    changes = {"not_accepted_at": now, "not_accepted_reason": inp.reason, "referred_to": inp.referred_to}
    return Change(changes, f"不予受理。理由：{inp.reason}；引导渠道：{inp.referred_to}",
                  {"referred_to": inp.referred_to}, "not_accepted")


def _assign(case: CaseSnapshot, inp: AssignInput, now: datetime, today: date) -> Change:
    previous = case.responsible_unit
    due = objection_due(today)
    changes: dict[str, Any] = {"responsible_unit": inp.unit, "assigned_at": now, "objection_due": due}
    if case.proposed_unit is None:
        changes["proposed_unit"] = previous  # the assistant's routing proposal, kept for the record
    text = f"交办{inp.unit}，异议期限至{cn(due)}（5个工作日）"
    if inp.unit != previous:
        text += f"；原为{previous}"
    detail = {"unit": inp.unit, "previous_unit": previous, "objection_due": due.isoformat()}
    return Change(changes, _with_note(text, inp.note, "说明"), detail, "assigned")


def _objection(case: CaseSnapshot, inp: NoteInput, now: datetime, today: date) -> Change:
    if case.objection_due is not None and today > case.objection_due:
        raise WorkflowError(
            f"异议期限已于{cn(case.objection_due)}届满（第二十三条：5个工作日），不能再退回。"
        )
    unit = case.responsible_unit
    return Change({"objection_due": None}, f"{unit}提出异议，退回重新交办。理由：{inp.note}",
                  {"unit": unit})


# Checks of one input against the case, which the form reader also runs as soon as it has read
# the field (so staff see the first problem of the form).


def check_extension_days(case: CaseSnapshot, days: int) -> None:
    remaining = EXTENSION_MAX_DAYS - case.extension_days
    if not 1 <= days <= remaining:
        raise WorkflowError(f"延长天数应在1至{remaining}日之间（第三十四条：延长期限合计不超过30日）。")


def check_request_date(stage: ReviewStage, case: CaseSnapshot, received: date) -> None:
    """A 复查/复核 request is late only against the window counted from the document's
    delivery (not delivered yet: never late)."""
    document_on = stage.document_on(case)
    if document_on is not None and received < document_on:
        raise WorkflowError(f"收到{stage.action}请求的日期不能早于{stage.document_date}。")
    delivered, due = getattr(case, stage.delivered), getattr(case, stage.request_due)
    if delivered is not None and received > due:
        raise WorkflowError(
            f"{stage.action}请求应在收到{stage.document}之日起30日内提出（{stage.article}）。"
            f"{stage.document}于{cn(delivered)}送达，期限已于{cn(due)}届满。"
        )


def check_opinion_date(stage: ReviewStage, case: CaseSnapshot, given: date) -> None:
    requested = getattr(case, stage.requested_on)
    if requested is not None and given < requested:
        raise WorkflowError(f"{stage.action}意见的日期不能早于收到{stage.action}请求的日期。")


def _extend(case: CaseSnapshot, inp: ExtendInput, now: datetime, today: date) -> Change:
    check_extension_days(case, inp.days)
    if case.handling_due is not None and today > case.handling_due:
        raise WorkflowError(f"办理期限已于{cn(case.handling_due)}届满，应在期限内批准延期。")
    total = case.extension_days + inp.days
    due = handling_due(local_date(case.accepted_at), total)
    return Change(
        {"extension_days": total, "extension_reason": inp.reason, "handling_due": due},
        f"经负责人批准延长办理期限{inp.days}日，新期限{cn(due)}。理由：{inp.reason}",
        {"days": inp.days, "handling_due": due.isoformat()},
        "extended",
    )


def _reply(case: CaseSnapshot, inp: ReplyInput, now: datetime, today: date) -> Change:
    _check_delivered_on(inp.delivery, local_date(case.created_at))
    changes: dict[str, Any] = {"replied_at": now, "reply_text": inp.text}
    note = f"书面答复（{inp.delivery.describe()}）" + _window(REVIEW, inp.delivery, changes)
    late = case.handling_due is not None and today > case.handling_due
    if late:
        note += f"（已超过{cn(case.handling_due)}的办理期限）"
    due = changes[REVIEW.request_due]
    detail = {"late": late, "delivery_method": inp.delivery.method,
              "review_request_due": due.isoformat() if due else None}
    return Change(changes, note, detail, "replied")


def _close(case: CaseSnapshot, inp: NoteInput, now: datetime, today: date) -> Change:
    return Change({"closed_at": now}, _with_note("办结", inp.note), {}, "closed")


def _request(stage: ReviewStage, case: CaseSnapshot, inp: RequestInput, now: datetime,
             today: date) -> Change:
    """The citizen requests 复查 / 复核."""
    received = inp.received_on
    check_request_date(stage, case, received)
    opinion_due = review_opinion_due(received)
    text = f"收到{stage.action}请求（{cn(received)}），{stage.action}意见期限至{cn(opinion_due)}"
    return Change(
        {stage.requested_on: received, stage.opinion_due: opinion_due, "closed_at": None},
        _with_note(text, inp.note),
        {"received_on": received.isoformat()},
        stage.requested,
    )


def _opinion(stage: ReviewStage, case: CaseSnapshot, inp: OpinionInput, now: datetime,
             today: date) -> Change:
    """The 复查 / 复核 opinion; a 复查 opinion's delivery opens the 复核 window."""
    given = inp.given_on
    check_opinion_date(stage, case, given)
    changes: dict[str, Any] = {stage.opinion: inp.text, stage.opinion_on: given}
    due = getattr(case, stage.opinion_due)
    detail: dict[str, Any] = {"late": due is not None and given > due}
    if stage.opens is None:
        note = f"出具{stage.action}意见（{cn(given)}）；同一事实和理由不再受理（{stage.article}）"
        return Change(changes, note, detail, stage.done)
    _check_delivered_on(inp.delivery, given)
    note = f"出具{stage.action}意见（{cn(given)}；{inp.delivery.describe()}）"
    note += _window(stage.opens, inp.delivery, changes)
    detail["delivery_method"] = inp.delivery.method
    return Change(changes, note, detail, stage.done)


def _delivered(stage: ReviewStage, case: CaseSnapshot, inp: Delivery, now: datetime,
               today: date) -> Change:
    """Staff record when the document that opens ``stage`` reached the citizen."""
    if inp.on is None:
        raise WorkflowError("请填写送达日期（信访人收到之日）。")
    _check_delivered_on(inp, stage.document_on(case))
    changes: dict[str, Any] = {}
    _window(stage, inp, changes)
    due = changes[stage.request_due]
    return Change(
        changes,
        f"{stage.document}送达（{inp.describe()}），{stage.action}请求期限至{cn(due)}",
        {"delivery_method": inp.method, "delivered_on": inp.on.isoformat(),
         stage.request_due: due.isoformat()},
    )


# --- what is allowed -------------------------------------------------------------------------


def _extend_blocked(stage: None, case: CaseSnapshot) -> WorkflowError | None:
    if case.handling_due is None:
        return WorkflowError("该事项依照相应法定程序的期限办理，不适用第三十四条的延期。")
    if case.extension_days >= EXTENSION_MAX_DAYS:
        return WorkflowError(f"办理期限已延长{case.extension_days}日，依据第三十四条最多延长30日。")
    return None


def _request_blocked(stage: ReviewStage, case: CaseSnapshot) -> WorkflowError | None:
    if stage.document_on(case) is None:
        return WorkflowError(f"{stage.action}请求须在{stage.document}之后提出（{stage.article}）。",
                             conflict=True)
    if getattr(case, stage.requested_on) is not None:
        return WorkflowError(f"该信访件已登记过{stage.action}请求。", conflict=True)
    return None


def _delivery_blocked(stage: ReviewStage, case: CaseSnapshot) -> WorkflowError | None:
    if stage.document_on(case) is None:
        return WorkflowError(f"尚未登记{stage.document}。", conflict=True)
    if getattr(case, stage.requested_on) is not None:
        return WorkflowError(f"已登记{stage.action}请求，无需再登记送达。", conflict=True)
    return None


@dataclass(frozen=True)
class _Step:
    apply: Callable[..., Change]  # a staged step gets its transition's stage first
    input: type
    # Why the step cannot be taken on a case whatever the input (None: it can).
    blocked: Callable[[Any, CaseSnapshot], WorkflowError | None] | None = None


_REQUEST = _Step(_request, RequestInput, _request_blocked)
_OPINION = _Step(_opinion, OpinionInput)
_DELIVERY = _Step(_delivered, Delivery, _delivery_blocked)
_STEPS: dict[str, _Step] = {
    "accept": _Step(_accept, NoteInput),
    "not_accept": _Step(_not_accept, NotAcceptInput),
    "assign": _Step(_assign, AssignInput),
    "objection": _Step(_objection, NoteInput),
    "extend": _Step(_extend, ExtendInput, _extend_blocked),
    "reply": _Step(_reply, ReplyInput),
    "close": _Step(_close, NoteInput),
    "review_request": _REQUEST,
    "recheck_request": _REQUEST,
    "review_opinion": _OPINION,
    "recheck_opinion": _OPINION,
    "reply_delivery": _DELIVERY,
    "review_opinion_delivery": _DELIVERY,
}
assert set(_STEPS) == set(TRANSITIONS)


def input_type(name: str) -> type:
    """The typed input the step ``name`` takes."""
    return _STEPS[name].input


def _blocked(transition: Transition, case: CaseSnapshot) -> WorkflowError | None:
    guard = _STEPS[transition.name].blocked
    return guard(transition.stage, case) if guard is not None else None


def check(name: str, case: CaseSnapshot, principal: Principal, expected_status: str | None = None
          ) -> Transition:
    """The transition ``name`` when ``principal`` may take it on ``case`` now.

    ``WorkflowError`` when it cannot be taken (``conflict``: not in this state); a non-empty
    ``expected_status`` must equal the current status, so that two officers working the same
    case cannot both act on what they saw. ``PermissionError`` for a principal without the
    step's permission.
    """
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise WorkflowError("未知的办理操作。")
    if not principal.can(transition.permission):
        raise PermissionError(name)
    expected = (expected_status or "").strip()
    if expected and expected != case.status:
        raise WorkflowError(
            f"该信访件的状态已变为「{status_label(case.status)}」，请刷新页面后重试。", conflict=True
        )
    if case.status not in transition.from_statuses:
        allowed = "、".join(status_label(s) for s in transition.from_statuses)
        raise WorkflowError(
            f"「{transition.label}」只能在以下状态进行：{allowed}；当前状态为「{status_label(case.status)}」。",
            conflict=True,
        )
    blocked = _blocked(transition, case)
    if blocked is not None:
        raise blocked
    return transition


def available(case: CaseSnapshot, principal: Principal) -> list[Transition]:
    """The steps ``principal`` may take on ``case`` in its current state."""
    return [
        t for t in TRANSITIONS.values()
        if case.status in t.from_statuses and principal.can(t.permission) and _blocked(t, case) is None
    ]


@dataclass(frozen=True)
class Outcome:
    """A step taken: the column values to write (``status`` included when it changes), the
    history note, the audit detail and the notification kind (None: the citizen is not told)."""

    transition: Transition
    from_status: str
    to_status: str
    changes: Mapping[str, Any]
    note: str
    detail: Mapping[str, Any]
    notify: str | None


def take(name: str, case: CaseSnapshot, inputs: Any, *, principal: Principal, now: datetime,
         expected_status: str | None = None) -> Outcome:
    """Take the step ``name`` on ``case`` with ``inputs`` (the type ``input_type(name)``)."""
    transition = check(name, case, principal, expected_status)
    step = _STEPS[name]
    if not isinstance(inputs, step.input):
        raise TypeError(f"{name} takes {step.input.__name__}, got {type(inputs).__name__}")
    staged = (transition.stage,) if transition.stage is not None else ()
    change = step.apply(*staged, case, inputs, now, local_date(now))
    changes = dict(change.changes)
    to_status = transition.to_status or case.status
    if transition.to_status is not None:
        changes["status"] = to_status
    notify = change.notify if transition.notify else None
    return Outcome(transition, case.status, to_status, changes, change.note, change.detail, notify)

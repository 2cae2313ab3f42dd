"""The time limits of one case as staff see them: what is owed next, and every limit so far.

Pure display rules over a ``CaseSnapshot`` (bot/rules/workflow.py); the limits themselves are
computed by bot/rules/deadlines.py and set by the workflow's steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.rules.cn_dates import cn_date as cn
from bot.rules.deadlines import local_date, receipt_notice_due, receipt_notice_due_latest
from bot.rules.workflow import CaseSnapshot, follows_own_procedure


@dataclass(frozen=True)
class NextDue:
    label: str
    article: str
    due: date
    days_left: int  # negative: overdue by that many days
    state: str  # "overdue", "due_soon" or "ok"


def next_due(owed: tuple[str, str, date] | None, today: date, due_soon_days: int) -> NextDue | None:
    """How urgent the next thing owed is: ``owed`` is its (label, article, date), None when
    nothing is owed (then the result is None too)."""
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


def deadline_rows(case: CaseSnapshot, today: date, due_soon_days: int) -> list[DeadlineRow]:
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
    if case.referred_to:
        add("依法定程序办理", "第二十二条、第三十一条",
            f"已引导至{case.referred_to}，按该程序自身的期限办理（不适用第三十四条60日期限）",
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

"""Unit assessment (责任单位考核): the indicators every district measures its units by.

The indicators of one period are computed over the cases **registered in the period** (the
same cases as the other statistics, ``reporting.period_report``), grouped by their current
责任单位 (``Case.responsible_unit``), among the cases the caller may see (``scope``:
bot/store/visibility.case_scope — a unit's officers see their unit, the 信访局 sees all).

Everything is read from what the workflow itself writes: the case columns (due dates set by
the workflow with the helpers of bot/rules/deadlines.py) and the history ``case_events``
(``accept``, ``not_accept``, ``reply``, ``close``, written by bot/store/workflow.perform), and
the citizen's ratings (``case_ratings``, bot/store/ratings.py). Steps and ratings after the
``as_of`` day are left out, so a month's figures computed later do not change with what
happened after it.

Each indicator is a count over a count; a rate with nothing to count shows "—".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.deadlines import TZ, local_date
from bot.rules.ratings import SATISFIED_RATINGS
from bot.store.models import Case, CaseEvent, CaseRating
from bot.store.repeats import is_repeat_condition

TOTAL_LABEL = "合计"

# The workflow steps (bot/rules/workflow.TRANSITIONS) the indicators read.
NOTICE_ACTIONS = ("accept", "not_accept")
REPLY_ACTION = "reply"
CLOSE_ACTION = "close"


def pct(numerator: int, denominator: int) -> str:
    """"12.5%", or "—" when there is nothing to count."""
    return f"{100.0 * numerator / denominator:.1f}%" if denominator else "—"


@dataclass
class Indicator:
    """One rate: ``numerator`` cases out of ``denominator``."""

    numerator: int = 0
    denominator: int = 0

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def text(self) -> str:
        return pct(self.numerator, self.denominator)

    def add(self, hit: bool, counted: bool = True) -> None:
        if counted:
            self.denominator += 1
            self.numerator += 1 if hit else 0


@dataclass
class UnitAssessment:
    """The indicators of one 责任单位 (or of all of them: ``TOTAL_LABEL``)."""

    unit: str
    cases: int = 0
    timely_acceptance: Indicator = field(default_factory=Indicator)  # 及时受理率
    on_time_completion: Indicator = field(default_factory=Indicator)  # 按期办结率
    satisfaction: Indicator = field(default_factory=Indicator)  # 群众满意率
    participation: Indicator = field(default_factory=Indicator)  # 参评率
    repeat: Indicator = field(default_factory=Indicator)  # 重复信访率
    answer: Indicator = field(default_factory=Indicator)  # 回告率


# (name in Chinese, attribute, what is counted, over what) — the table's columns and the
# monthly report's sentences.
INDICATORS: tuple[tuple[str, str, str, str], ...] = (
    ("及时受理率", "timely_acceptance", "及时受理", "应受理"),
    ("按期办结率", "on_time_completion", "按期答复", "应办结"),
    ("群众满意率", "satisfaction", "满意和基本满意", "参评"),
    ("参评率", "participation", "参评", "已答复"),
    ("重复信访率", "repeat", "重复信访", "信访件"),
    ("回告率", "answer", "已回告", "信访件"),
)

DEFINITIONS: dict[str, str] = {
    "及时受理率": "在受理告知期限（登记之日起15日，第二十二条、第二十三条）内作出受理或不予受理告知的件数，"
                  "除以告知期限已届满或已作出告知的件数。",
    "按期办结率": "在办理期限（受理之日起60日，经批准延期的加上延长天数，第三十四条）内书面答复的件数，"
                  "除以办理期限已届满或已答复的件数；依照其他法定程序办理的事项不计入。",
    "群众满意率": "评价为“满意”或“基本满意”的件数，除以参加评价的件数（第二十一条）。",
    "参评率": "参加评价的件数，除以已书面答复或已办结的件数。",
    "重复信访率": "重复信访件数（信访人称此前反映过，或与此前信访件关联），除以本期全部信访件。",
    "回告率": "已书面答复或已告知不予受理的件数，除以本期全部信访件。",
}


@dataclass
class Assessment:
    start: date
    end: date
    as_of: date
    units: list[UnitAssessment]
    total: UnitAssessment


def day_start(d: date) -> datetime:
    """00:00 of ``d`` in Asia/Shanghai, as a UTC datetime (the statistics' day boundary)."""
    return datetime.combine(d, time(0), TZ).astimezone(timezone.utc)


def _end_of(day: date) -> datetime:
    """The first instant after ``day`` in Asia/Shanghai, as a UTC datetime."""
    return day_start(day + timedelta(days=1))


async def assess(
    session: AsyncSession, start: date, end: date, *, as_of: date, scope: Sequence[Any] = ()
) -> Assessment:
    """The indicators of the cases registered from ``start`` to ``end`` (inclusive, local
    dates) among ``scope``, per 责任单位 and in total, as they stood at the end of ``as_of``."""
    cutoff = _end_of(as_of)
    period = (Case.created_at >= day_start(start), Case.created_at < _end_of(end), *scope)
    rows = (await session.execute(
        select(Case.id, Case.responsible_unit, Case.acceptance_notice_due, Case.handling_due,
               is_repeat_condition().label("repeat"))
        .where(*period)
    )).all()
    ids = select(Case.id).where(*period)

    # The first time each step was taken on each case (before the cutoff).
    first: dict[tuple[int, str], datetime] = {}
    steps = await session.execute(
        select(CaseEvent.case_id, CaseEvent.action, func.min(CaseEvent.at))
        .where(CaseEvent.case_id.in_(ids), CaseEvent.at < cutoff,
               CaseEvent.action.in_((*NOTICE_ACTIONS, REPLY_ACTION, CLOSE_ACTION)))
        .group_by(CaseEvent.case_id, CaseEvent.action)
    )
    for case_id, action, at in steps:
        first[(case_id, action)] = at
    ratings: dict[int, str] = dict((await session.execute(
        select(CaseRating.case_id, CaseRating.rating)
        .where(CaseRating.case_id.in_(ids), CaseRating.rated_at < cutoff)
    )).all())

    by_unit: dict[str, UnitAssessment] = {}
    total = UnitAssessment(TOTAL_LABEL)
    for case_id, unit, notice_due, handling_due, repeat in rows:
        target = by_unit.setdefault(unit, UnitAssessment(unit))
        notices = [first[(case_id, a)] for a in NOTICE_ACTIONS if (case_id, a) in first]
        notice_on = local_date(min(notices)) if notices else None
        reply_at = first.get((case_id, REPLY_ACTION))
        replied_on = local_date(reply_at) if reply_at else None
        closed = (case_id, CLOSE_ACTION) in first
        rating = ratings.get(case_id)
        for item in (target, total):
            item.cases += 1
            # 及时受理率: the receipt notice step (受理 ``accept`` or 不予受理 ``not_accept``, the
            # first of them) taken on or before ``acceptance_notice_due`` (登记 + 15 days,
            # deadlines.acceptance_notice_due, 第二十二条、第二十三条). Counted: cases whose
            # notice was given, or whose notice limit ran out before ``as_of``.
            item.timely_acceptance.add(
                notice_on is not None and notice_on <= notice_due,
                notice_on is not None or notice_due < as_of,
            )
            # 按期办结率: the written reply (``reply``) on or before ``handling_due`` (受理 + 60
            # days + approved extension, deadlines.handling_due, 第三十四条; the workflow keeps
            # the column up to date). Counted: cases with a 第三十四条 limit that were replied
            # or whose limit ran out before ``as_of``; matters following their own legal
            # procedure (no ``handling_due``) are not counted.
            if handling_due is not None:
                item.on_time_completion.add(
                    replied_on is not None and replied_on <= handling_due,
                    replied_on is not None or handling_due < as_of,
                )
            # 参评率: rated cases over answered ones (written reply or closed, by ``as_of``).
            answered = replied_on is not None or closed
            item.participation.add(rating is not None, answered)
            # 群众满意率: 满意 + 基本满意 over the rated cases.
            item.satisfaction.add(rating in SATISFIED_RATINGS, rating is not None)
            # 重复信访率: repeats (reporting's own rule, repeats.is_repeat_condition) over all.
            item.repeat.add(bool(repeat))
            # 回告率: answered — written reply, or told it is not accepted — over all (the
            # "四个百分之百" 回告 of reporting.period_report, by ``as_of``).
            item.answer.add(replied_on is not None or (case_id, "not_accept") in first)
    units = sorted(by_unit.values(), key=lambda u: (-u.cases, u.unit))
    return Assessment(start, end, as_of, units, total)


def assessment_columns() -> list[str]:
    columns = ["责任单位", "信访件"]
    for name, _, counted, over in INDICATORS:
        columns += [counted, over, name]
    return columns


def assessment_rows(result: Assessment) -> list[list[Any]]:
    """One row per unit, then the total when there is more than one unit."""
    rows = []
    items = list(result.units)
    if len(items) > 1:
        items.append(result.total)
    for item in items:
        row: list[Any] = [item.unit, item.cases]
        for _, attribute, _, _ in INDICATORS:
            indicator: Indicator = getattr(item, attribute)
            row += [indicator.numerator, indicator.denominator, indicator.text]
        rows.append(row)
    return rows


def assessment_note(as_of: date) -> str:
    return (f"按责任单位统计本期登记的信访件，办理环节截至{as_of.isoformat()}。"
            + "".join(f"{name}：{text}" for name, text in DEFINITIONS.items())
            + "分母为0时显示“—”。")

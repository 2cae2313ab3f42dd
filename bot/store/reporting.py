"""Case search for the console list, and the statistics of a period (DOMAIN.md §9).

Every figure of the statistics page is one ``Table`` here: the chart draws it and the CSV
export writes it, so the two can never disagree.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.case_numbers import looks_like_case_no_prefix
from bot.rules.deadlines import local_date
from bot.rules.numbers import GROUP_MIN  # 集体访: five or more people (reporting.GROUP_MIN for the console)
from bot.rules.workflow import OPEN_STATUSES
from bot.store import assessment
from bot.store.crypto import Crypto
from bot.rules.statuses import CASE_STATUS_LABELS, CLOSED
from bot.store.models import Case, CaseEvent
from bot.store.due import next_due_column
from bot.store.repeats import is_repeat_condition

UNKNOWN_PLACE = "未明确"
PER_PAGE = 50
ID_RE = re.compile(r"^\d{17}[\dXx]$")

CHANNEL_LABELS = {
    "web": "网上信访（网页）",
    "wechat": "网上信访（微信公众号）",
    "rest": "网上信访（接口）",
    "letter": "来信",
    "visit": "来访",
    "phone": "来电",
    "fax": "传真",
}


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


day_start = assessment.day_start  # 00:00 of a date in Asia/Shanghai, as a UTC datetime


# --- case list --------------------------------------------------------------------------------


@dataclass
class CaseFilter:
    status: str = ""
    category: str = ""
    unit: str = ""
    place: str = ""
    repeat: str = ""  # "first" or "repeat"
    group: str = ""  # "group" (5 or more people) or "single"
    due: str = ""  # "overdue", "due_soon" or "open"
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    page: int = 1
    sort: str = "due"  # "due" (most urgent first) or "new"

    @classmethod
    def from_query(cls, query: Any) -> "CaseFilter":
        def text(key: str, limit: int = 100) -> str:
            return (query.get(key) or "").strip()[:limit]

        def day(key: str) -> date | None:
            try:
                return date.fromisoformat(text(key, 10)) if text(key, 10) else None
            except ValueError:
                return None

        try:
            page = max(1, min(int(text("page", 6) or 1), 100000))
        except ValueError:
            page = 1
        return cls(
            status=text("status"), category=text("category"), unit=text("unit", 128),
            place=text("place"), repeat=text("repeat"), group=text("group"), due=text("due"),
            date_from=day("from"), date_to=day("to"), q=text("q", 200), page=page,
            sort="new" if text("sort") == "new" else "due",
        )

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The filter as URL query arguments (for pagination links and CSV)."""
        values = {
            "status": self.status, "category": self.category, "unit": self.unit,
            "place": self.place, "repeat": self.repeat, "group": self.group, "due": self.due,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "", "q": self.q,
            "sort": self.sort if self.sort != "due" else "", "page": str(self.page),
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query_kind(q: str) -> str:
    """What a search box entry looks like: "case_no", "id_number" or "text"."""
    compact = re.sub(r"[\s\-]", "", q.strip())
    if looks_like_case_no_prefix(compact):
        return "case_no"
    if ID_RE.match(compact):
        return "id_number"
    return "text"


def filter_conditions(f: CaseFilter, *, today: date, due_soon_days: int, crypto: Crypto) -> list:
    conditions: list[Any] = []
    if f.status:
        conditions.append(Case.status == f.status)
    if f.category:
        conditions.append(Case.category == f.category)
    if f.unit:
        conditions.append(Case.responsible_unit == f.unit)
    if f.place:
        if f.place == UNKNOWN_PLACE:
            conditions.append(Case.location_division.is_(None))
        else:
            conditions.append(Case.location_division == f.place)
    if f.repeat == "first":
        conditions.append(~is_repeat_condition())
    elif f.repeat == "repeat":
        conditions.append(is_repeat_condition())
    if f.group == "group":
        conditions.append(Case.group_size >= GROUP_MIN)
    elif f.group == "single":
        conditions.append(Case.group_size < GROUP_MIN)
    due = next_due_column()
    if f.due == "overdue":
        conditions.append(due < today)
    elif f.due == "due_soon":
        conditions.append(due.between(today, today + timedelta(days=due_soon_days)))
    elif f.due == "open":
        conditions.append(Case.status.in_(OPEN_STATUSES))
    if f.date_from:
        conditions.append(Case.created_at >= day_start(f.date_from))
    if f.date_to:
        conditions.append(Case.created_at < day_start(f.date_to + timedelta(days=1)))
    q = f.q.strip()
    if q:
        compact = re.sub(r"[\s\-]", "", q)
        kind = query_kind(q)
        if kind == "case_no":
            conditions.append(Case.case_no.like(f"{_escape_like(compact.upper())}%", escape="\\"))
        elif kind == "id_number":
            conditions.append(Case.id_number_hmac == crypto.index(compact.upper()))
        else:
            like = f"%{_escape_like(q)}%"
            conditions.append(
                or_(*(column.like(like, escape="\\") for column in (
                    Case.petitioner_name, Case.conversation_id, Case.facts, Case.request,
                    Case.respondent, Case.location_text, Case.responsible_unit,
                )))
            )
    return conditions


async def search_cases(
    session: AsyncSession, f: CaseFilter, *, today: date, due_soon_days: int, crypto: Crypto,
    per_page: int = PER_PAGE, scope: Sequence[Any] = (),
) -> tuple[list[Case], int]:
    """``scope``: the caller's visibility conditions (bot/store/visibility.case_scope)."""
    conditions = [*filter_conditions(f, today=today, due_soon_days=due_soon_days, crypto=crypto), *scope]
    total = int(await session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0)
    due = next_due_column()
    if f.sort == "new":
        order = (Case.created_at.desc(), Case.id.desc())
    else:  # most urgent first; cases owing nothing last, newest first among them
        order = (due.is_(None), due.asc(), Case.created_at.desc(), Case.id.desc())
    rows = await session.scalars(
        select(Case).where(*conditions).order_by(*order)
        .offset((f.page - 1) * per_page).limit(per_page)
    )
    return list(rows), total


async def filter_options(session: AsyncSession, scope: Sequence[Any] = ()) -> dict[str, list[str]]:
    """Values seen in the store (among the cases in ``scope``), for the list's select boxes."""

    async def distinct(column) -> list[str]:
        rows = await session.scalars(select(column).where(column.is_not(None), *scope).distinct())
        return sorted(str(r) for r in rows)

    places = await distinct(Case.location_division)
    return {
        "category": await distinct(Case.category),
        "unit": await distinct(Case.responsible_unit),
        "place": places + [UNKNOWN_PLACE],
    }


async def attention_counts(
    session: AsyncSession, *, today: date, due_soon_days: int, scope: Sequence[Any] = ()
) -> dict[str, int]:
    due = next_due_column()

    async def count(*conditions) -> int:
        return int(await session.scalar(
            select(func.count()).select_from(Case).where(*conditions, *scope)) or 0)

    return {
        "overdue": await count(due < today),
        "due_soon": await count(due.between(today, today + timedelta(days=due_soon_days))),
        "registered": await count(Case.status == "registered"),
        "unread": await count(Case.first_read_at.is_(None)),
        "open": await count(Case.status.in_(OPEN_STATUSES)),
    }


# --- statistics -------------------------------------------------------------------------------


@dataclass
class Table:
    """One table of the statistics page (and its CSV)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    # how the page draws it: "bar", "hbar", "pie", "line", "rates", "assessment", "none"
    chart: str = "bar"
    note: str = ""


@dataclass
class Report:
    start: date
    end: date
    as_of: date
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, table: Table) -> None:
        self.tables[table.key] = table


def _pct(numerator: int, denominator: int) -> str:
    return f"{100.0 * numerator / denominator:.1f}%" if denominator else "—"


def status_on(status: str, day: date) -> Any:
    """Condition: the case's status at the end of ``day`` (local) was ``status``, read from its
    history (``case_events``: the last status change up to that day), so a case closed in the
    month and reopened for 复查 later still counts as 办结 in that month's figures."""
    latest = (
        select(CaseEvent.case_id, func.max(CaseEvent.id).label("event_id"))
        .where(CaseEvent.at < day_start(day + timedelta(days=1)), CaseEvent.to_status.is_not(None))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    return Case.id.in_(
        select(latest.c.case_id).join(CaseEvent, CaseEvent.id == latest.c.event_id).where(CaseEvent.to_status == status)
    )


async def period_report(
    session: AsyncSession, start: date, end: date, *, today: date, due_soon_days: int,
    scope: Sequence[Any] = (),
) -> Report:
    """Statistics of the cases registered from ``start`` to ``end`` (inclusive, local dates),
    among the cases in ``scope`` (the caller's visibility conditions)."""
    period = (Case.created_at >= day_start(start), Case.created_at < day_start(end + timedelta(days=1)),
              *scope)
    report = Report(start, end, today)

    async def count(*conditions) -> int:
        return int(
            await session.scalar(select(func.count()).select_from(Case).where(*period, *conditions)) or 0
        )

    async def by(column, label=lambda v: v, *conditions) -> list[list[Any]]:
        rows = await session.execute(
            select(column, func.count()).where(*period, *conditions).group_by(column)
            .order_by(func.count().desc(), column)
        )
        return [[label(key), int(n)] for key, n in rows]

    due = next_due_column()
    total = await count()
    repeat = await count(is_repeat_condition())
    group = await count(Case.group_size >= GROUP_MIN)
    litigation = await count(Case.litigation.is_(True))
    overdue = await count(due < today)
    due_soon = await count(due.between(today, today + timedelta(days=due_soon_days)))
    # As of ``today`` (the report day of a past month), not as the cases stand now.
    not_accepted = await count(Case.not_accepted_at < day_start(today + timedelta(days=1)))
    closed = await count(status_on(CLOSED, today))
    read = await count(Case.first_read_at.is_not(None))
    assigned_or_referred = await count(
        or_(Case.assigned_at.is_not(None), Case.not_accepted_at.is_not(None))
    )
    answered = await count(or_(Case.replied_at.is_not(None), Case.not_accepted_at.is_not(None)))

    report.add(Table("summary", "信访总量", ["项目", "件数"], [
        ["信访总量", total], ["初信初访", total - repeat], ["重复信访", repeat],
        [f"集体访（{GROUP_MIN}人以上）", group], ["涉法涉诉", litigation],
        ["当前超期", overdue], [f"{due_soon_days}日内到期", due_soon],
        ["不予受理", not_accepted], ["已办结", closed],
    ], chart="none"))
    report.add(Table("first_repeat", "初信初访与重复信访", ["类别", "件数"],
                     [["初信初访", total - repeat], ["重复信访", repeat]], chart="pie"))
    report.add(Table("channel", "按信访渠道", ["渠道", "件数"], await by(Case.channel, channel_label)))
    report.add(Table("category", "按内容分类", ["内容分类", "件数"], await by(Case.category), chart="hbar"))
    report.add(Table("unit", "按责任单位", ["责任单位", "件数"], await by(Case.responsible_unit), chart="hbar"))
    place = func.coalesce(Case.location_division, UNKNOWN_PLACE)
    report.add(Table("place", "按问题属地", ["问题属地", "件数"], await by(place)))
    report.add(Table("status", "按办理状态", ["办理状态", "件数"],
                     await by(Case.status, lambda s: CASE_STATUS_LABELS.get(s, s)), chart="pie"))
    report.add(Table("overdue", "超期信访件（按责任单位）", ["责任单位", "超期件数"],
                     await by(Case.responsible_unit, lambda v: v, due < today), chart="hbar",
                     note=f"截至{today.isoformat()}仍未在法定期限内完成下一步的信访件。"))
    report.add(Table(
        "rates", "“四个百分之百”", ["指标", "完成件数", "应完成件数", "比率"],
        [
            ["登记率", total, total, _pct(total, total)],
            ["阅办率", read, total, _pct(read, total)],
            ["交办率", assigned_or_referred, total, _pct(assigned_or_referred, total)],
            ["回告率", answered, total, _pct(answered, total)],
        ],
        chart="rates",
        note="登记：收到即录入系统；阅办：工作人员已阅；交办：已交办责任单位或已告知应走的渠道；"
             "回告：已书面答复或已告知不予受理。分母为本期收到的全部信访件。",
    ))
    assessed = await assessment.assess(session, start, end, as_of=today, scope=scope)
    report.add(Table(
        "assessment", "责任单位考核指标", assessment.assessment_columns(),
        assessment.assessment_rows(assessed), chart="assessment",
        note=assessment.assessment_note(today),
    ))
    created = await session.scalars(select(Case.created_at).where(*period))
    per_day = Counter(local_date(at) for at in created)
    days = []
    day = start
    while day <= end and len(days) < 400:
        days.append([day.isoformat(), per_day.get(day, 0)])
        day += timedelta(days=1)
    report.add(Table("daily", "每日登记量", ["日期", "件数"], days, chart="line"))
    return report


def report_json(report: Report) -> dict[str, Any]:
    """The report as the page's chart script reads it."""
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "as_of": report.as_of.isoformat(),
        "tables": {
            key: {"title": t.title, "columns": t.columns, "rows": t.rows, "chart": t.chart}
            for key, t in report.tables.items()
        },
    }


# --- the period of a report -----------------------------------------------------------------

MAX_PERIOD_DAYS = 366 * 3
BAD_DATE = "日期格式不正确，应为 年-月-日。"


@dataclass(frozen=True)
class Period:
    """The period a report covers, and what was corrected in the request (Chinese, for staff)."""

    start: date
    end: date
    problem: str | None = None
    malformed: bool = False  # a date could not be read (the API answers 400)


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """The period asked for as ``YYYY-MM-DD`` strings; default this month up to today. Swapped
    dates are put in order and a period longer than three years is cut from its end."""
    problem = None
    malformed = False

    def parse(raw: str | None) -> date | None:
        nonlocal problem, malformed
        raw = (raw or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problem, malformed = BAD_DATE, True
            return None

    start = parse(raw_from) or today.replace(day=1)
    end = parse(raw_to) or today
    if end < start:
        start, end = end, start
        problem = problem or "开始日期晚于结束日期，已自动交换。"
    if (end - start).days > MAX_PERIOD_DAYS:
        start = end - timedelta(days=MAX_PERIOD_DAYS)
        problem = problem or "统计期间最长3年，已按结束日期截取。"
    return Period(start, end, problem, malformed)


# --- CSV ------------------------------------------------------------------------------------

# Cells starting with these would be formulas in a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    """One statistics table as CSV (header row first, CRLF line ends, formulas defused)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()

"""Time limits of the 信访工作条例 (2022), DOMAIN.md §5.

Limits are calendar days, counted from the day after the event (the start day is not
counted: received 2026-11-22 + 15 days -> 2026-12-07), except the 5 working days of
第23条, which follow the official holiday calendar including 调休 make-up working days.

The agency's own limits are not extended for holidays. The citizen's 30-day windows to
request 复查/复核 (第35条、第36条) run from the day the written reply / 复查 opinion was
received, and a window that ends on a day off runs to the next working day (by analogy with
民法典 第201、203条).

An online petition reaches the 信访部门 first: it registers and forwards or assigns the matter
within 15 days (第22条); the responsible body then notifies the citizen in writing of the
receipt and of how the matter will be handled within 15 days of its own receipt (第23条): up to
about 30 days in all. Handling within 60 days (+ at most 30) applies to 第31条(六) matters only;
a matter that belongs to litigation, arbitration, 行政复议 etc. follows that procedure's limits.

Working days need the year's official holidays: ``chinese_calendar`` knows the years up to its
release, ``bot/config/holidays.yml`` adds the State Council's notice of later years.
``calendar_gaps`` tells which days of the coming 90 days are not covered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

TZ = ZoneInfo("Asia/Shanghai")
HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "config" / "holidays.yml"

FORWARDING_DAYS = 15  # 第22条: the 信访部门 registers and forwards or assigns
RECEIPT_NOTICE_DAYS = 15  # 第23条: the body with the matter notifies receipt and handling route
OBJECTION_WORKING_DAYS = 5  # 第23条 (a forwarded matter outside the receiver's remit)
HANDLING_DAYS = 60  # 第34条
EXTENSION_MAX_DAYS = 30  # 第34条
REVIEW_REQUEST_DAYS = 30  # 第35条 (复查), 第36条 (复核)
REVIEW_OPINION_DAYS = 30  # 第35条, 第36条
COVERAGE_HORIZON_DAYS = 90  # the holiday calendar must know this far ahead

# How the handling of a matter is timed: 第34条 (60 days, 第31条(六) matters) or the limits of
# the procedure it belongs to (litigation, arbitration, 行政复议, 查处 …, 第31条(一)-(五)).
ARTICLE_34 = "article_34"
OWN_PROCEDURE = "own_procedure"

log = logging.getLogger(__name__)


def local_date(dt: datetime) -> date:
    """The calendar date of ``dt`` in Asia/Shanghai (a naive datetime is taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(TZ).date()


def today_local() -> date:
    """Today in Asia/Shanghai."""
    return local_date(datetime.now(timezone.utc))


def acceptance_notice_due(received: date) -> date:
    """15 days after receipt: register and forward or assign (第22条); a body receiving the
    matter directly gives its written notice of receipt and handling route in the same 15 days
    (第23条)."""
    return forwarding_due(received)


def forwarding_due(received: date) -> date:
    """15 days after the 信访部门 received the matter: registered and forwarded or assigned
    (第22条)."""
    return received + timedelta(days=FORWARDING_DAYS)


def receipt_notice_due(body_received: date) -> date:
    """15 days after the responsible body received the matter: written notice of receipt and
    how it will be handled (第23条)."""
    return body_received + timedelta(days=RECEIPT_NOTICE_DAYS)


def receipt_notice_due_latest(received: date) -> date:
    """The latest day an online petitioner waits for the responsible body's notice: the
    信访部门's 15 days (第22条) + the body's 15 days (第23条)."""
    return receipt_notice_due(forwarding_due(received))


def handling_due(accepted: date, extension_days: int = 0) -> date:
    """60 days after acceptance (第34条), plus an approved extension of at most 30 days."""
    if isinstance(extension_days, bool) or not 0 <= extension_days <= EXTENSION_MAX_DAYS:
        raise ValueError(f"extension_days must be 0..{EXTENSION_MAX_DAYS}, got {extension_days!r}")
    return accepted + timedelta(days=HANDLING_DAYS + extension_days)


def objection_due(received: date) -> date:
    """5 working days after receipt to object to a forwarded matter outside the remit (第23条)."""
    return add_working_days(received, OBJECTION_WORKING_DAYS)


def review_request_due(delivered_on: date) -> date:
    """The last day to request 复查: 30 days after the citizen received the written reply
    (第35条); the same for 复核 after receiving the 复查 opinion (第36条). A window ending on a
    day off runs to the next working day."""
    return next_working_day(delivered_on + timedelta(days=REVIEW_REQUEST_DAYS))


def review_opinion_due(request_received: date) -> date:
    """30 days after a 复查/复核 request for the written opinion (第35条、第36条; hearing time
    for 复核 is not counted)."""
    return request_received + timedelta(days=REVIEW_OPINION_DAYS)


@dataclass
class WorkingCalendar:
    """Working days: configured years, then the chinese_calendar package, then Mon-Fri."""

    holidays: dict[int, frozenset[date]] = field(default_factory=dict)
    workdays: dict[int, frozenset[date]] = field(default_factory=dict)
    warned_years: set[int] = field(default_factory=set)

    @classmethod
    def from_file(cls, path: str | Path) -> WorkingCalendar:
        """A calendar with the years listed in a holidays.yml file."""
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        calendar = cls()
        for year, entry in (data.get("years") or {}).items():
            entry = entry or {}
            holidays = _dates(entry.get("holidays"), int(year), path)
            if not holidays:
                # Every year has weekday holidays (Spring Festival, National Day): an empty
                # list is a placeholder, not the State Council's notice.
                raise ValueError(f"{path}: year {year} lists no holidays; copy them from the notice")
            calendar.holidays[int(year)] = holidays
            calendar.workdays[int(year)] = _dates(entry.get("workdays"), int(year), path)
        return calendar

    def covers(self, year: int) -> bool:
        """Whether the official holidays of ``year`` are known (holidays.yml or the package)."""
        if year in self.holidays or year in self.workdays:
            return True
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is an official working day."""
        if d.year in self.holidays or d.year in self.workdays:
            if d in self.workdays.get(d.year, ()):
                return True
            return d.weekday() < 5 and d not in self.holidays.get(d.year, ())
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:
            self._warn_once(d.year)
            return d.weekday() < 5

    def _warn_once(self, year: int) -> None:
        if year not in self.warned_years:
            self.warned_years.add(year)
            log.warning(
                "no official holiday calendar for %s: counting Monday-Friday as working days; "
                "add the year to %s",
                year,
                HOLIDAYS_FILE.name,
            )


def _dates(items: Any, year: int, path: str | Path) -> frozenset[date]:
    result = set()
    for item in items or ():
        day = item if isinstance(item, date) else date.fromisoformat(str(item))
        if day.year != year:
            raise ValueError(f"{path}: {day} is listed under year {year}")
        result.add(day)
    return frozenset(result)


@lru_cache(maxsize=4)
def _calendar_for(path: str) -> WorkingCalendar:
    return WorkingCalendar.from_file(path) if Path(path).exists() else WorkingCalendar()


# The holidays file of this process: each process's entry point calls use_holidays_file()
# once at start with the HOLIDAYS_FILE of its settings (bot.settings).
_holidays_file: Path = HOLIDAYS_FILE


def use_holidays_file(path: str | Path | None) -> Path:
    """Make ``path`` (None: ``HOLIDAYS_FILE``) the holidays file of this process; returns the
    file used until now."""
    global _holidays_file
    previous, _holidays_file = _holidays_file, Path(path) if path else HOLIDAYS_FILE
    return previous


def holidays_file() -> Path:
    """The holidays file of this process (see ``use_holidays_file``)."""
    return _holidays_file


def working_calendar() -> WorkingCalendar:
    """The calendar in use: the holidays file of this process, else bot/config/holidays.yml."""
    return _calendar_for(str(_holidays_file.resolve()))


def is_working_day(d: date) -> bool:
    """Whether ``d`` is an official working day (see WorkingCalendar)."""
    return working_calendar().is_working_day(d)


def next_working_day(d: date) -> date:
    """``d`` when it is a working day, else the first working day after it."""
    calendar = working_calendar()
    while not calendar.is_working_day(d):
        d += timedelta(days=1)
    return d


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself is not counted)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    calendar = working_calendar()
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def case_deadlines(
    created_at: datetime,
    accepted_at: datetime | None = None,
    extension_days: int = 0,
    *,
    own_procedure: bool = False,
    referred_to: str | None = None,
    reply_delivered_on: date | None = None,
    review_opinion_delivered_on: date | None = None,
) -> dict[str, Any]:
    """Deadlines of a case, dates in Asia/Shanghai.

    ``forwarding_due`` (= ``acceptance_notice_due``, the name kept for the API's users): the
    信访部门 registers and forwards or assigns (第22条). ``receipt_notice_due_latest``: the
    latest day of the responsible body's written notice (第23条), 15 + 15 days.

    ``handling_procedure`` is ``own_procedure`` for a matter flagged as litigation-related or
    referred to another procedure: no 60-day limit is stated, ``handling_due`` and
    ``handling_due_projected`` are None and ``handling_channel`` (the API's name, kept for its
    users) names the body or procedure the matter is referred to. Otherwise ``handling_due``
    is None before acceptance and ``handling_due_projected`` is the notice date
    + 60 days (after acceptance it equals ``handling_due``).

    ``review_request_due`` / ``recheck_request_due`` are None until the written reply / the
    复查 opinion has been delivered.
    """
    received = local_date(created_at)
    notice = acceptance_notice_due(received)
    own = own_procedure or bool(referred_to)
    handling = None
    if accepted_at is not None and not own:
        handling = handling_due(local_date(accepted_at), extension_days)
    return {
        "acceptance_notice_due": notice,
        "forwarding_due": forwarding_due(received),
        "receipt_notice_due_latest": receipt_notice_due_latest(received),
        "handling_procedure": OWN_PROCEDURE if own else ARTICLE_34,
        "handling_channel": referred_to or None,
        "handling_days": None if own else HANDLING_DAYS,
        "handling_due": handling,
        "handling_due_projected": None if own else handling or notice + timedelta(days=HANDLING_DAYS),
        "extension_max_days": None if own else EXTENSION_MAX_DAYS,
        "review_request_days": REVIEW_REQUEST_DAYS,
        "reply_delivered_on": reply_delivered_on,
        "review_request_due": review_request_due(reply_delivered_on) if reply_delivered_on else None,
        "review_opinion_delivered_on": review_opinion_delivered_on,
        "recheck_request_due": (
            review_request_due(review_opinion_delivered_on) if review_opinion_delivered_on else None
        ),
    }


# --- coverage of the holiday calendar --------------------------------------------------------


@dataclass(frozen=True)
class CalendarGap:
    """Days of the coming horizon in a year whose official holidays are not known."""

    year: int
    first: date
    last: date


def calendar_gaps(
    today: date | None = None,
    days: int = COVERAGE_HORIZON_DAYS,
    calendar: WorkingCalendar | None = None,
) -> list[CalendarGap]:
    """The years (with their days from ``today`` to ``today + days``) the calendar does not
    cover; empty when every working day of that horizon can be counted officially."""
    today = today or today_local()
    calendar = calendar or working_calendar()
    end = today + timedelta(days=days)
    gaps = []
    for year in range(today.year, end.year + 1):
        if not calendar.covers(year):
            gaps.append(CalendarGap(year, max(today, date(year, 1, 1)), min(end, date(year, 12, 31))))
    return gaps


def coverage_warning(gaps: list[CalendarGap]) -> str | None:
    """The operator's warning (English, for logs) about ``gaps``; None when there are none."""
    if not gaps:
        return None
    spans = ", ".join(f"{g.year} ({g.first.isoformat()}..{g.last.isoformat()})" for g in gaps)
    source = str(_holidays_file)
    return (
        f"HOLIDAY CALENDAR INCOMPLETE: no official holidays known for {spans} within the next "
        f"{COVERAGE_HORIZON_DAYS} days; working days there are counted Monday-Friday, so the 5 "
        "working days of article 23 and review windows ending on a holiday may be wrong. Add the "
        f"State Council's holiday notice of that year to {source} (see README, 'Working days and holidays')."
    )


def log_calendar_coverage(logger: logging.Logger, today: date | None = None) -> list[CalendarGap]:
    """Warn on ``logger`` when the calendar does not cover the coming 90 days; returns the gaps."""
    gaps = calendar_gaps(today)
    message = coverage_warning(gaps)
    if message:
        logger.warning("%s", message)
    return gaps

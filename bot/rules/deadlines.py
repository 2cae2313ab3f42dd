"""Time limits of the 信访工作条例 (2022).

Limits are calendar days, counted from the day after the event (the start day is not
counted: received 2026-11-22 + 15 days -> 2026-12-07), except the 5 working days of
第23条, which follow the official holiday calendar including 调休 make-up working days.
No holiday extension is applied to calendar-day limits.
"""

from __future__ import annotations

import logging
import os
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
HOLIDAYS_ENV_VAR = "HOLIDAYS_FILE"

ACCEPTANCE_NOTICE_DAYS = 15  # 第22条 (register and forward/assign), 第23条 (notice of receipt)
OBJECTION_WORKING_DAYS = 5  # 第23条 (a forwarded matter outside the receiver's remit)
HANDLING_DAYS = 60  # 第34条
EXTENSION_MAX_DAYS = 30  # 第34条
REVIEW_REQUEST_DAYS = 30  # 第35条 (复查), 第36条 (复核)
REVIEW_OPINION_DAYS = 30  # 第35条, 第36条

log = logging.getLogger(__name__)


def local_date(dt: datetime) -> date:
    """The calendar date of ``dt`` in Asia/Shanghai (a naive datetime is taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(TZ).date()


def acceptance_notice_due(received: date) -> date:
    """15 days after receipt: register and forward or assign (第22条); written notice of
    receipt and how it will be handled (第23条)."""
    return received + timedelta(days=ACCEPTANCE_NOTICE_DAYS)


def handling_due(accepted: date, extension_days: int = 0) -> date:
    """60 days after acceptance (第34条), plus an approved extension of at most 30 days."""
    if isinstance(extension_days, bool) or not 0 <= extension_days <= EXTENSION_MAX_DAYS:
        raise ValueError(f"extension_days must be 0..{EXTENSION_MAX_DAYS}, got {extension_days!r}")
    return accepted + timedelta(days=HANDLING_DAYS + extension_days)


def objection_due(received: date) -> date:
    """5 working days after receipt to object to a forwarded matter outside the remit (第23条)."""
    return add_working_days(received, OBJECTION_WORKING_DAYS)


def review_request_due(reply_received: date) -> date:
    """30 days after the written reply to request 复查 (第35条); the same limit applies to a
    复核 request after the 复查 opinion (第36条)."""
    return reply_received + timedelta(days=REVIEW_REQUEST_DAYS)


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
            calendar.holidays[int(year)] = _dates(entry.get("holidays"), int(year), path)
            calendar.workdays[int(year)] = _dates(entry.get("workdays"), int(year), path)
        return calendar

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


def working_calendar() -> WorkingCalendar:
    """The calendar in use: HOLIDAYS_FILE from the environment, else bot/config/holidays.yml."""
    return _calendar_for(str(Path(os.environ.get(HOLIDAYS_ENV_VAR) or HOLIDAYS_FILE).resolve()))


def is_working_day(d: date) -> bool:
    """Whether ``d`` is an official working day (see WorkingCalendar)."""
    return working_calendar().is_working_day(d)


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
    created_at: datetime, accepted_at: datetime | None = None, extension_days: int = 0
) -> dict[str, Any]:
    """Deadlines of a case, dates in Asia/Shanghai.

    ``handling_due`` is None before acceptance; ``handling_due_projected`` is then the
    acceptance notice date + 60 days (after acceptance it equals ``handling_due``).
    """
    notice = acceptance_notice_due(local_date(created_at))
    handling = handling_due(local_date(accepted_at), extension_days) if accepted_at else None
    return {
        "acceptance_notice_due": notice,
        "handling_due": handling,
        "handling_due_projected": handling or notice + timedelta(days=HANDLING_DAYS),
        "extension_max_days": EXTENSION_MAX_DAYS,
        "review_request_days": REVIEW_REQUEST_DAYS,
    }

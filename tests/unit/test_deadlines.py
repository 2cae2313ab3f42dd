from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from bot.rules import deadlines
from bot.rules.deadlines import (
    TZ,
    WorkingCalendar,
    acceptance_notice_due,
    add_working_days,
    case_deadlines,
    handling_due,
    is_working_day,
    local_date,
    objection_due,
    review_opinion_due,
    review_request_due,
)


@pytest.fixture
def fresh_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOLIDAYS_FILE at a new (empty) file so that the calendar and its warnings are fresh."""
    path = tmp_path / "holidays.yml"
    path.write_text("years: {}\n", encoding="utf-8")
    monkeypatch.setenv("HOLIDAYS_FILE", str(path))
    return path


def test_timezone() -> None:
    assert str(TZ) == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 21, 15, 59, tzinfo=timezone.utc), date(2026, 11, 21)),
        (datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc), date(2026, 11, 22)),  # midnight in Beijing
        (datetime(2026, 11, 22, 0, 30, tzinfo=TZ), date(2026, 11, 22)),
        (datetime(2026, 11, 21, 16, 0), date(2026, 11, 22)),  # naive is UTC
    ],
)
def test_local_date(moment: datetime, expected: date) -> None:
    assert local_date(moment) == expected


def test_calendar_day_limits_do_not_count_the_start_day() -> None:
    assert acceptance_notice_due(date(2026, 11, 22)) == date(2026, 12, 7)
    assert handling_due(date(2026, 11, 22)) == date(2027, 1, 21)
    assert handling_due(date(2026, 11, 22), extension_days=30) == date(2027, 2, 20)
    assert handling_due(date(2026, 11, 22), extension_days=1) == date(2027, 1, 22)
    assert review_request_due(date(2026, 11, 22)) == date(2026, 12, 22)
    assert review_opinion_due(date(2026, 12, 22)) == date(2027, 1, 21)


def test_calendar_day_limits_ignore_holidays() -> None:
    # received on the eve of National Day 2026: 15 calendar days, no holiday extension
    assert acceptance_notice_due(date(2026, 9, 30)) == date(2026, 10, 15)
    assert review_request_due(date(2026, 9, 30)) == date(2026, 10, 30)


@pytest.mark.parametrize("extension", [-1, 31, 60, True])
def test_extension_out_of_range(extension: int) -> None:
    with pytest.raises(ValueError, match=r"0\.\.30"):
        handling_due(date(2026, 11, 22), extension_days=extension)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 30), True),  # Wednesday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 5), False),  # Monday inside the holiday
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday make-up working day (调休)
        (date(2026, 10, 11), False),  # Sunday
        (date(2026, 9, 20), True),  # Sunday make-up working day
        (date(2026, 9, 25), False),  # Mid-Autumn Festival (Friday)
        (date(2026, 2, 14), True),  # Saturday make-up day before Spring Festival
        (date(2026, 2, 17), False),  # Spring Festival
    ],
)
def test_is_working_day_2026_official_calendar(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_objection_due_across_national_day_2026() -> None:
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (调休), 10-12 Mon, 10-13 Tue
    assert objection_due(date(2026, 9, 30)) == date(2026, 10, 13)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 20), 0, date(2026, 11, 20)),
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday -> Monday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # Thursday -> Mid-Autumn and weekend skipped
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Friday -> Sunday make-up day
    ],
)
def test_add_working_days(start: date, n: int, expected: date, fresh_calendar: Path) -> None:
    assert add_working_days(start, n) == expected


def test_add_working_days_rejects_negative() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


def test_year_without_data_falls_back_to_monday_friday_and_warns_once(
    fresh_calendar: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.rules.deadlines")
    # 2099-01-01 is a Thursday: Fri 2, Mon 5, Tue 6
    assert add_working_days(date(2099, 1, 1), 3) == date(2099, 1, 6)
    assert add_working_days(date(2099, 1, 1), 3) == date(2099, 1, 6)
    assert is_working_day(date(2099, 1, 3)) is False  # Saturday
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "holidays.yml" in warnings[0].getMessage()


def test_each_unknown_year_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkingCalendar()
    caplog.set_level(logging.WARNING, logger="bot.rules.deadlines")
    days = (date(2098, 3, 2), date(2098, 3, 3), date(2098, 3, 4), date(2097, 3, 4))  # Sun Mon Tue Mon
    assert [calendar.is_working_day(day) for day in days] == [False, True, True, True]
    assert calendar.warned_years == {2097, 2098}
    assert len(caplog.records) == 2


def test_configured_year_replaces_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text(
        "years:\n"
        "  2099:\n"
        "    holidays: [2099-01-01, 2099-01-02]\n"
        "    workdays: ['2099-01-03']\n",
        encoding="utf-8",
    )
    calendar = WorkingCalendar.from_file(path)
    assert calendar.is_working_day(date(2099, 1, 1)) is False  # Thursday, holiday
    assert calendar.is_working_day(date(2099, 1, 3)) is True  # Saturday, make-up day
    assert calendar.is_working_day(date(2099, 1, 4)) is False  # Sunday
    assert calendar.is_working_day(date(2099, 1, 5)) is True
    assert calendar.warned_years == set()

    monkeypatch.setenv("HOLIDAYS_FILE", str(path))
    # Wed 2098-12-31 -> Sat 2099-01-03 (make-up), Mon 01-05, Tue 01-06
    assert add_working_days(date(2098, 12, 31), 3) == date(2099, 1, 6)


def test_configured_date_in_the_wrong_year_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text("years:\n  2099:\n    holidays: [2098-12-31]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2098-12-31 is listed under year 2099"):
        WorkingCalendar.from_file(path)


def test_shipped_holidays_file_is_an_empty_structure() -> None:
    assert deadlines.HOLIDAYS_FILE.exists()
    calendar = WorkingCalendar.from_file(deadlines.HOLIDAYS_FILE)
    assert calendar.holidays == {} and calendar.workdays == {}


def test_case_deadlines_before_acceptance() -> None:
    created = datetime(2026, 11, 21, 17, 0, tzinfo=timezone.utc)  # 2026-11-22 01:00 in Beijing
    assert case_deadlines(created) == {
        "acceptance_notice_due": date(2026, 12, 7),
        "handling_due": None,
        "handling_due_projected": date(2027, 2, 5),
        "extension_max_days": 30,
        "review_request_days": 30,
    }


def test_case_deadlines_after_acceptance_with_extension() -> None:
    created = datetime(2026, 11, 22, 9, 0, tzinfo=TZ)
    accepted = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    result = case_deadlines(created, accepted, extension_days=10)
    assert result == {
        "acceptance_notice_due": date(2026, 12, 7),
        "handling_due": date(2027, 2, 8),
        "handling_due_projected": date(2027, 2, 8),
        "extension_max_days": 30,
        "review_request_days": 30,
    }
    with pytest.raises(ValueError):
        case_deadlines(created, accepted, extension_days=31)

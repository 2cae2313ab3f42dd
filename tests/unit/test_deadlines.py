from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from bot.rules import deadlines
from bot.rules.deadlines import (
    TZ,
    CalendarGap,
    WorkingCalendar,
    acceptance_notice_due,
    add_working_days,
    calendar_gaps,
    case_deadlines,
    coverage_warning,
    forwarding_due,
    handling_due,
    is_working_day,
    local_date,
    log_calendar_coverage,
    next_working_day,
    objection_due,
    receipt_notice_due,
    receipt_notice_due_latest,
    review_opinion_due,
    review_request_due,
)

# Test data only: the shape of a year in holidays.yml, with 1 January as a day off (fixed by
# the 全国年节及纪念日放假办法). The repository never lists a year's holidays before the State
# Council's notice is published.
YEAR_2027 = "years:\n  2027:\n    holidays: [2027-01-01]\n"


@pytest.fixture
def fresh_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Use a new (empty) holidays file so that the calendar and its warnings are fresh."""
    path = tmp_path / "holidays.yml"
    path.write_text("years: {}\n", encoding="utf-8")
    deadlines.use_holidays_file(path)
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


def test_the_agency_limits_ignore_holidays() -> None:
    # received on the eve of National Day 2026: 15 calendar days, no holiday extension
    assert acceptance_notice_due(date(2026, 9, 16)) == date(2026, 10, 1)
    assert forwarding_due(date(2026, 9, 16)) == date(2026, 10, 1)
    assert review_opinion_due(date(2026, 9, 1)) == date(2026, 10, 1)
    assert handling_due(date(2026, 8, 2)) == date(2026, 10, 1)


def test_an_online_petition_waits_up_to_15_plus_15_days_for_the_notice() -> None:
    # 第二十二条: the 信访部门 forwards within 15 days; 第二十三条: the body notifies within 15
    # days of its own receipt
    assert forwarding_due(date(2026, 11, 22)) == date(2026, 12, 7)
    assert receipt_notice_due(date(2026, 12, 7)) == date(2026, 12, 22)
    assert receipt_notice_due_latest(date(2026, 11, 22)) == date(2026, 12, 22)


@pytest.mark.parametrize(
    ("delivered", "due"),
    [
        (date(2026, 11, 9), date(2026, 12, 9)),  # Wednesday: 30 days
        (date(2026, 10, 29), date(2026, 11, 30)),  # Saturday 28th -> Monday
        (date(2026, 9, 5), date(2026, 10, 8)),  # National Day 5th-7th -> Thursday 8th
        (date(2026, 3, 7), date(2026, 4, 7)),  # 清明 Monday 6 April -> Tuesday
        (date(2026, 9, 10), date(2026, 10, 10)),  # Saturday 10 October is a make-up working day
        (date(2026, 1, 16), date(2026, 2, 24)),  # Spring Festival 15th-23rd -> Tuesday 24th
    ],
)
def test_review_window_runs_from_delivery_to_the_next_working_day(delivered: date, due: date) -> None:
    assert review_request_due(delivered) == due


def test_next_working_day() -> None:
    assert next_working_day(date(2026, 11, 30)) == date(2026, 11, 30)
    assert next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert next_working_day(date(2026, 10, 10)) == date(2026, 10, 10)


def test_a_window_ending_in_an_unknown_year_needs_the_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_calendar: Path
) -> None:
    # Delivered 2026-12-02: 30 days end on Friday 1 January 2027. Without 2027 the day counts as
    # a working day (and a warning is logged); with the year added, the window runs to Monday.
    assert review_request_due(date(2026, 12, 2)) == date(2027, 1, 1)
    path = tmp_path / "with-2027.yml"
    path.write_text(YEAR_2027, encoding="utf-8")
    deadlines.use_holidays_file(path)
    assert review_request_due(date(2026, 12, 2)) == date(2027, 1, 4)


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

    deadlines.use_holidays_file(path)
    # Wed 2098-12-31 -> Sat 2099-01-03 (make-up), Mon 01-05, Tue 01-06
    assert add_working_days(date(2098, 12, 31), 3) == date(2099, 1, 6)


@pytest.mark.parametrize("entry", ["  2099:\n", "  2099:\n    holidays: []\n    workdays: [2099-01-03]\n"])
def test_a_year_without_holidays_is_refused(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text("years:\n" + entry, encoding="utf-8")
    with pytest.raises(ValueError, match="year 2099 lists no holidays"):
        WorkingCalendar.from_file(path)


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
        "forwarding_due": date(2026, 12, 7),
        "receipt_notice_due_latest": date(2026, 12, 22),
        "handling_procedure": "article_34",
        "handling_channel": None,
        "handling_days": 60,
        "handling_due": None,
        "handling_due_projected": date(2027, 2, 5),
        "extension_max_days": 30,
        "review_request_days": 30,
        "reply_delivered_on": None,
        "review_request_due": None,
        "review_opinion_delivered_on": None,
        "recheck_request_due": None,
    }


def test_case_deadlines_after_acceptance_with_extension() -> None:
    created = datetime(2026, 11, 22, 9, 0, tzinfo=TZ)
    accepted = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    result = case_deadlines(created, accepted, extension_days=10)
    assert result["acceptance_notice_due"] == date(2026, 12, 7)
    assert result["handling_due"] == result["handling_due_projected"] == date(2027, 2, 8)
    assert result["extension_max_days"] == 30
    with pytest.raises(ValueError):
        case_deadlines(created, accepted, extension_days=31)


@pytest.mark.parametrize(
    ("own", "channel"), [(True, None), (False, "人民法院（诉讼、执行等法定程序）")]
)
def test_a_matter_of_another_procedure_is_promised_no_60_days(own: bool, channel: str | None) -> None:
    created = datetime(2026, 11, 22, 9, 0, tzinfo=TZ)
    accepted = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    result = case_deadlines(created, accepted, own_procedure=own, referred_to=channel)
    assert result["handling_procedure"] == "own_procedure"
    assert result["handling_channel"] == channel
    assert result["handling_days"] is None and result["extension_max_days"] is None
    assert result["handling_due"] is None and result["handling_due_projected"] is None
    # the first two steps are owed all the same (第二十二条、第二十三条)
    assert result["forwarding_due"] == date(2026, 12, 7)
    assert result["receipt_notice_due_latest"] == date(2026, 12, 22)


def test_case_review_windows_count_from_delivery() -> None:
    created = datetime(2026, 1, 5, 9, 0, tzinfo=TZ)
    result = case_deadlines(
        created, reply_delivered_on=date(2026, 3, 7), review_opinion_delivered_on=date(2026, 9, 5)
    )
    assert result["review_request_due"] == date(2026, 4, 7)  # 6 April is 清明
    assert result["recheck_request_due"] == date(2026, 10, 8)  # National Day


# --- coverage of the holiday calendar --------------------------------------------------------


def test_the_coming_90_days_reach_2027_which_nobody_knows_yet(fresh_calendar: Path) -> None:
    # 2026-11-29 + 90 days = 2027-02-27; chinesecalendar 1.11 ends with 2026.
    assert calendar_gaps(date(2026, 11, 29)) == [CalendarGap(2027, date(2027, 1, 1), date(2027, 2, 27))]
    assert calendar_gaps(date(2026, 6, 1)) == []
    # the horizon of 2026-10-03 ends on 2027-01-01: that one day is already a gap
    assert calendar_gaps(date(2026, 10, 3)) == [CalendarGap(2027, date(2027, 1, 1), date(2027, 1, 1))]
    assert calendar_gaps(date(2026, 10, 2)) == []


def test_the_shipped_calendar_does_not_cover_2027() -> None:
    # Honest: 2027's notice is not in the repository, so the check must speak up.
    calendar = WorkingCalendar.from_file(deadlines.HOLIDAYS_FILE)
    assert calendar.covers(2026) and not calendar.covers(2027)
    assert [g.year for g in calendar_gaps(date(2026, 11, 29), calendar=calendar)] == [2027]


def test_the_warning_names_the_year_the_days_and_the_file(fresh_calendar: Path) -> None:
    message = coverage_warning(calendar_gaps(date(2026, 11, 29)))
    assert "2027 (2027-01-01..2027-02-27)" in message
    assert str(fresh_calendar) in message and "State Council" in message
    assert coverage_warning([]) is None


def test_log_calendar_coverage_warns_and_a_listed_year_silences_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_calendar: Path
) -> None:
    logger = logging.getLogger("test.coverage")
    caplog.set_level(logging.WARNING, logger="test.coverage")
    gaps = log_calendar_coverage(logger, date(2026, 11, 29))
    assert [g.year for g in gaps] == [2027]
    [record] = [r for r in caplog.records if r.name == "test.coverage"]
    assert record.levelno == logging.WARNING and "HOLIDAY CALENDAR INCOMPLETE" in record.getMessage()

    caplog.clear()
    path = tmp_path / "with-2027.yml"
    path.write_text(YEAR_2027, encoding="utf-8")
    deadlines.use_holidays_file(path)
    assert log_calendar_coverage(logger, date(2026, 11, 29)) == []
    assert [r for r in caplog.records if r.name == "test.coverage"] == []

"""18-digit resident identity card numbers (GB 11643-1999).

Layout: 6-digit division code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for
men, even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from stdnum.cn import ric

from bot.rules.checks import Check, passed, refused
from bot.rules.cn_dates import cn_date
from bot.rules.messages import message
from bot.rules.deadlines import TZ
from bot.rules.text import MAX_TEXT_LEN, normalize_text, spelled_digits_to_arabic

EXAMPLE_ID = "11010519491231002X"
_SEPARATORS = " \\-_.\u2010\u2011\u2013\u2014"
# Runs of letters/digits that may contain spaces or dashes ("1101 0519 4912 3100 2x").
_RUN_RE = re.compile(f"[0-9A-Za-z](?:[{_SEPARATORS}]*[0-9A-Za-z])*")
_SEPARATOR_RE = re.compile(f"[{_SEPARATORS}]+")
_LETTERS_RE = re.compile(r"[A-Za-z]+")
# First two digits: provinces (GB/T 2260) plus 81/82/83 used by residence permits for
# Hong Kong, Macao and Taiwan residents.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
EARLIEST_BIRTH_YEAR = 1900


def check_id_number(text: str, today: date | None = None) -> Check:
    """Find and validate an 18-digit ID number inside free text.

    Spaces, dashes and full-width characters are tolerated, a lowercase x is accepted.
    The checks run from the most to the least obvious problem: empty, 15-digit old ID,
    wrong length, invalid characters, birth date, region code, checksum. On success
    ``value`` is the 18-character uppercase number.
    """
    normalized = spelled_digits_to_arabic(normalize_text(text))
    if not normalized:
        return refused("idcard", "empty", example=EXAMPLE_ID)
    if len(normalized) > MAX_TEXT_LEN:
        return refused("idcard", "too_long", max=MAX_TEXT_LEN, example=EXAMPLE_ID)
    number = _find_candidate(normalized)
    if number is None:
        return refused("idcard", "not_found", example=EXAMPLE_ID)
    for problem in (_length_problem, _char_problem):
        result = problem(number)
        if result is not None:
            return result
    result = _birth_date_problem(number, today or datetime.now(TZ).date())
    if result is None:
        result = _region_problem(number) or _checksum_problem(number)
    return result or passed(number)


def id_birth_date(value: str) -> date:
    """The birth date encoded in a valid 18-digit ID number (raises ValueError if none)."""
    compact = _SEPARATOR_RE.sub("", normalize_text(value)).upper()
    if len(compact) != 18 or not compact[:14].isdigit():
        raise ValueError(f"not an 18-digit ID number: {value!r}")
    return date(int(compact[6:10]), int(compact[10:12]), int(compact[12:14]))


def _find_candidate(text: str) -> str | None:
    """The run of characters in ``text`` that most looks like an ID number, compacted."""
    best: str | None = None
    for match in _RUN_RE.finditer(text):
        words = _SEPARATOR_RE.split(match.group())
        while words and _LETTERS_RE.fullmatch(words[0]):
            words.pop(0)  # "ID 1101..." or "my id is 1101..."
        compact = "".join(words).upper()
        digits = sum(c.isdigit() for c in compact)
        if digits and (best is None or digits > sum(c.isdigit() for c in best)):
            best = compact
    return best


def _length_problem(number: str) -> Check | None:
    if len(number) == 15 and number.isdigit():
        return refused("idcard", "length_15", example=EXAMPLE_ID)
    if len(number) != 18:
        return refused("idcard", "length", n=len(number), example=EXAMPLE_ID)
    return None


def _char_problem(number: str) -> Check | None:
    for position, char in enumerate(number, start=1):
        allowed = char.isdigit() or (position == 18 and char == "X")
        if not allowed:
            return refused("idcard", "chars", position=position, char=char, example=EXAMPLE_ID)
    return None


def _birth_date_problem(number: str, today: date) -> Check | None:
    raw = number[6:14]
    try:
        birth = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return refused("idcard", "birth_date", key="birth_date_invalid", raw=raw, example=EXAMPLE_ID)
    when = cn_date(birth)
    if birth > today:
        reason = message("idcard.after_today")
    elif birth.year < EARLIEST_BIRTH_YEAR:
        reason = message("idcard.before_year", year=EARLIEST_BIRTH_YEAR)
    else:
        return None
    return refused("idcard", "birth_date", when=when, reason=reason, example=EXAMPLE_ID)


def _region_problem(number: str) -> Check | None:
    prefix = number[1:3] if number[0] == "9" else number[:2]  # 9: foreigners' permanent residence
    if prefix in PROVINCE_PREFIXES:
        return None
    return refused("idcard", "region", code=number[:6], example=EXAMPLE_ID)


def _checksum_problem(number: str) -> Check | None:
    if ric.calc_check_digit(number) == number[-1]:
        return None
    return refused("idcard", "checksum", example=EXAMPLE_ID)

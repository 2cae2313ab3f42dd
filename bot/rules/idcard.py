"""18-digit resident identity card numbers (GB 11643-1999).

Layout: 6-digit division code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for
men, even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from stdnum.cn import ric

from bot.rules.checks import Check, failed, passed
from bot.rules.deadlines import TZ
from bot.rules.text import MAX_TEXT_LEN, normalize_text, spelled_digits_to_arabic

EXAMPLE_ID = "11010519491231002X"
_EXAMPLE = f"例如：{EXAMPLE_ID}"
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
        return failed("empty", f"还没有收到您的身份证号码。请输入18位居民身份证号码，{_EXAMPLE}。")
    if len(normalized) > MAX_TEXT_LEN:
        return failed(
            "too_long",
            f"您发送的内容太长了（超过{MAX_TEXT_LEN}字）。请只输入18位身份证号码，{_EXAMPLE}。",
        )
    number = _find_candidate(normalized)
    if number is None:
        return failed(
            "not_found", f"没有在您的回复中找到身份证号码。请输入18位居民身份证号码，{_EXAMPLE}。"
        )
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
        return failed(
            "length_15",
            "您输入的是15位的旧版身份证号码，现在需要18位的居民身份证号码"
            f"（第二代身份证正面下方的号码）。请重新输入，{_EXAMPLE}。",
        )
    if len(number) != 18:
        return failed(
            "length",
            f"身份证号码应为18位，您输入的号码有{len(number)}位。请对照证件核对后重新输入，{_EXAMPLE}。",
        )
    return None


def _char_problem(number: str) -> Check | None:
    for position, char in enumerate(number, start=1):
        allowed = char.isdigit() or (position == 18 and char == "X")
        if not allowed:
            return failed(
                "chars",
                "身份证号码前17位只能是数字，最后一位是数字或字母X，"
                f"您输入的第{position}位是「{char}」。请核对后重新输入，{_EXAMPLE}。",
            )
    return None


def _birth_date_problem(number: str, today: date) -> Check | None:
    raw = number[6:14]
    try:
        birth = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return failed(
            "birth_date",
            f"身份证号码第7至14位是出生日期，「{raw}」不是一个真实的日期。"
            f"请核对后重新输入，{_EXAMPLE}（出生日期为1949年12月31日）。",
        )
    when = f"{birth.year}年{birth.month}月{birth.day}日"
    if birth > today:
        reason = "晚于今天"
    elif birth.year < EARLIEST_BIRTH_YEAR:
        reason = f"早于{EARLIEST_BIRTH_YEAR}年"
    else:
        return None
    return failed(
        "birth_date",
        f"身份证号码中的出生日期是{when}，{reason}，应该是输错了。请核对后重新输入，{_EXAMPLE}。",
    )


def _region_problem(number: str) -> Check | None:
    prefix = number[1:3] if number[0] == "9" else number[:2]  # 9: foreigners' permanent residence
    if prefix in PROVINCE_PREFIXES:
        return None
    return failed(
        "region",
        f"身份证号码的前6位是地区代码，「{number[:6]}」不是有效的地区代码。请核对后重新输入，{_EXAMPLE}。",
    )


def _checksum_problem(number: str) -> Check | None:
    if ric.calc_check_digit(number) == number[-1]:
        return None
    return failed(
        "checksum",
        "身份证号码最后一位校验码与前面的数字对不上，可能有一位数字输错或顺序颠倒了。"
        f"请对照证件逐位核对后重新输入，{_EXAMPLE}。",
    )

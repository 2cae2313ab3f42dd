"""Case numbers (信访件编号): XF + the year + a sequence of at least 6 digits, e.g. XF2026000123.

The one definition of the pattern: the store allocates numbers with ``format_case_no``, the API
and the console accept exactly ``is_case_no``, and the conversation finds one in free text
(spaces, dashes and a lowercase prefix tolerated) with ``find_case_no``.
"""

from __future__ import annotations

import re

from bot.rules.text import normalize_text

PREFIX = "XF"
YEAR_DIGITS = 4
SEQUENCE_DIGITS = 6  # at least; a 7th digit after a million cases in one year
EXAMPLE = "XF2026000123"
MAX_LEN = len(PREFIX) + YEAR_DIGITS + SEQUENCE_DIGITS + 1

_STRICT_RE = re.compile(rf"^{PREFIX}\d{{{YEAR_DIGITS}}}\d{{{SEQUENCE_DIGITS},{SEQUENCE_DIGITS + 1}}}$")
_LOOSE_RE = re.compile(
    rf"(?<![A-Za-z0-9]){PREFIX}\s*-?\s*(\d{{{YEAR_DIGITS}}})\s*-?\s*(\d(?:[ \-]?\d){{{SEQUENCE_DIGITS - 1},{SEQUENCE_DIGITS}}})(?![\d])",
    re.IGNORECASE,
)
# What a search box entry must look like to be searched as a case number (a prefix of one).
_PARTIAL_RE = re.compile(rf"^{PREFIX}\d{{{YEAR_DIGITS},{YEAR_DIGITS + SEQUENCE_DIGITS + 1}}}$", re.IGNORECASE)


def format_case_no(year: int, number: int) -> str:
    """XF2026000123 for the 123rd case of 2026."""
    return f"{PREFIX}{year:0{YEAR_DIGITS}d}{number:0{SEQUENCE_DIGITS}d}"


def is_case_no(value: str) -> bool:
    """Whether ``value`` is exactly a case number as the store writes it."""
    return bool(_STRICT_RE.match(value or ""))


def case_no_span(text: str) -> tuple[str, tuple[int, int]] | None:
    """A case number inside ``text`` as written (any case), canonical, with its position."""
    match = _LOOSE_RE.search(text.upper())
    if not match:
        return None
    return f"{PREFIX}{match.group(1)}{re.sub(r'[ -]', '', match.group(2))}", match.span()


def find_case_no(text: str) -> str | None:
    """A case number inside free text ("编号xf-2026-000123"), written the canonical way."""
    match = _LOOSE_RE.search(normalize_text(text))
    return f"{PREFIX}{match.group(1)}{re.sub(r'[ -]', '', match.group(2))}" if match else None


# "The number is lost": the citizen cannot give a case number or query code (forgotten, the
# message deleted). Answered with the way to a lookup without the numbers, never re-asked.
LOST_NUMBER_WORDS = ("不记得", "记不得", "忘了", "忘记", "记不清", "想不起", "找不到", "找不着", "丢了", "弄丢", "不见了", "删了")


def says_number_lost(text: str) -> bool:
    """Whether ``text`` says the number cannot be given ("编号找不到了", "查询码忘了")."""
    normalized = normalize_text(text or "")
    return any(word in normalized for word in LOST_NUMBER_WORDS)


def remove_case_numbers(text: str) -> str:
    """``text`` with every case number blanked out (so that its digits are not read as
    another number, e.g. a query code)."""
    return _LOOSE_RE.sub(" ", normalize_text(text))


def looks_like_case_no_prefix(value: str) -> bool:
    """Whether a search entry is (the beginning of) a case number: "XF2026", "xf2026000123"."""
    return bool(_PARTIAL_RE.match(re.sub(r"[\s\-]", "", value or "")))


# --- query codes: the citizen's secret for the status lookup --------------------------------
QUERY_CODE_DIGITS = 6
_QUERY_CODE_RE = re.compile(rf"(?<!\d)(\d{{{QUERY_CODE_DIGITS}}})(?!\d)")


def is_query_code(value: str) -> bool:
    """Whether ``value`` is exactly a query code (6 digits)."""
    return bool(_QUERY_CODE_RE.fullmatch(value or ""))


def find_query_code(text: str) -> str | None:
    """A query code inside free text, ignoring the digits of a case number."""
    match = _QUERY_CODE_RE.search(remove_case_numbers(text))
    return match.group(1) if match else None

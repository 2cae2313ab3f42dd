"""Masking of personal information for screens and lists (PIPL 第28条: ID numbers are
sensitive personal information; show only what staff need to tell records apart)."""

from __future__ import annotations

import re
import unicodedata

from stdnum.cn import ric

from bot.rules.idcard import EXAMPLE_ID
from bot.rules.phone import EXAMPLE_MOBILE
from bot.rules.text import normalize_text

# Personal numbers inside free text (transcripts, notes): resident ID numbers, 港澳 permits and
# mobile numbers (with +86 and spaces or dashes), and the citizen's query code.
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PERMIT_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[HMhm]\d{8}(?:\d{2})?(?![0-9A-Za-z])")
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?![0-9])")
QUERY_CODE_IN_TEXT = re.compile(r"(查询码\s*[：:]?\s*)\d{6}")


def mask_id_number(v: str) -> str:
    """Keep the first 6 and last 4 characters: "110105********002X"."""
    value = normalize_text(v).replace(" ", "")
    if len(value) <= 10:
        return _mask_all_but_last(value, 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(v: str) -> str:
    """Mobile "138****5678"; landline keeps its area code and last 4: "0571-****1234"."""
    value = normalize_text(v)
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if digits.startswith("0") and len(digits) >= 10:
        area_len = 3 if digits.startswith(("010", "02")) else 4
        area, local = digits[:area_len], digits[area_len:]
        return f"{area}-" + "*" * (len(local) - 4) + local[-4:]
    return _mask_all_but_last(digits, 4)


def _mask_all_but_last(value: str, visible: int) -> str:
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]


def mask_numbers_in_text(text: str | None) -> str:
    """Free text with every personal number in it masked the way the case page masks them:
    "我的身份证11010519491231002X，电话13812345678" -> "…110105********002X…138****5678".

    Every written form the conversation accepts is found (``personal_number_spans``): spaces,
    dashes and zero-width characters inside the number, full-width digits and digits spelled
    in Chinese ("幺三八 幺二三四 五六七八"). The query code (6 digits standing alone) becomes
    "******"."""
    return _replace_spans(text or "", _mask_value)


def anonymize_numbers_in_text(text: str | None, example_id: str = EXAMPLE_ID,
                              example_mobile: str = EXAMPLE_MOBILE,
                              example_code: str = "000000") -> str:
    """Free text with every personal number replaced by an example number of the same kind
    (training data keeps a valid-looking number for the entity extractors)."""
    examples = {ID_KIND: example_id, MOBILE_KIND: example_mobile, QUERY_CODE_KIND: example_code}
    return _replace_spans(text or "", lambda kind, value: examples[kind])


# --- finding personal numbers in every written form -------------------------------------------

ID_KIND, MOBILE_KIND, QUERY_CODE_KIND = "id", "mobile", "query_code"

# Digits spelled in Chinese, as ``bot.rules.text.spelled_digits_to_arabic`` reads them.
_CN_DIGITS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
              "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
# What may stand between the digits of one number (bot.rules.idcard, bot.rules.phone accept
# spaces, dashes, dots, underscores and brackets; normalize_text drops zero-width characters).
_JOINERS = frozenset(" -_.()[]+\u2010\u2011\u2012\u2013\u2014\u2015")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_ID_RE = re.compile(r"\d{17}[\dX]")
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# A 6-digit group followed by one of these is an amount or a count, not a query code.
_UNIT_AFTER_CODE = frozenset("元块万千百亿人户米平亩斤吨个次天年月日号%")


def _char_class(char: str) -> tuple[str, str]:
    """("digit", digits) | ("x", "X") | ("joiner", "") | ("other", "") for one character."""
    if char in _CN_DIGITS:
        return "digit", _CN_DIGITS[char]
    if char in _ZERO_WIDTH:
        return "joiner", ""
    folded = unicodedata.normalize("NFKC", char)
    if folded and folded.isascii() and folded.isdigit():
        return "digit", folded
    if folded in ("X", "x"):
        return "x", "X"
    if folded and (folded.isspace() or all(c in _JOINERS for c in folded)):
        return "joiner", ""
    return "other", ""


def _runs(text: str) -> list[list[tuple[int, str]]]:
    """Runs of digits (any script, spelled or not) joined by separators: each run is a list of
    (index in ``text``, digit) for its digit characters."""
    runs: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for index, char in enumerate(text):
        kind, value = _char_class(char)
        if kind == "digit":
            current.extend((index, d) for d in value)
        elif kind == "x" and current:
            current.append((index, "X"))
            runs.append(current)  # an X ends a number (the ID's check character)
            current = []
        elif kind == "joiner" and current:
            continue
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def personal_number_spans(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, value) of every ID number, mobile number and query code in
    ``text``, in any written form; ``value`` is the canonical number ("13812345678")."""
    spans: list[tuple[int, int, str, str]] = []
    for run in _runs(text):
        digits = "".join(d for _, d in run)
        taken = [False] * len(digits)
        # Where the writer separated groups of digits: a number starts and ends there.
        edges = {0, len(digits)} | {
            i for i in range(1, len(run)) if run[i][0] - run[i - 1][0] > 1
        }
        aligned_id = lambda a, b, v: a in edges and b in edges  # noqa: E731
        aligned_mobile = lambda a, b, v: b in edges and (  # noqa: E731
            a in edges or (a - 2 in edges and digits[a - 2:a] == "86")
            or (a - 4 in edges and digits[a - 4:a] == "0086"))
        # A run may hold several numbers one after another: the numbers the separators
        # delimit first, then valid ID numbers, then mobile numbers anywhere.
        searches = ((_ID_RE, ID_KIND, aligned_id), (_MOBILE_RE, MOBILE_KIND, aligned_mobile),
                    (_ID_RE, ID_KIND, lambda a, b, v: _check_digit_ok(v)),
                    (_MOBILE_RE, MOBILE_KIND, lambda a, b, v: True))
        for pattern, kind, accept in searches:
            for start in range(len(digits)):
                match = pattern.match(digits, start)
                if match is None or any(taken[start:match.end()]):
                    continue
                if not accept(start, match.end(), match.group()):
                    continue
                for i in range(start, match.end()):
                    taken[i] = True
                spans.append((run[start][0], run[match.end() - 1][0] + 1, kind, match.group()))
    spans.extend(_query_codes(text))
    spans.sort()
    merged: list[tuple[int, int, str, str]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            continue  # inside a number already found
        merged.append(span)
    return merged


def _check_digit_ok(value: str) -> bool:
    """The GB 11643 check character of an 18-character candidate is right."""
    return ric.calc_check_digit(value) == value[-1]


def _query_codes(text: str) -> list[tuple[int, int, str, str]]:
    """Exactly 6 digits (half- or full-width) standing alone, not an amount or a count."""
    folded = "".join(
        f if len(f := unicodedata.normalize("NFKC", c)) == 1 else "\ufffd" for c in text
    )
    found = []
    for match in re.finditer(r"(?<![0-9A-Za-z])[0-9]{6}(?![0-9A-Za-z])", folded, re.ASCII):
        after = folded[match.end():match.end() + 1]
        if after and after in _UNIT_AFTER_CODE:
            continue
        found.append((match.start(), match.end(), QUERY_CODE_KIND, match.group()))
    return found


def _mask_value(kind: str, value: str) -> str:
    if kind == ID_KIND:
        return mask_id_number(value)
    if kind == MOBILE_KIND:
        return mask_phone(value)
    return "*" * len(value)


def _replace_spans(text: str, replacement) -> str:
    text = PERMIT_IN_TEXT.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    pieces, last = [], 0
    for start, end, kind, value in personal_number_spans(text):
        pieces.append(text[last:start])
        pieces.append(replacement(kind, value))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)

"""Mainland mobile and landline numbers.

A mobile number is 11 digits, ``1[3-9]`` followed by 9 digits, once +86 / 0086 / 86,
spaces, dashes and brackets are removed. 13-digit IoT numbers (140/141/144/146/148...)
cannot take calls. A landline is an area code (010, 02X or a 4-digit 0XXX) plus 7-8 digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers

from bot.rules.checks import Check, failed, passed
from bot.rules.text import MAX_TEXT_LEN, normalize_text, spelled_digits_to_arabic

EXAMPLE_MOBILE = "13812345678"
EXAMPLE_LANDLINE = "0571-88001234"
_MOBILE_EXAMPLE = f"例如：{EXAMPLE_MOBILE}"
_LANDLINE_EXAMPLE = f"例如：{EXAMPLE_LANDLINE}"

_RUN_RE = re.compile(r"\+?[0-9(\[][0-9 \-()\[\].\u2010-\u2014]*[0-9]")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# 11-digit numbers in these blocks are IoT / data-only, not reachable by voice.
_NON_VOICE_PREFIXES = ("140", "141", "142", "143", "144", "146", "148")


@dataclass(frozen=True)
class _Number:
    """Digits of a candidate number with the country prefix removed."""

    digits: str
    foreign: bool = False


def check_mobile(text: str) -> Check:
    """Find and validate a mainland mobile number inside free text.

    Errors: "empty", "too_long", "not_found", "landline" (a fixed line was given),
    "iot" (13-digit IoT number), "foreign", "not_mobile", "length".
    ``value`` is the 11 bare digits, e.g. "13812345678".
    """
    normalized = spelled_digits_to_arabic(normalize_text(text))
    problem = _text_problem(normalized, "手机号码", "11位手机号码", _MOBILE_EXAMPLE)
    if problem:
        return problem
    numbers = list(_candidates(normalized))
    for number in numbers:
        if _is_mobile(number.digits) and not number.foreign:
            return passed(number.digits)
    if not numbers:
        return failed(
            "not_found", f"没有在您的回复中找到电话号码。请输入11位手机号码，{_MOBILE_EXAMPLE}。"
        )
    return _mobile_problem(numbers[0])


def check_landline(text: str) -> Check:
    """Find and validate a landline (区号 + 7-8 digits) inside free text.

    Errors: "empty", "too_long", "not_found", "mobile" (a mobile number was given),
    "area_code" (no area code), "foreign", "length". ``value`` is like "0571-88001234".
    """
    normalized = normalize_text(text)
    problem = _text_problem(normalized, "固定电话号码", "固定电话号码（区号+号码）", _LANDLINE_EXAMPLE)
    if problem:
        return problem
    numbers = list(_candidates(normalized))
    for number in numbers:
        split = _split_landline(number.digits)
        if split and not number.foreign:
            return passed(f"{split[0]}-{split[1]}")
    if not numbers:
        return failed(
            "not_found",
            f"没有在您的回复中找到电话号码。请输入固定电话号码（区号+号码），{_LANDLINE_EXAMPLE}。",
        )
    return _landline_problem(numbers[0])


def _text_problem(text: str, what: str, ask: str, example: str) -> Check | None:
    if not text:
        return failed("empty", f"还没有收到您的{what}。请输入{ask}，{example}。")
    if len(text) > MAX_TEXT_LEN:
        return failed(
            "too_long", f"您发送的内容太长了（超过{MAX_TEXT_LEN}字）。请只输入{what}，{example}。"
        )
    return None


def _candidates(text: str) -> Iterator[_Number]:
    """Numbers in ``text``: each run of digits first, then its space-separated parts."""
    runs = [m.group() for m in _RUN_RE.finditer(text)]
    for run in runs:
        yield _strip_country(run)
    for run in runs:
        parts = run.split()
        if len(parts) > 1:
            for part in parts:
                if any(c.isdigit() for c in part):
                    yield _strip_country(part)


def _strip_country(raw: str) -> _Number:
    """Remove +86 / 0086 / 86; a number with another country code is marked foreign."""
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") or digits.startswith("00"):
        try:
            parsed = phonenumbers.parse("+" + digits.removeprefix("00"), None)
        except phonenumbers.NumberParseException:
            return _Number(digits)
        national = str(parsed.national_number)
        if parsed.country_code != 86:
            return _Number(national, foreign=True)
        return _Number(national if national.startswith("1") else "0" + national)
    if digits.startswith("86") and len(digits) == 13 and _is_mobile(digits[2:]):
        return _Number(digits[2:])
    return _Number(digits)


def _is_mobile(digits: str) -> bool:
    return bool(_MOBILE_RE.fullmatch(digits)) and not digits.startswith(_NON_VOICE_PREFIXES)


def _split_landline(digits: str) -> tuple[str, str] | None:
    """(area code, local number) when ``digits`` is a well-formed landline."""
    if not digits.startswith("0") or digits.startswith("00"):
        return None
    area_len = 3 if digits.startswith(("010", "02")) else 4
    area, local = digits[:area_len], digits[area_len:]
    if 7 <= len(local) <= 8 and local[0] != "0":
        return area, local
    return None


def _mobile_problem(number: _Number) -> Check:
    digits = number.digits
    if number.foreign:
        return failed(
            "foreign",
            f"目前只能登记中国大陆的手机号码。请提供11位大陆手机号码，{_MOBILE_EXAMPLE}。",
        )
    if len(digits) == 13 and digits.startswith("14"):
        return failed(
            "iot",
            f"您输入的是13位的物联网卡号码，不能接听电话。请提供11位手机号码，{_MOBILE_EXAMPLE}。",
        )
    if _split_landline(digits) or (7 <= len(digits) <= 8 and digits[0] not in "01"):
        return failed(
            "landline",
            f"您提供的是固定电话号码。为了能及时联系您，请提供11位手机号码，{_MOBILE_EXAMPLE}；"
            "固定电话可以作为第二联系方式另外留给我们。",
        )
    if len(digits) == 11 and digits.startswith("1"):
        return failed(
            "not_mobile",
            f"「{digits}」不是有效的手机号码（这个号段不能用于接打电话）。"
            f"请核对后重新输入，{_MOBILE_EXAMPLE}。",
        )
    return failed(
        "length",
        f"手机号码应为11位，您输入的号码有{len(digits)}位。请核对后重新输入，{_MOBILE_EXAMPLE}。",
    )


def _landline_problem(number: _Number) -> Check:
    digits = number.digits
    if number.foreign:
        return failed(
            "foreign",
            f"目前只能登记中国大陆的电话号码。请输入固定电话号码（区号+号码），{_LANDLINE_EXAMPLE}。",
        )
    if _is_mobile(digits):
        return failed(
            "mobile",
            f"您输入的是手机号码。这里需要的是固定电话号码（区号+号码），{_LANDLINE_EXAMPLE}。",
        )
    if 7 <= len(digits) <= 8 and digits[0] != "0":
        return failed("area_code", f"请在固定电话号码前加上区号，{_LANDLINE_EXAMPLE}。")
    return failed(
        "length",
        f"固定电话号码应为区号加7至8位号码，您输入的号码有{len(digits)}位。请核对后重新输入，{_LANDLINE_EXAMPLE}。",
    )

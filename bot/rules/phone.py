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

from bot.rules.checks import Check, failed, passed, refused
from bot.rules.messages import message
from bot.rules.text import MAX_TEXT_LEN, normalize_text, spelled_digits_to_arabic

EXAMPLE_MOBILE = "13812345678"
EXAMPLE_LANDLINE = "0571-88001234"

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
    problem = _text_problem(normalized, "mobile", EXAMPLE_MOBILE)
    if problem:
        return problem
    numbers = list(_candidates(normalized))
    for number in numbers:
        if _is_mobile(number.digits) and not number.foreign:
            return passed(number.digits)
    if not numbers:
        return refused("mobile", "not_found", example=EXAMPLE_MOBILE)
    return _mobile_problem(numbers[0])


def check_landline(text: str) -> Check:
    """Find and validate a landline (区号 + 7-8 digits) inside free text.

    Errors: "empty", "too_long", "not_found", "mobile" (a mobile number was given),
    "area_code" (no area code), "foreign", "length". ``value`` is like "0571-88001234".
    """
    normalized = normalize_text(text)
    problem = _text_problem(normalized, "landline", EXAMPLE_LANDLINE)
    if problem:
        return problem
    numbers = list(_candidates(normalized))
    for number in numbers:
        split = _split_landline(number.digits)
        if split and not number.foreign:
            return passed(f"{split[0]}-{split[1]}")
    if not numbers:
        return refused("landline", "not_found", example=EXAMPLE_LANDLINE)
    return _landline_problem(numbers[0])


def _text_problem(text: str, kind: str, example: str) -> Check | None:
    if not text:
        return refused(kind, "empty", example=example)
    if len(text) > MAX_TEXT_LEN:
        return refused(kind, "too_long", max=MAX_TEXT_LEN, example=example)
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
        return refused("mobile", "foreign", example=EXAMPLE_MOBILE)
    if len(digits) == 13 and digits.startswith("14"):
        return refused("mobile", "iot", example=EXAMPLE_MOBILE)
    if _split_landline(digits) or (7 <= len(digits) <= 8 and digits[0] not in "01"):
        return refused("mobile", "landline", example=EXAMPLE_MOBILE)
    if len(digits) == 11 and digits.startswith("1"):
        return refused("mobile", "not_mobile", digits=digits, example=EXAMPLE_MOBILE)
    return refused("mobile", "length", n=len(digits), example=EXAMPLE_MOBILE)


def _landline_problem(number: _Number) -> Check:
    digits = number.digits
    if number.foreign:
        return refused("landline", "foreign", example=EXAMPLE_LANDLINE)
    if _is_mobile(digits):
        return refused("landline", "mobile", example=EXAMPLE_LANDLINE)
    if 7 <= len(digits) <= 8 and digits[0] != "0":
        return refused("landline", "area_code", example=EXAMPLE_LANDLINE)
    return refused("landline", "length", n=len(digits), example=EXAMPLE_LANDLINE)


# --- the petitioner's contact: a mobile, else a landline, else none (the address) ------------
MOBILE = "mobile"
LANDLINE = "landline"
NO_PHONE = "none"
CONTACT_TYPES: dict[str, str] = {MOBILE: "手机", LANDLINE: "固定电话", NO_PHONE: "无电话（按住址联系）"}
_NO_PHONE_RE = re.compile(
    r"没有?(?:任何)?(?:联系)?电话|无电话|都没有|都没|(?:手机|座机|固话|固定电话)(?:和|、|跟|也)?(?:座机|固话|固定电话|手机)?都没有?"
    r"|电话(?:我|俺|家里)?(?:也)?没(?:有)?(?:的|啊|呀)?$"
)
_NO_MOBILE_RE = re.compile(r"没有?(?:用)?手机|不用手机|没手机|老人机")


@dataclass(frozen=True)
class Contact:
    """How the agency reaches the petitioner: ``kind`` is a CONTACT_TYPES key."""

    kind: str
    number: str | None


def check_contact(text: str) -> Check:
    """A mobile number, else a landline, else "没有电话" (then the address is the contact:
    条例 第19条 asks for name and address only). ``value`` is a ``Contact``.

    Errors: "no_mobile" (says there is no mobile: a landline is asked for), "not_found", and
    the mobile check's own codes for a number of the wrong form.
    """
    mobile = check_mobile(text)
    if mobile.ok:
        return passed(Contact(MOBILE, mobile.value))
    landline = check_landline(text)
    if landline.ok:
        return passed(Contact(LANDLINE, landline.value))
    normalized = spelled_digits_to_arabic(normalize_text(text))
    has_digits = any(c.isdigit() for c in normalized)
    if not has_digits and _NO_PHONE_RE.search(normalized):
        return passed(Contact(NO_PHONE, None))
    if not has_digits and _NO_MOBILE_RE.search(normalized):
        return failed("no_mobile", message("contact.mobile_only_missing"))
    if mobile.error in ("not_found", "empty"):
        return failed(mobile.error, message("contact.not_found"))
    if mobile.error == "landline":
        return landline  # a fixed line of the wrong form: its own explanation
    return mobile

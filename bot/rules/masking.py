"""Masking of personal information for screens and lists (PIPL 第28条: ID numbers are
sensitive personal information; show only what staff need to tell records apart)."""

from __future__ import annotations

import re

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
    "我的身份证11010519491231002X，电话13812345678" -> "…110105********002X…138****5678"."""
    text = QUERY_CODE_IN_TEXT.sub(r"\1******", text or "")
    text = ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    text = PERMIT_IN_TEXT.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    return MOBILE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))[-11:]), text)

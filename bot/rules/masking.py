"""Masking of personal information for screens and lists (PIPL 第28条: ID numbers are
sensitive personal information; show only what staff need to tell records apart)."""

from __future__ import annotations

import re

from bot.rules.text import normalize_text

# Two-character surnames, so that "欧阳明华" shows as "欧阳**" rather than "欧***".
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 "
    "南宫 西门 申屠 太史 澹台 公冶 宗政 濮阳 淳于 单于 钟离 闻人 赫连 呼延 万俟 拓跋 百里 "
    "东郭 左丘 梁丘 公羊 谷梁 段干 司空 司寇 子车 巫马 壤驷 漆雕 乐正 公良 第五".split()
)
_NAME_SEPARATORS = frozenset("· -'.")


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


def mask_name(v: str) -> str:
    """Keep the surname: "张*", "张**", "欧阳**"; other names keep their first letter."""
    value = normalize_text(v)
    if not value:
        return ""
    keep = 2 if value[:2] in COMPOUND_SURNAMES and len(value) > 2 else 1
    masked = (c if c in _NAME_SEPARATORS else "*" for c in value[keep:])
    return value[:keep] + "".join(masked)


def _mask_all_but_last(value: str, visible: int) -> str:
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]

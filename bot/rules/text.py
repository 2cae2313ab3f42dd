"""Text normalization shared by every rule.

Citizens type on phones with Chinese input methods: full-width digits and letters,
full-width spaces, zero-width characters pasted from chat apps. Every rule works on the
normalized form.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_LEN = 2000
"""Longest free text accepted in one answer (facts, request ...)."""

_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_SPACE_RE = re.compile(r"\s+")


def normalize_text(s: str | None) -> str:
    """NFKC-normalize, drop zero-width characters, strip and collapse whitespace.

    NFKC turns full-width digits, letters and punctuation into their half-width forms
    ("１３８" -> "138", "，" -> ","); Chinese characters are unchanged.
    ``None`` gives the empty string.
    """
    if not s:
        return ""
    text = unicodedata.normalize("NFKC", s)
    text = _ZERO_WIDTH_RE.sub("", text)
    return _SPACE_RE.sub(" ", text).strip()


# Full-width punctuation that belongs in Chinese prose: kept by tidy_text.
CJK_PUNCTUATION = frozenset("，！？：；（）")


def tidy_text(s: str | None) -> str:
    """Like normalize_text, but keeps the Chinese punctuation of prose (，！？：；（）).

    For free text that is stored and read by staff (facts, request): "买了房，交房以后"
    stays as written instead of becoming "买了房,交房以后"; full-width digits and letters
    still become half-width.
    """
    if not s:
        return ""
    text = "".join(c if c in CJK_PUNCTUATION else unicodedata.normalize("NFKC", c) for c in s)
    text = _ZERO_WIDTH_RE.sub("", text)
    return _SPACE_RE.sub(" ", text).strip()


def is_cjk(char: str) -> bool:
    """Whether ``char`` is a CJK unified ideograph (a Chinese character)."""
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


# Digits as people say or type them in Chinese ("幺三八", "一三八零…"); 两 is "2" in counts.
_CN_DIGITS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
              "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_CN_DIGIT_RUN_RE = re.compile(r"[零〇洞一幺二两三四五六七八九](?:[\s\-]*[零〇洞一幺二两三四五六七八九0-9]){6,}")


def spelled_digits_to_arabic(text: str) -> str:
    """Turn runs of at least 7 digits spelled in Chinese into Arabic digits.

    "幺三八 幺二三四 五六七八" -> "138 1234 5678" style runs become "13812345678"; short runs
    ("三个人", "二十多户") are left alone, so counts and amounts keep their meaning.
    """
    def convert(match: re.Match[str]) -> str:
        return "".join(_CN_DIGITS.get(ch, ch) for ch in match.group(0) if not ch.isspace() and ch != "-")

    return _CN_DIGIT_RUN_RE.sub(convert, text)


def form_text(
    value: str | None, label: str, limit: int, *, required: bool = True,
    error: type[Exception] = ValueError,
) -> str | None:
    """A free-text form field from staff, stripped: ``error`` with a Chinese message when it is
    missing but required ("请填写{label}。") or longer than ``limit`` characters; None when empty
    and optional."""
    value = (value or "").strip()
    if not value:
        if required:
            raise error(f"请填写{label}。")
        return None
    if len(value) > limit:
        raise error(f"{label}不能超过{limit}个字。")
    return value

"""Identity documents (证件) a petitioner may give, and their format checks.

条例 第19条 asks for name and address, not a resident ID: people without a mainland resident
ID (港澳台居民, foreigners) file with the document they hold. Formats:
- 居民身份证 and the 港澳台居民居住证 (18 characters, GB 11643-1999, prefixes 81/82/83) and the
  2023 外国人永久居留身份证 (18 characters, first digit 9): ``stdnum.cn.ric`` via
  ``bot.rules.idcard.check_id_number``.
- 港澳居民来往内地通行证 (回乡证): H (Hong Kong) or M (Macao) + 8 digits (+ 2 digits of the
  renewal count on older cards), as printed on the card.
- 台湾居民来往大陆通行证 (台胞证): 8 digits since 2015 (older cards: 10 digits, or 8 digits + a
  letter in brackets for the renewal).
- 外国人永久居留身份证 of the 2004-2017 series: 3 letters (country code) + 12 digits.
- 护照 (passport): 5-20 letters and digits with at least one digit (ICAO 9303 allows up to 9
  characters in the machine-readable zone; national formats vary, so only the shape is checked).

Each check returns an error code; the Chinese texts are in ``bot/rules/messages.yml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.rules.checks import Check, failed, passed
from bot.rules.idcard import check_id_number
from bot.rules.messages import message
from bot.rules.text import normalize_text, spelled_digits_to_arabic

RESIDENT_ID = "resident_id"
RESIDENCE_PERMIT = "residence_permit"  # 港澳台居民居住证
HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
FOREIGN_PR = "foreign_permanent_residence"  # 外国人永久居留身份证
PASSPORT = "passport"
NO_DOCUMENT = "none"  # the citizen declined to give a 证件 number (not required, 第19条)

ID_TYPES: dict[str, str] = {
    RESIDENT_ID: "居民身份证",
    RESIDENCE_PERMIT: "港澳台居民居住证",
    HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    FOREIGN_PR: "外国人永久居留身份证",
    PASSPORT: "护照",
    NO_DOCUMENT: "未提供",
}

# Words that name a document in a message ("我是香港人，回乡证H12345678").
_TYPE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (RESIDENCE_PERMIT, re.compile(r"居住证")),
    (HK_MACAO_PERMIT, re.compile(r"回乡证|港澳(?:居民)?(?:来往内地)?通行证|来往内地通行证")),
    (TAIWAN_PERMIT, re.compile(r"台胞证|台湾(?:居民)?(?:来往大陆)?通行证|来往大陆通行证")),
    (FOREIGN_PR, re.compile(r"永久居留|绿卡")),
    (PASSPORT, re.compile(r"护照|passport", re.IGNORECASE)),
    (RESIDENT_ID, re.compile(r"身份证")),
)
_HK_MACAO_RE = re.compile(r"[HM]\d{8}(?:\d{2})?")
_TAIWAN_RE = re.compile(r"\d{8}(?:\d{2}|\([A-Z]\)|[A-Z])?")
_FOREIGN_PR_OLD_RE = re.compile(r"[A-Z]{3}\d{12}")
_PASSPORT_RE = re.compile(r"(?=[A-Z0-9]*\d)[A-Z0-9]{5,20}")
_TOKEN_RE = re.compile(r"[0-9A-Za-z()]+")

PASSPORT_MIN, PASSPORT_MAX = 5, 20
MAX_LEN = 20  # longest number stored


@dataclass(frozen=True)
class Document:
    """A checked document: its type (an ``ID_TYPES`` key) and its number as stored."""

    id_type: str
    number: str


def id_type_label(id_type: str | None) -> str:
    return ID_TYPES.get(id_type or RESIDENT_ID, id_type or "")


def named_type(text: str) -> str | None:
    """The document a message names ("台胞证" -> taiwan_permit), if any."""
    for id_type, pattern in _TYPE_WORDS:
        if pattern.search(text):
            return id_type
    return None


def check_document(text: str, id_type: str | None = None) -> Check:
    """Find and check a document number in free text; ``value`` is a ``Document``.

    The type is ``id_type`` when given (the API sends it), else the one the message names,
    else the one the number's shape shows (18 characters: resident ID or a permit by its
    prefix; H/M + 8 digits: 港澳通行证). Error codes: the resident ID's own
    (``bot.rules.idcard``) or "<type>.format", "type_unknown".
    """
    normalized = spelled_digits_to_arabic(normalize_text(text))
    declared = id_type or named_type(normalized)
    if declared in (None, RESIDENT_ID, RESIDENCE_PERMIT) or (declared == FOREIGN_PR and _has_18(normalized)):
        return _resident_style(text, declared)
    compact = _compact_tokens(normalized)
    if declared == HK_MACAO_PERMIT:
        return _match_any(compact, _HK_MACAO_RE, HK_MACAO_PERMIT)
    if declared == TAIWAN_PERMIT:
        return _match_any(compact, _TAIWAN_RE, TAIWAN_PERMIT)
    if declared == FOREIGN_PR:
        return _match_any(compact, _FOREIGN_PR_OLD_RE, FOREIGN_PR)
    if declared == PASSPORT:
        return _match_any(compact, _PASSPORT_RE, PASSPORT)
    return failed("type_unknown", message("document.type_unknown"))


def _has_18(text: str) -> bool:
    return any(len(t) == 18 for t in _compact_tokens(text))


def _resident_style(text: str, declared: str | None) -> Check:
    """18-character numbers: resident ID, 港澳台居民居住证 (81/82/83), 永久居留身份证 (9...)."""
    result = check_id_number(text)
    if not result.ok:
        compact = _compact_tokens(spelled_digits_to_arabic(normalize_text(text)))
        if declared is None:
            # Not a resident ID: maybe another document given without naming it.
            for token in compact:
                if _HK_MACAO_RE.fullmatch(token):
                    return passed(Document(HK_MACAO_PERMIT, token))
                if _FOREIGN_PR_OLD_RE.fullmatch(token):
                    return passed(Document(FOREIGN_PR, token))
        return result
    number = result.value
    if number[:2] in ("81", "82", "83"):
        kind = RESIDENCE_PERMIT
    elif number[0] == "9":
        kind = FOREIGN_PR
    else:
        kind = RESIDENT_ID
    return passed(Document(kind, number))


def _compact_tokens(text: str) -> list[str]:
    """Runs of letters and digits, spaces and dashes inside a number removed, uppercased."""
    joined = re.sub(r"(?<=[0-9A-Za-z])[\s\-]+(?=[0-9A-Za-z])", "", text)
    return [t.upper() for t in _TOKEN_RE.findall(joined)]


def _match_any(tokens: list[str], pattern: re.Pattern[str], id_type: str) -> Check:
    for token in tokens:
        if pattern.fullmatch(token):
            return passed(Document(id_type, token.replace("(", "").replace(")", "")))
    return failed(f"{id_type}.format", message(f"document.{id_type}"))

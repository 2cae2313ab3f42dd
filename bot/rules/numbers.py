"""How many people (or households) a matter concerns, from colloquial Chinese.

"二十多人" -> 20 approx, "十几户" -> 10 approx 户, "三四个人" -> 3 approx, "上百人" -> 100
approx. For a range or "more than" the lower bound is kept and ``approximate`` is set.
Vague answers ("全村", "很多人", "几个人") give ``None`` so that the question is asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

from bot.rules.text import normalize_text

MAX_PEOPLE = 1_000_000
# 集体访: five or more people (第二十条: a visit of several people chooses at most 5 representatives)
GROUP_MIN = 5
PERSON = "人"
HOUSEHOLD = "户"

_DIGIT_VALUES = {
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
PERSON_NOUNS = (
    "农民工|工人|工友|老乡|邻居|职工|员工|业主|村民|居民|群众|家属|老人|学生|家长|同事|师傅|股东|会员|"
    "投资人|购房户|老师|教师|司机|病人|患者|退休人员|人员"
)
HOUSEHOLD_NOUNS = "商户|住户|租户|农户|人家|家庭|家商铺"
_NUMBER_RE = re.compile(
    r"(?P<pre>大约|大概|差不多|将近|接近|起码|至少|超过|不少于|不下|约|近|上|好)?"
    r"(?P<num>[0-9]+(?:\.[0-9]+)?[十百千万]?|数?[零〇一二两三四五六七八九十百千万几]+)"
    r"(?P<approx>多|来|余|几|把)?"
    r"(?P<unit>号人|个人|口人|[个位名口人户家])?"
    rf"(?P<noun>{HOUSEHOLD_NOUNS}|{PERSON_NOUNS})?"
    r"(?P<post>左右|上下|的样子)?"
)
_APPROX_PREFIXES = frozenset("大约 大概 差不多 将近 接近 起码 至少 超过 不少于 不下 约 近 好".split())
_APPROX_WORDS_RE = re.compile(r"大约|大概|差不多|估计|左右|上下|约")
_FILLER_RE = re.compile(r"[\s,.!?;:，。！？；：、~]|吧|啊|呀|吗|呢|的|大概|大约|左右|一共|总共|共")
_SELF_RE = re.compile(r"我自己|我本人|本人|就我|只有我|只我|我一个|个人反映|就一个")
_COUPLE_RE = re.compile(r"夫妻|两口子|老两口|我和(?:我)?(?:老婆|妻子|爱人|丈夫|老公|媳妇|对象)")
# Unit priority: counted people beat households, which beat a bare "个".
_PERSON_UNITS = frozenset({"号人", "个人", "口人", "位", "名", "口", "人"})


@dataclass(frozen=True)
class PeopleCount:
    """``n`` people or households; ``approximate`` when the citizen gave a rough figure."""

    n: int
    approximate: bool
    unit: str


def parse_people_count(text: str) -> PeopleCount | None:
    """The number of people or households in ``text``, or ``None`` when unclear."""
    normalized = normalize_text(text).replace("俩", "两个").replace("仨", "三个")
    if not normalized:
        return None
    best: tuple[int, PeopleCount] | None = None
    for match in _NUMBER_RE.finditer(normalized):
        rank = _unit_rank(match, normalized)
        if rank is None or (best is not None and rank >= best[0]):
            continue
        count = _to_count(match, rank, normalized)
        if count is not None:
            best = (rank, count)
    if best is not None:
        return best[1]
    if _COUPLE_RE.search(normalized):
        return PeopleCount(2, False, PERSON)
    if _SELF_RE.search(normalized):
        return PeopleCount(1, False, PERSON)
    return None


def _unit_rank(match: re.Match[str], text: str) -> int | None:
    """0 for people, 1 for households, 2 for a bare number; None if not a head count."""
    unit, noun = match["unit"], match["noun"]
    if unit in ("户", "家") or (noun and _is_household(noun)):
        return 1
    if unit in _PERSON_UNITS or noun:
        return 0
    rest = text[match.end():]
    if unit == "个":
        return 2 if _ends_phrase(rest) else None
    whole = _FILLER_RE.sub("", text)
    return 2 if whole == _FILLER_RE.sub("", match.group()) else None


def _ends_phrase(rest: str) -> bool:
    """Whether a count ending in "个" is not followed by a noun ("一个小区")."""
    return not rest or not ("\u4e00" <= rest[0] <= "\u9fff") or rest[0] in "吧啊呀左上的了"


def _is_household(noun: str) -> bool:
    return bool(re.fullmatch(HOUSEHOLD_NOUNS, noun))


def _to_count(match: re.Match[str], rank: int, text: str) -> PeopleCount | None:
    parsed = _parse_number(match["num"])
    if parsed is None or parsed[0] <= 0:
        return None
    value, approximate = parsed
    approximate = (
        approximate
        or bool(match["approx"] or match["post"] or match["pre"] in _APPROX_PREFIXES)
        or (match["pre"] == "上" and match["num"][0] in "百千万")  # 上百, 上千
        or bool(_APPROX_WORDS_RE.search(text))
    )
    if value > MAX_PEOPLE:
        value, approximate = MAX_PEOPLE, True
    unit = HOUSEHOLD if rank == 1 else PERSON
    return PeopleCount(value, approximate, unit)


def _parse_number(token: str) -> tuple[int, bool] | None:
    """A numeral ("35", "二十", "十几", "三四", "上百"'s "百", "3万") as (value, approximate)."""
    approximate = False
    if token.startswith("数"):
        token = "几" + token[1:]
    if "几" in token:
        approximate = True
        resolved = _resolve_ji(token)
        if resolved is None:
            return None
        token = resolved
    ranged = _drop_range(token)
    if ranged != token:
        token, approximate = ranged, True
    if token[0] in "百千万":
        token = "一" + token
    try:
        value = cn2an.cn2an(token, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return int(value), approximate


def _resolve_ji(token: str) -> str | None:
    """"十几" -> "十", "二十几" -> "二十", "几十" -> "一十", "几百" -> "一百"; bare 几 -> None."""
    position = token.index("几")
    if position > 0 and token[position - 1] in "十百千万":
        return token[:position]
    replaced = token.replace("几", "一", 1)
    return replaced if len(replaced) > 1 else None


def _drop_range(token: str) -> str:
    """Keep the lower end of "三四", "五六十", "十五六", "两三百", "三五"."""
    for i in range(len(token) - 1):
        low, high = _DIGIT_VALUES.get(token[i]), _DIGIT_VALUES.get(token[i + 1])
        if low and high and 1 <= high - low <= 2:
            return token[: i + 1] + token[i + 2 :]
    return token

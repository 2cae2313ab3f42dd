"""The jurisdiction of this deployment: agency facts, 街道/镇, neighbouring areas and the
routing of 内容分类 × 属地 to the responsible unit (信访工作条例 第5条: 属地管理、分级负责，
谁主管、谁负责). Everything local lives in ``bot/config/jurisdiction.yml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.rules.text import is_cjk, normalize_text

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config" / "jurisdiction.yml"
FORWARDED_SUFFIX = "（转送）"

IN = "in"
IN_UNSPECIFIED = "in_unspecified"
OUT = "out"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Subdivision:
    """A 街道 or 镇 of the jurisdiction with its 12-digit statistical division code."""

    name: str
    code: str
    kind: str
    aliases: tuple[str, ...]
    government: str


@dataclass(frozen=True)
class OtherArea:
    """Another district/county of the same city and the 信访 body that serves it."""

    name: str
    code: str
    petition_body: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CategoryRule:
    """A 内容分类: words that suggest it and the unit responsible for it."""

    name: str
    unit: str | None
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    overrides: tuple[tuple[str, str], ...] = ()
    # Regular expressions for typical complaint phrasings ("拖着工资不给"); a match weighs
    # more than any single keyword.
    patterns: tuple[str, ...] = ()

    def unit_for(self, subdivision: str | None) -> str | None:
        """The responsible unit for this category in ``subdivision`` (None: no mapping)."""
        for name, unit in self.overrides:
            if name == subdivision:
                return unit
        return self.unit


@dataclass(frozen=True)
class Jurisdiction:
    """Agency facts and the area of one 信访 agency (a district, in the demo)."""

    name: str
    code: str
    agency: str
    hotline: str
    address: str
    reception_hours: str
    online_url: str
    data_retention: str
    subdivisions: tuple[Subdivision, ...]
    short_name: str = ""
    province: str = ""
    city: str = ""
    data_retention_years: int = 0
    # Days after its last message a conversation that never became a case is deleted.
    unfiled_conversation_days: int = 0
    # Days after the written reply during which the citizen is asked to rate it (第二十一条).
    rating_period_days: int = 30
    district_aliases: tuple[str, ...] = ()
    vague_local_places: tuple[str, ...] = ()
    ignored_phrases: tuple[str, ...] = ()
    neighbours: tuple[OtherArea, ...] = ()
    outside_body_template: str = "{area}当地的县（市、区）信访部门"
    other_cities: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    categories: tuple[CategoryRule, ...] = ()
    # The published personal-information notice (个人信息处理说明): the chat page's /privacy.
    privacy_url: str = ""

    def public_facts(self) -> dict[str, str]:
        """The agency's published facts, the placeholders citizen-facing texts may use."""
        return {
            "jurisdiction": self.name,
            "agency": self.agency,
            "hotline": self.hotline,
            "address": self.address,
            "hours": self.reception_hours,
            "online_url": self.online_url,
            "privacy_url": self.privacy_url,
            "retention": self.data_retention,
            "rating_days": str(self.rating_period_days),
        }

    def responsible_units(self) -> list[str]:
        """Units cases are assigned to: the routing table's units, then the 街道/镇
        governments, each once."""
        units: list[str] = []
        for rule in self.categories:
            for unit in (rule.unit, *(u for _, u in rule.overrides)):
                if unit and unit not in units:
                    units.append(unit)
        for sub in self.subdivisions:
            if sub.government and sub.government not in units:
                units.append(sub.government)
        return units

    def subdivision(self, name: str | None) -> Subdivision | None:
        """The 街道/镇 with this canonical name."""
        return next((s for s in self.subdivisions if s.name == name), None)

    def category(self, name: str | None) -> CategoryRule | None:
        """The category with this name or alias."""
        key = normalize_text(name)
        for rule in self.categories:
            if key == rule.name or key in rule.aliases:
                return rule
        return None


@dataclass(frozen=True)
class PlaceMatch:
    """Where a problem arose, as far as the citizen's words tell."""

    status: str
    text: str
    subdivision: str | None = None
    subdivision_code: str | None = None
    outside_area: str | None = None
    responsible_body: str | None = None


# The file of this process: each process's entry point calls use_file() once at start with
# the JURISDICTION_FILE of its settings (bot.settings).
_file: Path = DEFAULT_FILE


def use_file(path: str | Path | None) -> Path:
    """Make ``path`` (None: ``DEFAULT_FILE``) the jurisdiction file of this process; returns
    the file used until now."""
    global _file
    previous, _file = _file, Path(path) if path else DEFAULT_FILE
    return previous


def jurisdiction_file() -> Path:
    """The jurisdiction file of this process (see ``use_file``)."""
    return _file


def load_jurisdiction(path: str | Path | None = None) -> Jurisdiction:
    """The jurisdiction configuration (cached per file).

    Default: the file of this process (``use_file``), else ``bot/config/jurisdiction.yml``
    next to this package. Raises ValueError when the file is inconsistent.
    """
    return _load(str(Path(path or _file).resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> Jurisdiction:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    try:
        jurisdiction = _build(data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: missing or malformed entry {exc}") from exc
    _validate(jurisdiction, path)
    return jurisdiction


def _strings(items: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in items or ())


def _build(data: dict[str, Any]) -> Jurisdiction:
    subdivisions = tuple(
        Subdivision(
            name=s["name"],
            code=str(s.get("code") or ""),
            kind=s["kind"],
            aliases=_strings(s.get("aliases")),
            government=s["government"],
        )
        for s in data["subdivisions"]
    )
    neighbours = tuple(
        OtherArea(n["name"], str(n.get("code") or ""), n["petition_body"], _strings(n.get("aliases")))
        for n in data.get("neighbours") or ()
    )
    categories = tuple(
        CategoryRule(
            name=c["name"],
            unit=c.get("unit"),
            aliases=_strings(c.get("aliases")),
            keywords=_strings(c.get("keywords")),
            overrides=tuple((str(k), str(v)) for k, v in (c.get("overrides") or {}).items()),
            patterns=_strings(c.get("patterns")),
        )
        for c in data.get("categories") or ()
    )
    return Jurisdiction(
        name=data["name"],
        code=str(data["code"]),
        agency=data["agency"],
        hotline=str(data["hotline"]),
        address=data["address"],
        reception_hours=data["reception_hours"],
        online_url=data["online_url"],
        privacy_url=data.get("privacy_url") or data["online_url"].rstrip("/") + "/privacy",
        data_retention=data["data_retention"],
        subdivisions=subdivisions,
        short_name=data.get("short_name") or data["name"],
        province=data.get("province") or "",
        city=data.get("city") or "",
        data_retention_years=int(data.get("data_retention_years") or 0),
        unfiled_conversation_days=int(data.get("unfiled_conversation_days") or 0),
        rating_period_days=int(data.get("rating_period_days") or 30),
        district_aliases=_strings(data.get("district_aliases")),
        vague_local_places=_strings(data.get("vague_local_places")),
        ignored_phrases=_strings(data.get("ignored_phrases")),
        neighbours=neighbours,
        outside_body_template=data.get("outside_body_template") or Jurisdiction.outside_body_template,
        other_cities=_strings(data.get("other_cities")),
        provinces=_strings(data.get("provinces")),
        categories=categories,
    )


def _validate(j: Jurisdiction, path: str) -> None:
    problems: list[str] = []
    if not re.fullmatch(r"\d{6}", j.code):
        problems.append(f"code {j.code!r} is not a 6-digit division code")
    for sub in j.subdivisions:
        if sub.kind not in ("街道", "镇", "乡"):
            problems.append(f"{sub.name}: kind {sub.kind!r} is not 街道/镇/乡")
        if sub.code and not (re.fullmatch(r"\d{12}", sub.code) and sub.code.startswith(j.code)):
            problems.append(f"{sub.name}: code {sub.code!r} is not a 12-digit code under {j.code}")
    names = [s.name for s in j.subdivisions] + [c.name for c in j.categories]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        problems.append(f"duplicate names: {sorted(duplicates)}")
    known = {s.name for s in j.subdivisions}
    for rule in j.categories:
        unknown = [name for name, _ in rule.overrides if name not in known]
        if unknown:
            problems.append(f"category {rule.name}: overrides name unknown 街道/镇 {unknown}")
    # The notice must state the periods the retention command applies (bot/store/retention.py).
    for number, unit in ((j.data_retention_years, "年"), (j.unfiled_conversation_days, "天")):
        if number and f"{number}{unit}" not in j.data_retention:
            problems.append(f"data_retention does not state the period {number}{unit}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))


def resolve_place(text: str, jurisdiction: Jurisdiction | None = None) -> PlaceMatch:
    """Place the citizen's description of where the problem arose.

    "文新那边" -> in 文新街道; "西湖区" -> in_unspecified; "余杭区良渚" -> out (杭州市余杭区);
    "宁波市海曙区" -> out (宁波市). An explicit other district or city wins unless our own
    district is named too; bare "西湖"/"西湖边" is ours but names no 街道.
    """
    j = jurisdiction or load_jurisdiction()
    given = normalize_text(text)
    compact = given.replace(" ", "")
    if not compact:
        return PlaceMatch(UNKNOWN, given)
    words = _Text(compact, j.vague_local_places + j.ignored_phrases)
    ours_named = any(words.has(alias) for alias in j.district_aliases)
    outside = _explicit_outside(words, j)
    if outside and not ours_named:
        return _out(given, *outside)
    sub = _find_subdivision(words, j)
    if sub is not None:
        return PlaceMatch(IN, given, subdivision=sub.name, subdivision_code=sub.code or None)
    if ours_named or any(place in compact for place in j.vague_local_places):
        return PlaceMatch(IN_UNSPECIFIED, given)
    outside = _loose_outside(words, j)
    return _out(given, *outside) if outside else PlaceMatch(UNKNOWN, given)


def responsible_unit(
    category: str, place: PlaceMatch, jurisdiction: Jurisdiction | None = None
) -> str:
    """The unit a matter goes to (属地管理、谁主管谁负责).

    out -> the local 信访 body there + "（转送）"; in -> the unit configured for the category
    (per 街道/镇 override first), else the government of the 街道/镇; in_unspecified or
    unknown -> the district 信访局, which assigns it.
    """
    j = jurisdiction or load_jurisdiction()
    if place.status == OUT:
        body = place.responsible_body or j.outside_body_template.format(area=place.outside_area)
        return body + FORWARDED_SUFFIX
    sub = j.subdivision(place.subdivision) if place.status == IN else None
    if sub is None:
        return j.agency
    rule = j.category(category)
    unit = rule.unit_for(sub.name) if rule else None
    return unit or sub.government


def _out(given: str, area: str, body: str) -> PlaceMatch:
    return PlaceMatch(OUT, given, outside_area=area, responsible_body=body)


class _Text:
    """The citizen's words, where a name inside a longer masking phrase does not count
    ("西溪" inside "西溪湿地", "钱塘" inside "钱塘江")."""

    def __init__(self, text: str, masks: tuple[str, ...]) -> None:
        self.text = text
        self._spans = [(m.start(), m.end()) for mask in masks for m in re.finditer(re.escape(mask), text)]

    def find(self, word: str) -> int:
        """Position of the first unmasked occurrence of ``word``, or -1."""
        for match in re.finditer(re.escape(word), self.text):
            start, end = match.span()
            if not any(s <= start and end <= e and e - s > end - start for s, e in self._spans):
                return start
        return -1

    def has(self, word: str) -> bool:
        return self.find(word) >= 0


def _find_subdivision(text: _Text, j: Jurisdiction) -> Subdivision | None:
    """The 街道/镇 named in ``text``: the longest alias, then the one mentioned first."""
    best: tuple[int, int, Subdivision] | None = None
    for sub in j.subdivisions:
        for alias in (sub.name, *sub.aliases):
            position = text.find(alias)
            if position < 0:
                continue
            key = (len(alias), -position)
            if best is None or key > best[:2]:
                best = (*key, sub)
    return best[2] if best else None


def _explicit_outside(text: _Text, j: Jurisdiction) -> tuple[str, str] | None:
    """Another district/county named with its suffix (区/县/市), or another city/province."""
    for area in j.neighbours:
        names = (area.name, *(a for a in area.aliases if a[-1] in "区县市"))
        if any(text.has(name) for name in names):
            return area.name, area.petition_body
    return _other_city(text.text, j, with_suffix=True)


def _loose_outside(text: _Text, j: Jurisdiction) -> tuple[str, str] | None:
    """A neighbour's short or well-known place name, or a city/province without suffix."""
    for area in j.neighbours:
        if any(text.has(alias) for alias in area.aliases):
            return area.name, area.petition_body
    return _other_city(text.text, j, with_suffix=False)


_CITY_MARKERS = frozenset("省在是于到从去,、 ")
_NOT_PLACE_ENDINGS = tuple("超菜夜集门城都股")
_PROVINCE_SUFFIX_RE = re.compile(r"(?:省|(?:壮族|回族|维吾尔)?自治区|特别行政区)$")


def _other_city(text: str, j: Jurisdiction, with_suffix: bool) -> tuple[str, str] | None:
    for city in j.other_cities:
        if city + "市" in text or (not with_suffix and city in text):
            return _outside_city(city + "市", j)
    for province in j.provinces:
        short = _PROVINCE_SUFFIX_RE.sub("", province)
        if province in text or (not with_suffix and short in text):
            return _outside_city(province, j)
    name = _generic_city(text)
    own = (j.city, j.province)
    return _outside_city(name, j) if name and name not in own else None


def _generic_city(text: str) -> str | None:
    """A "X市"/"X县" starting the text or following 在/是/省...; not 超市, 菜市场, 城市..."""
    for i, char in enumerate(text):
        if char not in "市县" or text[i + 1 : i + 2] == "场":
            continue
        for length in (2, 3, 4):
            start = i - length
            if start < 0:
                break
            name = text[start:i]
            before = text[start - 1] if start else ""
            if not all(is_cjk(c) for c in name) or name.endswith(_NOT_PLACE_ENDINGS):
                break
            if not before or before in _CITY_MARKERS or not is_cjk(before):
                return name + char
    return None


def _outside_city(area: str, j: Jurisdiction) -> tuple[str, str]:
    return area, j.outside_body_template.format(area=area)

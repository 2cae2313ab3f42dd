"""排查预警: clusters of petitions that may grow into a group incident.

Staff watch for matters that gather people: several workers of one site, residents of one
小区 or clients of one company petitioning within a few days, a petition that involves many
people (集体访: five or more, 信访工作条例 第20条), or one that announces going somewhere as a
group (gatherings and organised visits are what 第26条 items 1 and 5 forbid; the assistant
warns about them, staff want to know early). Everything here is pure (no database).

Cases are linked into clusters (:func:`find_clusters`):

- same respondent (the rule of ``matching.same_respondent``), whatever they say;
- same 内容分类 and same 街道/镇, and similar facts (``WarningConfig.similarity``);
- similar facts alone, with neither respondent nor place in common, at a higher threshold
  (``WarningConfig.similarity_alone``).

The similarity is ``matching``'s: TF-IDF of what the petitions say happened, fitted on the
cases considered. Connected cases form a cluster; only clusters that raise an alert are
returned. The thresholds are configuration: ``bot/config/early_warning.yml``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from bot.rules.matching import (
    SAME_MATTER_THRESHOLD,
    Matter,
    normalize_respondent,
    normalized_respondents_match,
    similarity_matrix,
    topic_text,
)
from bot.rules.numbers import GROUP_MIN
from bot.rules.procedures import detect_prohibited
from bot.rules.text import normalize_text

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config" / "early_warning.yml"


@dataclass(frozen=True)
class WarningConfig:
    """Thresholds of the early warning (see bot/config/early_warning.yml)."""

    window_days: int = 7
    """A burst is ``min_cases`` cases of one cluster within this many days."""
    min_cases: int = 3
    min_group_size: int = GROUP_MIN
    """A petition involving this many people alerts by itself (集体访)."""
    lookback_days: int = 30
    """Cases created in the last ``lookback_days`` days (today included) are considered; the
    trend covers the same days."""
    similarity: float = SAME_MATTER_THRESHOLD
    """Similar facts that link two cases of the same category and 街道/镇."""
    similarity_alone: float = 0.35
    """Similar facts that link two cases with neither respondent nor place in common."""


_INT_KEYS = {"window_days": 1, "min_cases": 2, "min_group_size": 2, "lookback_days": 1}
_FLOAT_KEYS = ("similarity", "similarity_alone")


def load_warning_config(path: str | Path = DEFAULT_FILE) -> WarningConfig:
    """The WarningConfig of a YAML file; a key the file leaves out keeps its default.

    Raises ValueError naming the file and the key for an unknown key, a value of the wrong
    type or out of range (days and counts are whole numbers of at least 1, ``min_cases`` and
    ``min_group_size`` at least 2, ``lookback_days`` at least ``window_days``, similarities in
    (0, 1] with ``similarity_alone`` at least ``similarity``).
    """
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return _config(data, str(path))


def _config(data: dict[str, Any], source: str) -> WarningConfig:
    known = [f.name for f in fields(WarningConfig)]
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"{source}: unknown setting(s) {unknown}; known settings: {known}")
    problems: list[str] = []
    for key, minimum in _INT_KEYS.items():
        value = data.get(key)
        if key in data and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            problems.append(f"{key} must be a whole number of at least {minimum}, got {value!r}")
    for key in _FLOAT_KEYS:
        value = data.get(key)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if key in data and not (number and 0 < value <= 1):
            problems.append(f"{key} must be a number above 0 and at most 1, got {value!r}")
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    config = WarningConfig(**{key: data[key] for key in known if key in data})
    if config.lookback_days < config.window_days:
        problems.append(f"lookback_days ({config.lookback_days}) must be at least window_days ({config.window_days})")
    if config.similarity_alone < config.similarity:
        problems.append(f"similarity_alone ({config.similarity_alone}) must be at least "
                        f"similarity ({config.similarity})")
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return config


# --- group visits ------------------------------------------------------------------------

# Phrases that contain a word of 第26条 items 1 and 5 without meaning a gathering: traffic jams
# and blocked drains (堵), the 组织部 and 组织人事 (组织 + 人), an impact drill (冲击).
_NOT_GATHERING_RE = re.compile(r"堵车|拥堵|堵塞|冲击钻|党组织|组织(部|人事|关系|生活|架构)")
_SENTENCE = r"[^。！？!?；;，,]"
# What the items lack: going to petition as a group. Signing a joint letter (联名) is not a
# gathering; going to a place together is.
_GROUP_VISIT_RES = (
    re.compile(r"集体(上访|访|信访|走访|去|到|找)"),
    re.compile(r"(一起|一块儿?|一同|一道|结伴|组团|抱团)(上访|信访|走访|讨薪|讨说法|讨个说法|要说法|要个说法)"),
    re.compile(
        rf"(一起|一块儿?|一同|一道|结伴|组团|抱团)(去|到|上|找|进){_SENTENCE}{{0,10}}"
        r"(上访|信访|政府|区里|市里|省里|北京|街道|镇里|门口|讨说法|讨个说法|要说法|讨薪|拉横幅|静坐)"
    ),
)


def mentions_group_visit(text: str | None) -> bool:
    """Whether ``text`` speaks of gathering or going somewhere as a group.

    第26条 item 1 (gathering, banners, blocking gates, stopping vehicles) or item 5 (organising
    or calling up others to petition) as ``procedures.detect_prohibited`` finds them, after
    masking the phrases of _NOT_GATHERING_RE; or going to petition together ("集体上访",
    "明天我们几个工友一起去区政府门口", "大家约好一起上访"). "集体宿舍", "集体供暖", "一起吃饭" and
    a joint letter (联名) are not.
    """
    normalized = normalize_text(text).replace(" ", "")
    if not normalized:
        return False
    masked = _NOT_GATHERING_RE.sub("。", normalized)
    if {1, 5} & set(detect_prohibited(masked)):
        return True
    return any(pattern.search(masked) for pattern in _GROUP_VISIT_RES)


# --- clusters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseLite:
    """What the early warning needs of a case."""

    id: int
    case_no: str
    created_on: date
    category: str
    respondent: str | None
    location_division: str | None
    location_text: str
    facts: str
    request: str
    group_size: int
    responsible_unit: str
    person_key: str | None = None
    """An opaque key of the petitioner, to count distinct people (None: unknown)."""

    @property
    def matter(self) -> Matter:
        return Matter(self.category, self.respondent, self.location_division, self.location_text,
                      self.facts, self.request)


BURST = "{window_days}日内{min_cases}件及以上"
GROUP = "涉及{min_group_size}人及以上"
GROUP_VISIT = "提到集体走访或聚集"
UNKNOWN_PLACE = "属地未明确"


@dataclass(frozen=True)
class Cluster:
    """Linked cases that raise an alert.

    ``key`` is the case_no of the earliest case (created_on, then id): it stays the same while
    newer cases join; it changes only when the earliest case leaves the lookback period or an
    older case becomes linked. ``reasons`` are the Chinese labels of the alert rules met (BURST,
    GROUP, GROUP_VISIT with the configured numbers). ``label`` is the respondent the cases share
    (its most frequent wording), else "街道/镇·内容分类" of the most frequent place and category.
    ``cases_in_window`` is the largest number of its cases within window_days days that counts
    for the burst rule (0 when none of its cases is that recent). ``people`` estimates the
    people involved: each petitioner's largest group_size summed (cases without a person_key
    count on their own), or the number of distinct petitioners if that is larger; when every
    petitioner of one group states the group's whole size it counts the group more than once.
    ``persons`` is the number of distinct person_keys; ``units`` the responsible units in the
    order they first appear; ``trend`` the number of the cluster's cases on each day of the
    lookback period, oldest first, ending today.
    """

    key: str
    case_ids: list[int]
    case_nos: list[str]
    reasons: list[str]
    label: str
    first_on: date
    last_on: date
    cases_in_window: int
    people: int
    persons: int
    units: list[str]
    trend: list[tuple[date, int]]


def find_clusters(cases: Sequence[CaseLite], today: date, config: WarningConfig | None = None) -> list[Cluster]:
    """The alerting clusters among ``cases``, most recent activity first (last_on, then key).

    Cases created in (today - lookback_days, today] are considered; later or older ones are
    ignored. A cluster alerts when

    (a) a burst: some case of the cluster created in the last window_days days (today
        included) has, counting itself, at least min_cases cases of the cluster created in the
        window_days days that end on its day. So a burst alerts from the day its min_cases-th
        case arrives until window_days days after its last case: with the defaults, cases on
        the 1st, 2nd and 3rd of a month alert from the 3rd to the 9th, not on the 10th;
    (b) any of its cases involves at least min_group_size people;
    (c) any of its cases mentions a group visit or gathering (:func:`mentions_group_visit`).

    (b) and (c) hold for a single case too (a cluster of one).
    """
    config = config or WarningConfig()
    start = today - timedelta(days=config.lookback_days)
    considered = sorted((c for c in cases if start < c.created_on <= today), key=lambda c: (c.created_on, c.id))
    if not considered:
        return []
    parents = list(range(len(considered)))

    def root(i: int) -> int:
        while parents[i] != i:
            parents[i] = parents[parents[i]]
            i = parents[i]
        return i

    for i, j in _links(considered, config):
        a, b = root(i), root(j)
        if a != b:
            parents[max(a, b)] = min(a, b)
    groups: dict[int, list[CaseLite]] = {}
    for index, case in enumerate(considered):
        groups.setdefault(root(index), []).append(case)
    clusters = [cluster for group in groups.values() if (cluster := _alert(group, today, config))]
    clusters.sort(key=lambda c: c.key)
    clusters.sort(key=lambda c: c.last_on, reverse=True)
    return clusters


def _links(cases: list[CaseLite], config: WarningConfig) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of linked cases."""
    names = [normalize_respondent(c.respondent) for c in cases]
    similarity = similarity_matrix([topic_text(c.matter) for c in cases]) if len(cases) > 1 else np.ones((1, 1))
    links = []
    for i, a in enumerate(cases):
        for j in range(i + 1, len(cases)):
            b = cases[j]
            score = similarity[i, j]
            same_place_category = (bool(a.location_division) and a.location_division == b.location_division
                                   and a.category == b.category)
            if (normalized_respondents_match(names[i], names[j])
                    or (same_place_category and score >= config.similarity)
                    or score >= config.similarity_alone):
                links.append((i, j))
    return links


def _alert(group: list[CaseLite], today: date, config: WarningConfig) -> Cluster | None:
    in_window = _cases_in_window(group, today, config.window_days)
    reasons = []
    if in_window >= config.min_cases:
        reasons.append(BURST.format(window_days=config.window_days, min_cases=config.min_cases))
    if any(c.group_size >= config.min_group_size for c in group):
        reasons.append(GROUP.format(min_group_size=config.min_group_size))
    if any(mentions_group_visit(f"{c.facts}。{c.request}") for c in group):
        reasons.append(GROUP_VISIT)
    if not reasons:
        return None
    per_day = Counter(c.created_on for c in group)
    days = [today - timedelta(days=back) for back in range(config.lookback_days - 1, -1, -1)]
    return Cluster(
        key=group[0].case_no,
        case_ids=[c.id for c in group],
        case_nos=[c.case_no for c in group],
        reasons=reasons,
        label=_label(group),
        first_on=group[0].created_on,
        last_on=group[-1].created_on,
        cases_in_window=in_window,
        people=_people(group),
        persons=len({c.person_key for c in group if c.person_key}),
        units=list(dict.fromkeys(c.responsible_unit for c in group if c.responsible_unit)),
        trend=[(day, per_day.get(day, 0)) for day in days],
    )


def _cases_in_window(group: list[CaseLite], today: date, window_days: int) -> int:
    """The most cases of ``group`` within the window_days days ending on the day of one of its
    cases created in the last window_days days; 0 when there is no such case."""
    recent_from = today - timedelta(days=window_days)
    best = 0
    for case in group:
        if case.created_on > recent_from:
            window_from = case.created_on - timedelta(days=window_days)
            best = max(best, sum(1 for c in group if window_from < c.created_on <= case.created_on))
    return best


def _people(group: list[CaseLite]) -> int:
    largest: dict[object, int] = {}
    for case in group:
        key = case.person_key or ("case", case.id)
        largest[key] = max(largest.get(key, 0), max(case.group_size, 1))
    persons = len({c.person_key for c in group if c.person_key})
    return max(sum(largest.values()), persons)


def _label(group: list[CaseLite]) -> str:
    # respondents that name someone in particular (not empty, not "物业公司" or "包工头")
    named = [name for name in ((c.respondent or "").strip() for c in group)
             if normalized_respondents_match(normalize_respondent(name), normalize_respondent(name))]
    if named:
        first = normalize_respondent(named[0])
        if all(normalized_respondents_match(first, normalize_respondent(name)) for name in named):
            return Counter(named).most_common(1)[0][0]
    place = _most_common([c.location_division for c in group]) or UNKNOWN_PLACE
    category = _most_common([c.category for c in group]) or ""
    return f"{place}·{category}" if category else place


def _most_common(values: list[str | None]) -> str | None:
    """The most frequent non-empty value; the earliest of equally frequent ones."""
    counts = Counter(v for v in values if v)
    return max(counts, key=lambda v: (counts[v], -values.index(v))) if counts else None

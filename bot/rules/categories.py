"""内容分类 (content categories), 信访目的 (purpose) and the 涉法涉诉 cue.

Categories, their keywords and aliases come from the jurisdiction configuration so that a
deployment can adapt them without code changes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.rules.jurisdiction import CategoryRule, load_jurisdiction
from bot.rules.text import normalize_text

PURPOSES = ["求决", "申诉", "意见建议", "揭发控告", "咨询", "其他"]
DEFAULT_PURPOSE = "求决"

# Cue words per purpose; ties are broken by this order (the more specific purpose first).
_PURPOSE_CUES: dict[str, tuple[str, ...]] = {
    "揭发控告": ("举报", "揭发", "控告", "检举", "贪污", "受贿", "腐败", "行贿", "违纪", "以权谋私"),
    "申诉": ("申诉", "不服", "冤枉", "冤案", "不公", "不公正", "错判", "处分不当", "撤销处分",
             "复查", "复核", "重新处理", "纠正"),
    "求决": ("要求", "解决", "讨要", "支付", "赔偿", "补偿", "退还", "退款", "帮忙", "帮我", "处理一下"),
    "意见建议": ("建议", "提议", "呼吁", "希望能够", "能不能增加", "意见"),
    "咨询": ("请问", "咨询", "想问", "问一下", "问问", "怎么办理", "如何办理", "怎么申请",
             "是否可以", "有没有规定", "需要什么材料", "多少", "?"),
}

_LITIGATION_RE = re.compile(
    "法院|判决|裁定书|裁定|起诉|诉讼|上诉|再审|申诉到|强制执行|申请执行|执行庭|执行局|"
    "仲裁|行政复议|复议|检察院|检察官|公安机关|派出所不|不予立案|不立案|立案|开庭|打官司|"
    "官司|判了|判得|刑事案件|民事案件|调解书|裁决书|判决书"
)


PATTERN_WEIGHT = 6
"""Weight of a phrasing pattern: more than a long keyword, as a phrase is more specific."""


@lru_cache(maxsize=None)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _rules() -> tuple[CategoryRule, ...]:
    return load_jurisdiction().categories


def category_names() -> list[str]:
    """Category names in configuration order."""
    return [rule.name for rule in _rules()]


def infer_categories(text: str, top: int = 3) -> list[tuple[str, float]]:
    """Categories suggested by ``text``, best first, with a score in (0, 1].

    Each matching keyword or alias adds its length (longer words are more specific);
    each matching phrasing pattern adds PATTERN_WEIGHT; scores are shares of the total.
    ``[]`` when nothing matches.
    """
    normalized = normalize_text(text)
    raw: list[tuple[str, int]] = []
    for rule in _rules():
        words = set(rule.keywords) | set(rule.aliases) | {rule.name}
        score = sum(len(word) for word in _non_overlapping(normalized, words))
        score += PATTERN_WEIGHT * sum(1 for pattern in _compiled(rule.patterns) if pattern.search(normalized))
        if score:
            raw.append((rule.name, score))
    total = sum(score for _, score in raw)
    ranked = sorted(raw, key=lambda item: -item[1])  # stable: config order on ties
    return [(name, round(score / total, 3)) for name, score in ranked[: max(top, 0)]]


def match_category_answer(text: str) -> str | None:
    """The category a short answer names: "劳动方面的", "社保", "欠薪" -> "劳动和社会保障".

    A category name or alias wins (the longest one); otherwise keywords are scored and
    the category must clearly lead. Words are claimed longest first, so "社会组织" is a
    民政 keyword rather than the alias "组织". ``None`` when unclear.
    """
    normalized = normalize_text(text).replace(" ", "")
    owners: dict[str, tuple[str, bool]] = {}
    for rule in reversed(_rules()):  # earlier categories win duplicated words
        for word in rule.keywords:
            owners[word] = (rule.name, False)
        for word in (rule.name, *rule.aliases):
            owners[word] = (rule.name, True)
    found = _non_overlapping(normalized, set(owners))
    named = [word for word in found if owners[word][1]]
    if named:
        return owners[max(named, key=len)][0]
    scores: dict[str, int] = {}
    for word in found:
        scores[owners[word][0]] = scores.get(owners[word][0], 0) + len(word)
    ranked = sorted(scores.values(), reverse=True)
    if ranked and (len(ranked) == 1 or ranked[0] > ranked[1]):
        return max(scores, key=lambda name: scores[name])
    return None


def infer_purpose(text: str) -> str:
    """The 信访目的 suggested by ``text``; 求决 when nothing points elsewhere."""
    normalized = normalize_text(text)
    scores = {
        purpose: sum(1 for cue in cues if cue in normalized) for purpose, cues in _PURPOSE_CUES.items()
    }
    best = max(scores.items(), key=lambda item: item[1])  # first of equal scores wins
    return best[0] if best[1] else DEFAULT_PURPOSE


def is_litigation_related(text: str) -> bool:
    """Whether ``text`` mentions courts, judgments, suits, enforcement, arbitration or
    administrative reconsideration (涉法涉诉: 诉访分离, 条例 第22条、第31条)."""
    return bool(_LITIGATION_RE.search(normalize_text(text)))


def _non_overlapping(text: str, words: set[str]) -> list[str]:
    """Words found in ``text``, longest first, each text position counted once."""
    taken = [False] * len(text)
    found: list[str] = []
    for word in sorted(words, key=len, reverse=True):
        start = text.find(word)
        while start != -1:
            span = range(start, start + len(word))
            if not any(taken[i] for i in span):
                for i in span:
                    taken[i] = True
                found.append(word)
                break
            start = text.find(word, start + 1)
    return found

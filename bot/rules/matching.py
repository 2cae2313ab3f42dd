"""Whether a new petition is the same matter (同一信访事项) as an earlier one.

A matter that has been accepted or is being handled is not accepted again at a higher level
(信访工作条例 第19条), and after 复核 the same facts and reasons are not accepted again (第36条);
staff also count 初信初访 and 重复信访 apart (DOMAIN §9). People tell the same matter in their
own words each time, so the comparison is fuzzy and has two parts:

1. a gate: the two petitions name the same respondent (被反映人/单位, compared loosely, see
   :func:`same_respondent`), or they have the same 内容分类 and the same 街道/镇. Without the
   gate two petitions are never the same matter, however alike their words;
2. the similarity of what they say happened (:func:`topic_text`: facts and request without
   the petition's own place and respondent, which the gate compares): TF-IDF over jieba words
   and over characters and character bigrams (:func:`similarity_matrix`). Amounts and dates
   written in Chinese numerals become digits first, so that "三万八", "38000元" and "3.8万" are
   one word.

Petitions that pass the gate and whose similarity reaches SAME_MATTER_THRESHOLD are the same
matter. Everything here is pure (no database) and deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import cn2an
import jieba
import numpy as np
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.text import is_cjk, normalize_text

SAME_MATTER_THRESHOLD = 0.115
"""Lowest similarity (0-1) of two gated petitions that are the same matter.

Chosen with `python -m bench.matching` on tests/data/same_matter.yml (every pair; each petition
compared with those before it). F1 is flat there at about 0.91 from 0.105 to 0.135: below,
precision falls fast (gated petitions of another matter: same company or same place, another
problem); above, recall does (one matter told with few words in common). Precision and recall
both reach 0.9 only at 0.115 (0.914 and 0.909; at 0.11 precision is 0.896, at 0.12 recall
0.898). Over five draws of the set's generator (its seed and four others) the mean F1 is 0.90
from 0.115 to 0.14, and at 0.115 precision is 0.85-0.91 and recall 0.90-0.93: the 0.9 mark is
met on this set, not with a margin.
"""

RESPONDENT_MIN_SCORE = 80
"""Lowest rapidfuzz ``fuzz.ratio`` (0-100) of two normalized respondents that are the same.

"宏达建筑工程" / "宏达建筑" scores 80 and "绿苑物业服务" / "绿苑物业" 80; "宏达物业" / "宏达建筑" 50
and "宏达建筑" / "宏远建筑" 75 do not reach it.
"""

RESPONDENT_CONTAINED_MIN = 4
"""A normalized respondent of at least this many characters found inside the other one is the
same respondent ("夜色酒吧" in "文三路夜色酒吧", "力健健身" in "力健健身古荡店")."""

WORD_WEIGHT = 0.5
"""Share of the word TF-IDF cosine in the similarity; the rest is the character n-gram cosine.
Words carry the meaning; characters survive segmentation errors and variant wordings ("坑" in
"大坑" and "全是坑")."""

CHAR_NGRAMS = (1, 2)
"""Character n-gram lengths of the character part of the similarity."""

# Legal-form endings dropped from a respondent, longest first.
_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团", "公司")
# Names that designate nobody in particular once normalized: never the same respondent.
_GENERIC_RESPONDENTS = frozenset({
    "政府", "街道", "街道办", "街道办事处", "社区", "居委会", "村委会", "物业", "开发商", "老板",
    "包工头", "房东", "施工单位", "施工方", "工地", "商家", "单位", "公司",
})
_BRACKETS_RE = re.compile(r"[(\[【（][^)\]】）]*[)\]】）]")
_NOT_NAME_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


def place_prefixes() -> tuple[str, ...]:
    """Place names some people write before a respondent's name and others leave out: the
    province, city and district of the jurisdiction (bot/config/jurisdiction.yml), with and
    without 省/市 ("浙江省", "浙江", "杭州市", "杭州", "杭州市西湖区", "西湖区"), longest first."""
    j = load_jurisdiction()
    names = {j.name, j.short_name, j.province, j.city, j.province.removesuffix("省"), j.city.removesuffix("市")}
    return tuple(sorted((n for n in names if len(n) > 1), key=len, reverse=True))


def normalize_respondent(text: str | None) -> str:
    """A comparable form of a 被反映人/单位.

    NFKC (normalize_text), lower case, bracketed parts and every character that is not a
    letter, digit or Chinese character dropped; then leading place names (:func:`place_prefixes`)
    and legal-form endings (_LEGAL_SUFFIXES) are dropped, as long as two characters remain:
    "杭州宏达建筑工程有限公司" -> "宏达建筑工程", "宏达建筑公司" -> "宏达建筑".
    """
    name = _BRACKETS_RE.sub("", normalize_text(text).lower())
    name = _NOT_NAME_RE.sub("", name)
    prefixes = place_prefixes()
    changed = True
    while changed:
        changed = False
        for prefix in prefixes:
            if name.startswith(prefix) and len(name) - len(prefix) >= 2:
                name, changed = name[len(prefix):], True
                break
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                name, changed = name[: -len(suffix)], True
                break
    return name


def same_respondent(a: str | None, b: str | None) -> bool:
    """Whether two respondents designate the same person or body.

    Their normalized forms (:func:`normalize_respondent`) are compared with rapidfuzz: a ratio
    of at least RESPONDENT_MIN_SCORE, or the shorter one (RESPONDENT_CONTAINED_MIN characters
    or more) inside the longer one. "杭州某某建筑工程有限公司", "某某建筑公司" and "某某建筑" are the
    same; "某某物业" and "某某建筑" are not. An empty respondent, or a generic one ("物业公司",
    "开发商", "街道办事处"), is never the same as anything.
    """
    return normalized_respondents_match(normalize_respondent(a), normalize_respondent(b))


def normalized_respondents_match(x: str, y: str) -> bool:
    """:func:`same_respondent` for names already normalized (comparing many names pairwise)."""
    if not x or not y or x in _GENERIC_RESPONDENTS or y in _GENERIC_RESPONDENTS:
        return False
    if x == y:
        return True
    shorter, longer = sorted((x, y), key=len)
    if len(shorter) >= RESPONDENT_CONTAINED_MIN and shorter in longer:
        return True
    return fuzz.ratio(x, y) >= RESPONDENT_MIN_SCORE


# --- text similarity ---------------------------------------------------------------------

# Words that occur in petitions whatever they are about. Kept short on purpose: TF-IDF already
# weighs down words that every petition of the candidates uses.
STOP_WORDS = frozenset({
    "我们", "你们", "他们", "她们", "我家", "自己", "这个", "那个", "这些", "那些", "这样", "那样",
    "什么", "怎么", "一个", "一些", "一直", "已经", "现在", "还是", "就是", "但是", "可是", "因为",
    "所以", "如果", "而且", "以后", "之前", "时候", "没有", "不是", "可以", "需要", "觉得", "知道",
    "您好", "你好", "领导", "尊敬", "麻烦", "谢谢", "反映", "问题", "情况", "事情", "希望", "要求",
    "请求", "请", "相关", "有关", "部门", "处理", "解决", "尽快", "帮忙", "帮", "一下",
})
# Characters that carry no topic on their own (particles, pronouns, prepositions, measure words).
FUNCTION_CHARS = frozenset("的了着过吗呢吧啊呀嘛哦哈么我你他她它们这那就都也还又再才和与及或把被让给对从向往在而但很太更最只个些等该其之所以为于是有不没要会能说去来到")

# A run of Chinese numerals. With a magnitude (十百千万亿) it is a number wherever it stands
# ("三万八", "二十"); digits alone only before a unit ("三月", "五天", "两套"), so that "一直"
# or "三墩" stay words.
_CN_NUMBER_RE = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_CN_MAGNITUDE = frozenset("十百千万亿")
_CN_UNITS = frozenset("元块万千月日号年个天户人次套间层楼幢栋岁亩周平米分毛角点时")
_ARABIC_WAN_RE = re.compile(r"\d+(?:\.\d+)?万(?:\d千?\d?)?")  # "3.8万", "3万8", "1万2千5"
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
# "两块六", "2块6毛": 2.6 yuan (the digit after 块 is tenths)
_KUAI_RE = re.compile(r"([0-9零〇一二两三四五六七八九十百千]+)块([1-9一二三四五六七八九])毛?(?![0-9零〇一二两三四五六七八九十百千万.])")
_YUAN_RE = re.compile(r"(?<=\d)块钱?")


def canonical_numbers(text: str) -> str:
    """Amounts and dates with Chinese numerals or 万 written as plain Arabic numbers.

    "三万八" -> "38000", "3.8万元" -> "38000元", "3万8" -> "38000", "38,000元" -> "38000元",
    "三月十五号" -> "3月15号", "两块六" -> "2.6元", "300块钱" -> "300元";
    the numerals are read by cn2an (as bot/rules/numbers.py does); a run cn2an cannot read is
    left as it is.
    """
    text = _THOUSANDS_RE.sub("", text)
    text = _KUAI_RE.sub(_kuai, text)

    def chinese(match: re.Match[str]) -> str:
        token = match.group(0)
        following = text[match.end(): match.end() + 1]
        if not (_CN_MAGNITUDE & set(token)) and following not in _CN_UNITS:
            return token
        if token[0] in "十百千万亿" and token[0] != "十":
            return token  # "万一", "千万": not a number here
        value = _read_number(token)
        return token if value is None else value

    text = _CN_NUMBER_RE.sub(chinese, text)
    text = _ARABIC_WAN_RE.sub(lambda m: _read_number(m.group(0)) or m.group(0), text)
    return _YUAN_RE.sub("元", text)


def _kuai(match: re.Match[str]) -> str:
    yuan, tenths = _read_number(match.group(1)), _read_number(match.group(2))
    return f"{yuan}.{tenths}元" if yuan and tenths else match.group(0)


def _read_number(token: str) -> str | None:
    try:
        value = cn2an.cn2an(token, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


def _prepared(text: str) -> str:
    """The text compared: normalized, numbers made canonical, lower case."""
    return canonical_numbers(normalize_text(text)).lower()


@lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    """A jieba tokenizer of its own with the default dictionary, so that a user dictionary
    another component loads into the global one does not change the scores."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` that count for similarity: normalized and cut by jieba, without
    punctuation, STOP_WORDS and single FUNCTION_CHARS."""
    kept = []
    for token in _segmenter().lcut(_prepared(text)):
        token = token.strip()
        if not token or token in STOP_WORDS or token in FUNCTION_CHARS:
            continue
        if not any(is_cjk(c) or c.isalnum() for c in token):
            continue
        kept.append(token)
    return tuple(kept)


@lru_cache(maxsize=4096)
def char_grams(text: str) -> tuple[str, ...]:
    """The character n-grams (lengths CHAR_NGRAMS) of ``text``, normalized, inside runs of
    Chinese characters, letters and digits: none spans punctuation or a blank. Function
    characters are kept: they are part of real bigrams ("没发", "不给")."""
    prepared = _prepared(text)
    runs = "".join(c if (is_cjk(c) or c.isalnum()) else " " for c in prepared).split()
    low, high = CHAR_NGRAMS
    return tuple(run[i:i + n] for run in runs for n in range(low, high + 1) for i in range(len(run) - n + 1))


def similarity_matrix(texts: Sequence[str]) -> np.ndarray:
    """Cosine similarity (0-1) of every pair of ``texts`` as a square array.

    The TF-IDF weights are fitted on ``texts`` themselves (the caller passes a new petition and
    its candidates): WORD_WEIGHT times the cosine over :func:`words` plus the rest times the
    cosine over :func:`char_grams`. An empty text is similar to nothing (0, also to itself).
    """
    n = len(texts)
    if n == 0:
        return np.zeros((0, 0))
    word_part = _cosine(TfidfVectorizer(analyzer=words, sublinear_tf=True), list(texts))
    char_part = _cosine(TfidfVectorizer(analyzer=char_grams, sublinear_tf=True), list(texts))
    return np.clip(WORD_WEIGHT * word_part + (1 - WORD_WEIGHT) * char_part, 0.0, 1.0)


def _cosine(vectorizer: TfidfVectorizer, docs: list[str]) -> np.ndarray:
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # no word at all in any document
        return np.zeros((len(docs), len(docs)))
    return (matrix @ matrix.T).toarray()  # rows are L2-normalized


# --- same matter -------------------------------------------------------------------------


@dataclass(frozen=True)
class Matter:
    """What a petition is about, as far as matching needs it."""

    category: str
    respondent: str | None
    location_division: str | None
    location_text: str
    facts: str
    request: str

    @property
    def text(self) -> str:
        """Facts, then request."""
        return f"{self.facts}\n{self.request}".strip()


@lru_cache(maxsize=4096)
def topic_text(matter: Matter) -> str:
    """What the petition says happened: its facts and request with its own place
    (location_text, 街道/镇) and respondent (as given and normalized) blanked out where the text
    repeats them.

    The gate already compares who and where. Petitions against one 物业 company in one 小区 (a
    broken elevator, a fee rise) would otherwise look alike because each repeats the company's
    and the 小区's names. A blank stops character n-grams from spanning the gap; other mentions
    ("那家酒吧" beside "夜色酒吧") stay.
    """
    text = _prepared(matter.text)
    names = (matter.location_text, matter.location_division, matter.respondent, normalize_respondent(matter.respondent))
    for name in sorted({_prepared(n) for n in names if n}, key=len, reverse=True):
        if len(name) > 1:
            text = text.replace(name, " ")
    return text


SAME_RESPONDENT = "同一被反映人"
SAME_PLACE_CATEGORY = "同一属地、同类问题"


@dataclass(frozen=True)
class MatchResult:
    """An earlier petition of the candidates: its index, the similarity and why it was
    compared (``reason``: SAME_RESPONDENT or SAME_PLACE_CATEGORY; empty when the gate failed,
    then ``score`` is 0)."""

    index: int
    score: float
    reason: str

    @property
    def same(self) -> bool:
        return bool(self.reason) and self.score >= SAME_MATTER_THRESHOLD


def gate(a: Matter, b: Matter) -> str:
    """Why two petitions may be the same matter (SAME_RESPONDENT, SAME_PLACE_CATEGORY), or ""."""
    if same_respondent(a.respondent, b.respondent):
        return SAME_RESPONDENT
    if a.location_division and a.location_division == b.location_division and a.category == b.category:
        return SAME_PLACE_CATEGORY
    return ""


def match(new: Matter, earlier: Sequence[Matter]) -> list[MatchResult]:
    """One MatchResult per earlier petition, in the order given.

    The similarity of the :func:`topic_text` is fitted on the new petition and all of
    ``earlier``; it only counts for the petitions that pass the gate.
    """
    if not earlier:
        return []
    similarity = similarity_matrix([topic_text(new), *(topic_text(m) for m in earlier)])[0, 1:]
    results = []
    for index, (other, score) in enumerate(zip(earlier, similarity)):
        reason = gate(new, other)
        results.append(MatchResult(index, round(float(score), 4) if reason else 0.0, reason))
    return results


def same_matter_scores(new: Matter, earlier: Sequence[Matter]) -> list[float]:
    """The similarity of ``new`` to each earlier petition; 0 where the gate fails."""
    return [result.score for result in match(new, earlier)]


def same_matter(new: Matter, earlier: Sequence[Matter]) -> list[bool]:
    """Whether ``new`` is the same matter as each earlier petition (gate and threshold)."""
    return [result.same for result in match(new, earlier)]

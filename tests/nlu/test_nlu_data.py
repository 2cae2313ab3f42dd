"""Consistency of the NLU training data, the held-out test set and the jieba user dictionary.

These run without a trained model: they check what the data promises to the classifier and to
the regex entity extractor (every ID number, mobile number and case number that the regexes in
data/nlu/regex.yml match is annotated with that entity, and nothing else is annotated), the
minimum number of examples per intent, that no example is shared between intents, that neither
held-out set (heldout.yml, faq_heldout.yml) holds a copy or a near copy of a training example
(normalised Levenshtein distance, see NEAR_COPY), and that the jieba dictionary knows every
街道/镇 of the jurisdiction.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[2]
TRAINING_FILES = sorted((ROOT / "data" / "nlu").glob("*.yml"))
HELDOUT_FILE = ROOT / "tests" / "nlu" / "heldout.yml"
FAQ_HELDOUT_FILE = ROOT / "tests" / "nlu" / "faq_heldout.yml"
JIEBA_DICT = ROOT / "dictionaries" / "jieba" / "xinfang.txt"
JURISDICTION = ROOT / "bot" / "config" / "jurisdiction.yml"

MIN_TRAINING = {
    "greet": 30,
    "goodbye": 25,
    "thank": 25,
    "affirm": 40,
    "deny": 40,
    "file_petition": 120,
    "query_status": 40,
    "inform": 120,
    "correct": 40,
    "cancel": 40,
    "retry_submit": 25,
    "continue_petition": 25,
    # policy answers and lawful procedures
    "emergency": 30,
    "procedure_litigation": 25,
    "procedure_arbitration": 20,
    "procedure_admin_review": 20,
    "procedure_discipline": 25,
    "procedure_service": 20,
    "visit_escalation": 20,
    "prohibited_action": 20,
    "ask_jurisdiction": 20,
    "request_human": 20,
    "bot_identity": 15,
    "ask_official": 15,
    "insult": 15,
    "out_of_scope": 15,
    "data_request": 15,
    "ask_rating": 12,
    "ask_reception": 15,
    # the retrieval intent: every answer (faq/<key>) separately, see MIN_FAQ_PARAPHRASES
    "faq": 400,
}
MIN_HELDOUT = 8
# Policy answers: at least 40, each with at least 8 training paraphrases and 3
# held-out ones (tests/nlu/faq_heldout.yml).
MIN_FAQ_ANSWERS = 40
MIN_FAQ_PARAPHRASES = 8
MIN_FAQ_HELDOUT = 3
REGEX_ENTITIES = {"id_number", "phone", "case_no"}
# Two sentences are near copies when, after normalized(), one becomes the other with at most one
# edit (insertion, deletion or substitution of a character) in five: "查询码弄丢了怎么办" and
# "查询码丢了怎么办" are, "复核去哪里申请" and "如何申请复核" are not. A held-out sentence
# that is a near copy of a training one measures memory, not understanding.
NEAR_COPY = 0.2

# Rasa's short annotation form: [text](entity)
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<entity>[^)]+)\)")


class Example(NamedTuple):
    source: str
    intent: str
    text: str  # plain text, annotations removed
    entities: frozenset[tuple[int, int, str]]  # (start, end, entity) in the plain text


def parse_annotations(raw: str) -> tuple[str, frozenset[tuple[int, int, str]]]:
    plain, entities, pos = [], set(), 0
    for match in ANNOTATION.finditer(raw):
        plain.append(raw[pos : match.start()])
        start = sum(len(p) for p in plain)
        plain.append(match["text"])
        entities.add((start, start + len(match["text"]), match["entity"]))
        pos = match.end()
    plain.append(raw[pos:])
    return "".join(plain), frozenset(entities)


def load_examples(path: Path) -> list[Example]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in doc.get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if not line:
                continue
            assert line.startswith("- "), f"{path.name}: not a list item: {line!r}"
            text, entities = parse_annotations(line[2:].strip())
            examples.append(Example(path.name, block["intent"], text, entities))
    return examples


def load_regexes() -> dict[str, re.Pattern[str]]:
    doc = yaml.safe_load((ROOT / "data" / "nlu" / "regex.yml").read_text(encoding="utf-8"))
    patterns = {}
    for block in doc["nlu"]:
        if "regex" in block:
            [pattern] = [line.strip()[2:] for line in block["examples"].splitlines() if line.strip()]
            # config.yml: RegexEntityExtractor with case_sensitive: false
            patterns[block["regex"]] = re.compile(pattern, re.IGNORECASE)
    return patterns


TRAINING = [e for path in TRAINING_FILES for e in load_examples(path)]
HELDOUT = load_examples(HELDOUT_FILE)
FAQ_HELDOUT = load_examples(FAQ_HELDOUT_FILE)


def base_intent(intent: str) -> str:
    """"faq/review" -> "faq" (the intent the classifier predicts for a retrieval intent)."""
    return intent.split("/", 1)[0]


def normalized(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s,，。.!！?？、:：;；~～·]+", "", text)


def id_check_char(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


@pytest.mark.parametrize("path", [*TRAINING_FILES, HELDOUT_FILE, FAQ_HELDOUT_FILE], ids=lambda p: p.name)
def test_every_file_is_rasa_nlu_yaml(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["version"] == "3.1"
    assert isinstance(doc["nlu"], list) and doc["nlu"]
    assert set(doc) == {"version", "nlu"}, "only NLU data belongs here"


def test_regexes_are_the_three_entities() -> None:
    assert set(load_regexes()) == REGEX_ENTITIES


def test_regexes_need_no_word_boundaries() -> None:
    patterns = load_regexes()
    text = "我的身份证11010519491231002x电话13812345678编号XF2026000123查询"
    assert patterns["id_number"].search(text)[0] == "11010519491231002x"
    assert patterns["phone"].search(text)[0] == "13812345678"
    assert patterns["case_no"].search(text)[0] == "XF2026000123"
    # neither a mobile inside a longer digit run nor an ID inside a longer one
    assert not patterns["phone"].search("8613812345678")
    assert not patterns["id_number"].search("111010519491231002X")


@pytest.mark.parametrize(("intent", "minimum"), MIN_TRAINING.items())
def test_enough_training_examples(intent: str, minimum: int) -> None:
    count = sum(1 for e in TRAINING if base_intent(e.intent) == intent)
    assert count >= minimum, f"{intent}: {count} < {minimum}"


def test_heldout_covers_every_intent() -> None:
    counts = Counter(base_intent(e.intent) for e in HELDOUT)
    assert set(counts) == set(MIN_TRAINING)
    assert {i: c for i, c in counts.items() if c < MIN_HELDOUT} == {}


def test_no_unknown_intents_in_training() -> None:
    assert {base_intent(e.intent) for e in TRAINING} == set(MIN_TRAINING)


def faq_keys(examples: list[Example]) -> Counter:
    return Counter(e.intent for e in examples if e.intent.startswith("faq/"))


def test_enough_policy_answers_with_enough_paraphrases() -> None:
    counts = faq_keys(TRAINING)
    assert len(counts) >= MIN_FAQ_ANSWERS
    assert {k: c for k, c in counts.items() if c < MIN_FAQ_PARAPHRASES} == {}


def test_faq_heldout_covers_every_answer() -> None:
    heldout = faq_keys(FAQ_HELDOUT)
    assert set(heldout) == set(faq_keys(TRAINING))
    assert {k: c for k, c in heldout.items() if c < MIN_FAQ_HELDOUT} == {}
    assert {e.intent for e in FAQ_HELDOUT} == set(heldout), "only policy questions belong there"


def test_policy_questions_read_as_questions() -> None:
    """A message classified as a policy question interrupts a story answer of the petition form
    only when it asks something (bot.rules.petition.is_question): every held-out paraphrase and
    all but a few training paraphrases must read as questions, or citizens asking them in the
    middle of the form would have their question taken as their answer."""
    from bot.rules.petition import is_question

    assert [e.text for e in FAQ_HELDOUT if not is_question(e.text)] == []
    statements = [e.text for e in TRAINING if e.intent.startswith("faq/") and not is_question(e.text)]
    faq_training = sum(faq_keys(TRAINING).values())
    assert len(statements) <= faq_training // 100, statements


def test_faq_heldout_is_never_trained_on() -> None:
    seen = {normalized(e.text) for e in TRAINING + HELDOUT}
    assert [e.text for e in FAQ_HELDOUT if normalized(e.text) in seen] == []
    counts = Counter(normalized(e.text) for e in FAQ_HELDOUT)
    assert [t for t, c in counts.items() if c > 1] == []


def near_copies(examples: list[Example], against: list[Example]) -> list[tuple[str, str, str, float]]:
    """(text, its near copy in ``against``, that example's intent, distance) for every example
    within NEAR_COPY of one in ``against`` (normalised Levenshtein distance, 0 = identical)."""
    choices = [normalized(e.text) for e in against]
    found = []
    for example in examples:
        match = process.extractOne(
            normalized(example.text), choices, scorer=Levenshtein.normalized_distance, score_cutoff=NEAR_COPY
        )
        if match is not None:
            _, distance, index = match
            found.append((example.text, against[index].text, against[index].intent, round(distance, 2)))
    return found


def test_near_copy_measure() -> None:
    def pair(a: str, b: str) -> list:
        return near_copies([Example("a", "x", a, frozenset())], [Example("b", "x", b, frozenset())])

    assert pair("查询码弄丢了怎么办", "查询码丢了怎么办")
    assert pair("复核要多少天内提出？", "复核要在多少天以内提出")
    assert pair("为什么要填身份证号", "为什么要身份证号")
    assert not pair("复核去哪里申请", "如何申请复核")
    assert not pair("信访要收费吗", "信访是免费的吗")


@pytest.mark.parametrize("heldout", [HELDOUT_FILE, FAQ_HELDOUT_FILE], ids=lambda p: p.name)
def test_heldout_holds_no_near_copy_of_training(heldout: Path) -> None:
    assert near_copies(load_examples(heldout), TRAINING) == []


def test_faq_heldout_holds_no_near_copy_of_the_intent_heldout() -> None:
    assert near_copies(FAQ_HELDOUT, HELDOUT) == []


def test_regex_matches_are_exactly_the_annotations() -> None:
    patterns = load_regexes()
    mismatches = []
    for example in TRAINING + HELDOUT + FAQ_HELDOUT:
        expected = {
            (m.start(), m.end(), name)
            for name, pattern in patterns.items()
            for m in pattern.finditer(example.text)
        }
        if example.entities != expected:
            mismatches.append((example.source, example.text, sorted(example.entities), sorted(expected)))
    assert mismatches == []
    annotated = Counter(name for e in TRAINING + HELDOUT for _, _, name in e.entities)
    assert set(annotated) == REGEX_ENTITIES


def test_annotated_id_numbers_are_valid() -> None:
    ids = [e.text[s:t] for e in TRAINING + HELDOUT for s, t, name in e.entities if name == "id_number"]
    assert len(ids) >= 15
    for number in ids:
        assert number[17].upper() == id_check_char(number[:17]), number
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert date(1900, 1, 1) <= birth < date(2010, 1, 1), number


def test_no_example_is_shared_between_intents() -> None:
    intents_of: dict[str, set[str]] = {}
    for e in TRAINING:
        intents_of.setdefault(normalized(e.text), set()).add(e.intent)
    shared = {text: intents for text, intents in intents_of.items() if len(intents) > 1}
    assert shared == {}
    counts = Counter(normalized(e.text) for e in TRAINING)
    assert [t for t, c in counts.items() if c > 1] == []


def test_heldout_examples_are_not_in_training() -> None:
    training = {normalized(e.text) for e in TRAINING}
    assert [e.text for e in HELDOUT if normalized(e.text) in training] == []
    counts = Counter(normalized(e.text) for e in HELDOUT)
    assert [t for t, c in counts.items() if c > 1] == []


def test_petition_stories_carry_no_personal_numbers() -> None:
    for e in TRAINING + HELDOUT:
        if e.intent == "file_petition":
            assert not e.entities, e.text
            assert not re.search(r"\d{7,}", e.text), e.text


def jieba_entries() -> list[tuple[str, int, str]]:
    entries = []
    for line in JIEBA_DICT.read_text(encoding="utf-8").splitlines():
        word, freq, pos = line.split(" ")
        entries.append((word, int(freq), pos))
    return entries


def test_jieba_dictionary_format() -> None:
    entries = jieba_entries()
    words = [w for w, _, _ in entries]
    assert len(words) == len(set(words)), "duplicate words"
    assert all(freq > 0 and pos.isalpha() for _, freq, pos in entries)


def test_jieba_dictionary_knows_every_subdivision() -> None:
    words = {w for w, _, _ in jieba_entries()}
    jurisdiction = yaml.safe_load(JURISDICTION.read_text(encoding="utf-8"))
    for sub in jurisdiction["subdivisions"]:
        name = sub["name"]
        short = name.removesuffix("街道").removesuffix("镇")
        assert name in words, name
        assert short in words or name == "西湖街道", short  # "西湖" alone is the lake

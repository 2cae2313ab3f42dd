"""The dialogue corpus loads, follows its format and covers every behaviour (no processes)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric

from tests.dialogues.corpus import (
    BEHAVIOURS,
    CorpusError,
    Result,
    TurnRecord,
    figures,
    generic_problems,
    load_corpus,
    reasked,
)

MIN_DIALOGUES = 80
MIN_PER_BEHAVIOUR = 3
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_the_corpus_is_large_enough_and_covers_every_behaviour(corpus) -> None:
    assert len(corpus) >= MIN_DIALOGUES
    counts = Counter(d.behaviour for d in corpus)
    thin = {b: counts.get(b, 0) for b in BEHAVIOURS if counts.get(b, 0) < MIN_PER_BEHAVIOUR}
    assert not thin, f"behaviours with fewer than {MIN_PER_BEHAVIOUR} dialogues: {thin}"
    assert {"free", "stepwise", "other"} <= {d.style for d in corpus}


def test_every_resident_id_given_in_the_corpus_is_valid(corpus) -> None:
    # An invalid number is only written on purpose, in a turn that does not give id_number.
    for dialogue in corpus:
        for turn in dialogue.turns:
            if "id_number" in turn.gives:
                said = unicodedata.normalize("NFKC", turn.user or "").replace(" ", "")
                for number in ID_NUMBER.findall(said):
                    assert ric.is_valid(number), f"{dialogue.name}: {number}"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "a.yml").write_text(text, encoding="utf-8")
    return tmp_path


GOOD = """
dialogues:
  - name: one
    behaviour: group
    style: other
    turns:
      - user: "你好"
        expect: ["智能助手"]
    no_case: true
"""


@pytest.mark.parametrize(
    "change, message",
    [
        (("style: other", "style: somehow"), "unknown style"),
        (("behaviour: group", "behaviour: chatting"), "unknown behaviour"),
        (('expect: ["智能助手"]', 'expect: ["智能助手"]\n        gives: [phone_number]'), "unknown form slots"),
        (('expect: ["智能助手"]', 'expect: ["智能助手"]\n        reply: "x"'), "unknown keys"),
        (("no_case: true", "no_case: true\n    notes: x"), "unknown keys"),
        (("no_case: true", "case: {petitioner.name: 张三}"), "files nothing"),
        (("style: other", "style: free"), "give its case"),
        (('- user: "你好"', '- click: "同意"'), "first turn"),
        (('expect: ["智能助手"]', 'absent: ["x"]'), "assert something"),
    ],
)
def test_format_mistakes_fail_loudly(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert load_corpus(write(tmp_path, GOOD))
    with pytest.raises(CorpusError, match=message):
        load_corpus(write(tmp_path, GOOD.replace(*change)))


def test_unknown_case_fields_fail(tmp_path: Path) -> None:
    text = GOOD.replace("style: other", "style: free").replace("no_case: true", "case: {petitioner.nam: 张三}")
    with pytest.raises(CorpusError, match="unknown case fields"):
        load_corpus(write(tmp_path, text))


def test_generic_checks_of_a_reply() -> None:
    ok = [{"text": "信息无误请点「确认提交」", "buttons": [{"title": "确认提交", "payload": "/affirm"}]}]
    assert generic_problems(ok) == []
    assert generic_problems([{"text": "请点击「继续填写」"}])
    assert generic_problems([{"text": "您的编号是None"}])
    assert generic_problems([{"text": "请拨打{hotline}"}])
    assert generic_problems([{"text": "Internal Server Error"}])
    assert generic_problems([{"text": "请回复「继续填写」"}]) == []


def test_a_reask_is_a_slot_asked_after_an_earlier_turn_gave_it(corpus) -> None:
    dialogue = next(d for d in corpus if any("phone" in t.gives for t in d.turns))
    given_at = next(i for i, t in enumerate(dialogue.turns) if "phone" in t.gives)
    records = [TurnRecord(t.said, "", []) for t in dialogue.turns]
    result = Result(dialogue, "rest-x", records)
    assert reasked(result) == 0
    if given_at + 1 < len(records):
        records[given_at + 1].requested_slot = "phone"
        assert reasked(result) == 1
    records[given_at].requested_slot = "phone"  # the same turn: asked again because it was wrong
    assert reasked(result) == (1 if given_at + 1 < len(records) else 0)


def test_figures_count_turns_of_filed_petitions_by_style(corpus) -> None:
    free = [d for d in corpus if d.style == "free"][:2]
    stepwise = next(d for d in corpus if d.style == "stepwise")
    results = [
        Result(free[0], "rest-a", filed_at=6, completed=True),
        Result(free[1], "rest-b", filed_at=8, completed=True),
        Result(stepwise, "rest-c", filed_at=None, completed=True, problems=["missing"]),
    ]
    f = figures(results)
    assert f.mean_turns_free == 7.0 and f.mean_turns_stepwise is None
    assert f.filed == {"free": 2, "stepwise": 0} and f.expected_filed == {"free": 2, "stepwise": 1}
    assert f.per_behaviour[stepwise.behaviour][1] >= 1
    assert f.reask_share is None  # nothing tracked

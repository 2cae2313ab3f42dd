"""What the policy answers (data/responses/faq.yml) tell a citizen about costs, checked without a
model: 信访 costs nothing, paid "代理信访" is a warning sign (以信访为名借机敛财 is forbidden by
第二十六条), and 12348 is the number for legal help (DOMAIN.md §14)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = {
    key.removeprefix("utter_faq/"): variants[0]["text"]
    for key, variants in yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text(encoding="utf-8"))[
        "responses"
    ].items()
}


def test_fees_answer_says_petitioning_is_free_and_warns_of_paid_agents() -> None:
    answer = ANSWERS["fees"]
    for fragment in ("不收费", "受理、办理都不收取任何费用", "代理信访", "不要交钱", "借机敛财", "第二十六条", "12348", "{hotline}"):
        assert fragment in answer, fragment
    # only the articles that say it: the channels (第十七条) and the ban on raising money (第二十六条)
    assert set(re.findall(r"第[一二三四五六七八九十]+条", answer)) == {"第十七条", "第二十六条"}


def test_fees_answer_is_not_the_list_of_duties() -> None:
    assert "义务" not in ANSWERS["fees"] and "不收取任何费用" not in ANSWERS["duties"]

"""The policy answers on held-out paraphrases (tests/nlu/faq_heldout.yml), against the real
Rasa server of the end-to-end stack (``POST /model/parse``: no second model load).

Prints the accuracy and the confusions (``pytest -s`` or the report on failure) and fails below
``THRESHOLD`` of scripts/faq_accuracy.py: a question is answered right when the intent is ``faq`` and the ResponseSelector's top
answer is the expected one. ``scripts/faq_accuracy.py`` prints the same report for a running
server or a model file (``make bench``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.support.chat import Chat
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "faq_accuracy.py"


def faq_accuracy():
    spec = importlib.util.spec_from_file_location("faq_accuracy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def test_heldout_policy_questions_get_the_right_answer(stack: Stack) -> None:
    evaluation = faq_accuracy()
    pairs = evaluation.load_heldout()
    assert len({key for _, key in pairs}) >= 40 and len(pairs) >= 3 * 40
    report = evaluation.evaluate(evaluation.http_parser(stack.rasa_url, stack.rasa_token), pairs)
    print("\n" + report.render())
    assert report.accuracy >= evaluation.THRESHOLD, report.render()


# Everyday questions that once got a neighbouring answer, each with what the right answer says
# (and, where it matters, what the wrong neighbour said). None of them is a training example.
EVERYDAY = [
    pytest.param(
        # the handling time limit (第三十四条), not the 复核 rule
        "我的事都两个月了还没结果正常吗",
        ("第三十四条", "60日内办结", "负责人批准", "30日"),
        ("复核",),
        id="two-months-time-limit",
    ),
    pytest.param(
        # 复核 one level above the 复查 body (第三十六条), not 行政复议
        "复查的结果我也不服怎么办",
        ("第三十六条", "自收到复查意见之日起30日内", "向复查机关的上一级机关请求复核"),
        ("行政复议",),
        id="recheck-after-review",
    ),
    pytest.param(
        # costs nothing; beware of paid "代理信访"; legal help 12348
        "信访要收费吗",
        ("不收取任何费用", "代理信访", "不要交钱", "12348"),
        ("义务",),
        id="fees",
    ),
]


@pytest.mark.parametrize(("question", "fragments", "absent"), EVERYDAY)
def test_everyday_policy_questions_get_the_right_answer(
    stack: Stack, question: str, fragments: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    Chat(stack, "faq-everyday").expect(question, *fragments, absent=absent)

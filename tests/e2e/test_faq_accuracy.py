"""The policy answers on held-out paraphrases (tests/nlu/faq_heldout.yml), against the real
Rasa server of the end-to-end stack (``POST /model/parse``: no second model load).

Prints the accuracy and the confusions (``pytest -s`` or the report on failure) and fails below
85%: a question is answered right when the intent is ``faq`` and the ResponseSelector's top
answer is the expected one. ``scripts/faq_accuracy.py`` prints the same report for a running
server or a model file (``make bench``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

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

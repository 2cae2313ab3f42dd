"""The console's intent picker does not depend on the Rasa project being present: the list ships
with the back office (bot/console/intents.yml), generated from domain.yml and kept in step here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.console import training
from bot.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import intents as intents_script  # noqa: E402  (scripts/intents.py)


def test_the_shipped_intent_list_is_the_domains():
    assert list(training.intent_choices()) == intents_script.collect()
    assert (REPO_ROOT / "bot" / "console" / "intents.yml").read_text(encoding="utf-8") == intents_script.render(
        intents_script.collect()
    ), "bot/console/intents.yml is out of date: run `make intents`"


def test_the_picker_offers_intents_and_faq_answers_but_no_external_events():
    choices = training.intent_choices()
    assert "file_petition" in choices and "faq/time_limits" in choices and "faq/why_id" in choices
    assert not any(c.startswith("EXTERNAL_") for c in choices)
    assert training.valid_intent("faq/time_limits") and not training.valid_intent("faq/no_such_answer")


def test_the_back_office_lists_the_intents_from_a_directory_without_the_rasa_project(tmp_path: Path):
    """As in the back office's image: only bot/ (and scripts/prod.py) are copied."""
    shutil.copytree(REPO_ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    assert not (tmp_path / "domain.yml").exists() and not (tmp_path / "data").exists()
    code = (
        "from bot.console import training; from bot.settings import REPO_ROOT; "
        "import bot.app, bot.console; "
        "assert not (REPO_ROOT / 'domain.yml').exists(), REPO_ROOT; "
        "c = training.intent_choices(); print(len(c), 'faq/time_limits' in c, 'file_petition' in c)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    count, faq, petition = result.stdout.split()
    assert int(count) == len(intents_script.collect()) and faq == "True" and petition == "True"

"""No full resident ID or mobile number in any log file of a complete test run.

``make test`` empties ``test-artifacts/`` before pytest and runs this module last, on its
own (``make test-logs``, ``LOG_HYGIENE_RUN=1``), over every log the run produced: the Rasa
servers, action servers and back offices of the end-to-end and production stacks, their
restarts included. Inside the main pytest run it is skipped (the logs are not complete yet);
the scanner itself is tested there on planted logs.

What counts as a full number: 18 characters that pass the GB 11643 check digit (the masked
``110105********002X`` does not), and 11 digits that are a valid mainland mobile number
(``139****5678`` is not), each standing alone (not inside a longer run of digits).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from stdnum.cn import ric

from bot.rules.phone import check_mobile
from tests.support.stack import ARTIFACTS

ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_CANDIDATE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
# Stacks whose logs a complete run must have produced (the check cannot pass on nothing).
EXPECTED_LOGS = ("e2e-sqlite/rasa.log", "production/rasa.log", "production/backoffice.log",
                 "production/actions.log", "production/rasa-socketio.log")


def personal_numbers(text: str) -> list[str]:
    """Full ID and mobile numbers found in ``text``."""
    found = [m for m in ID_CANDIDATE.findall(text) if ric.is_valid(m)]
    found += [m for m in MOBILE_CANDIDATE.findall(text) if check_mobile(m).ok]
    return found


def scan(root: Path) -> dict[str, list[str]]:
    """``{log file: numbers found}`` for every ``*.log`` under ``root``."""
    hits: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.log")):
        numbers = personal_numbers(path.read_text(encoding="utf-8", errors="replace"))
        if numbers:
            hits[str(path.relative_to(root))] = sorted(set(numbers))
    return hits


def test_the_scanner_finds_full_numbers_and_ignores_masked_ones(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "clean.log").write_text(
        "case XF2026000001 registered (id=110105********002X, phone=139****5678) "
        "at 1763856000123 pid 13812 port 51234 id 11010519491231002Y\n",
        encoding="utf-8",
    )
    (tmp_path / "a" / "leak.log").write_text(
        "user said 我的身份证11010519491231002x，电话13912345678。\n", encoding="utf-8"
    )
    assert scan(tmp_path) == {"a/leak.log": ["11010519491231002x", "13912345678"]}


@pytest.mark.skipif(
    not os.environ.get("LOG_HYGIENE_RUN"),
    reason="runs last, over every log of the run: `make test-logs` (part of `make test`)",
)
def test_no_log_of_the_test_run_holds_a_full_id_or_phone_number() -> None:
    missing = [name for name in EXPECTED_LOGS if not (ARTIFACTS / name).is_file()]
    assert not missing, f"run the test suites first: no {missing} under {ARTIFACTS}"
    logs = list(ARTIFACTS.rglob("*.log"))
    hits = scan(ARTIFACTS)
    assert not hits, f"full personal numbers in {len(hits)} of {len(logs)} log files: {hits}"

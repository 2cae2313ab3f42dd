"""No full resident ID or mobile number in any log file of a complete test run.

``make test`` empties ``test-artifacts/`` before pytest and runs this module last, on its
own (``make test-logs``, ``LOG_HYGIENE_RUN=1``), over every log the run produced: the Rasa
servers, action servers and back offices of the end-to-end and production stacks, their
restarts included. Inside the main pytest run it is skipped (the logs are not complete yet);
the scanner itself is tested there on planted logs.

What counts as a full number: 18 characters that pass the GB 11643 check digit (the masked
``110105********002X`` does not), and 11 digits that are a valid mainland mobile number
(``139****5678`` is not), each standing alone (not inside a longer run of digits), in every
written form the conversation accepts: spaces or dashes between the digits, full-width
digits, digits spelled in Chinese ("幺三八…"), and JSON escapes of any of them ("\\u5e7a").
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from stdnum.cn import ric

from bot.rules.phone import check_mobile
from bot.rules.text import normalize_text, spelled_digits_to_arabic
from tests.support.stack import ARTIFACTS

ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_CANDIDATE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
# Stacks whose logs a complete run must have produced (the check cannot pass on nothing).
EXPECTED_LOGS = ("e2e-sqlite/rasa.log", "production/rasa.log", "production/backoffice.log",
                 "production/actions.log", "production/rasa-socketio.log")


JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Spaces and dashes between two digits (or a digit and the ID's X) are not read as a boundary.
INNER_SEPARATORS = re.compile(r"(?<=[0-9])[ \-\u2010-\u2015]+(?=[0-9Xx])")


def readable(line: str) -> str:
    """A log line with every written form of a number turned into bare ASCII digits."""
    line = JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line)
    return INNER_SEPARATORS.sub("", spelled_digits_to_arabic(normalize_text(line)))


def _valid_id(value: str) -> bool:
    try:
        return ric.is_valid(value)
    except Exception:  # python-stdnum raises on some unknown region codes
        return False


def personal_numbers(text: str) -> list[str]:
    """Full ID and mobile numbers found in ``text``, in any written form."""
    found = []
    for line in text.splitlines():
        seen = readable(line)
        found += [m for m in ID_CANDIDATE.findall(seen) if _valid_id(m)]
        found += [m for m in MOBILE_CANDIDATE.findall(seen) if check_mobile(m).ok]
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


def test_the_scanner_finds_every_written_form(tmp_path: Path) -> None:
    forms = [
        "身份证 1101 0519 4912 3100 2X 手机 139-1234-5678",
        "身份证１１０１０５１９４９１２３１００２Ｘ，手机１３９１２３４５６７８",
        "手机幺三九 幺二三四 五六七八",
        '{"text": "\\u5e7a\\u4e09\\u4e5d\\u5e7a\\u4e8c\\u4e09\\u56db\\u4e94\\u516d\\u4e03\\u516b"}',
    ]
    for number, line in enumerate(forms):
        (tmp_path / f"{number}.log").write_text(line + "\n", encoding="utf-8")
    hits = scan(tmp_path)
    assert hits == {"0.log": ["11010519491231002X", "13912345678"],
                    "1.log": ["11010519491231002X", "13912345678"],
                    "2.log": ["13912345678"], "3.log": ["13912345678"]}


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

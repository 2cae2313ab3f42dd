"""The NLU training and held-out examples, for rule tests that must agree with them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")
FILES = sorted((ROOT / "data" / "nlu").glob("*.yml")) + [
    ROOT / "tests" / "nlu" / "heldout.yml",
    ROOT / "tests" / "nlu" / "faq_heldout.yml",
]


def examples() -> list[tuple[str, str]]:
    """(intent, plain text) of every example, training and held-out."""
    found = []
    for path in FILES:
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append((block["intent"], _ANNOTATION.sub(r"\1", line[2:].strip())))
    return found


def texts_of(*intents: str) -> list[str]:
    return [text for intent, text in examples() if intent in intents]


def texts_except(*intents: str) -> list[str]:
    return [text for intent, text in examples() if intent not in intents]

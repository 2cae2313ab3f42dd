"""Citizen-facing texts (actions/prompts.yml), filled from the jurisdiction configuration."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.rules.jurisdiction import load_jurisdiction

PROMPTS_FILE = Path(__file__).with_name("prompts.yml")


@lru_cache(maxsize=1)
def _prompts() -> dict[str, Any]:
    with PROMPTS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def agency_fields() -> dict[str, str]:
    """Placeholders every text may use: names, hotline, address, hours, retention."""
    return load_jurisdiction().public_facts()


def entry(path: str) -> Any:
    """The raw entry at a dotted path, e.g. ``ask.phone`` or ``submit.success``."""
    node: Any = _prompts()
    for part in path.split("."):
        node = node[part]
    return node


def text(path: str, **values: Any) -> str:
    """The text at ``path`` with placeholders filled (agency fields + ``values``)."""
    node = entry(path)
    template = node["text"] if isinstance(node, dict) else node
    return template.format(**{**agency_fields(), **values})


def buttons(path: str) -> list[dict[str, str]]:
    """The buttons configured at ``path`` (a dict entry with a ``buttons`` list)."""
    node = entry(path)
    return [dict(b) for b in node.get("buttons", [])] if isinstance(node, dict) else []

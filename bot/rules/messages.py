"""The Chinese texts of the rules' error codes (``bot/rules/messages.yml``).

Rules return a machine code with their ``Check``; the words the citizen and staff read come
from this one file, filled with the rule's parameters. The back office reads it too, so it
lives beside the rules rather than with the action server's prompts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).with_name("messages.yml")


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    with MESSAGES_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def has_message(path: str) -> bool:
    node: Any = _messages()
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, str)


def message(path: str, **values: Any) -> str:
    """The text at a dotted ``path`` ("document.passport"), placeholders filled."""
    node: Any = _messages()
    for part in path.split("."):
        node = node[part]
    return str(node).format(**values)

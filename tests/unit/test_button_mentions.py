"""No text tells the citizen to press a button the same reply does not carry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[2]
MENTION = re.compile(r"(?:点|点击|按|点选)「([^」]+)」")
# Texts without buttons of their own, always sent in the same reply as the entry named here
# (the summary's unclear answer is followed by the summary again, with its buttons).
SENT_WITH = {"summary.unclear": "summary", "summary.footer": "summary"}


def entries(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from entries(value, f"{path}.{key}" if path else str(key))


def button_titles(node: Any) -> set[str]:
    return {b["title"] for b in node.get("buttons") or []} if isinstance(node, dict) else set()


def test_every_button_a_text_mentions_comes_with_it():
    prompts = yaml.safe_load((ROOT / "actions" / "prompts.yml").read_text(encoding="utf-8"))
    by_path = dict(entries(prompts))
    problems = []
    for path, node in by_path.items():
        for key, value in node.items():
            if not isinstance(value, str) or key == "title":
                continue
            text_path = path if key == "text" else f"{path}.{key}" if path else key
            owner = node if key == "text" else None
            titles = button_titles(owner) | button_titles(by_path.get(SENT_WITH.get(text_path, ""), {}))
            for mentioned in MENTION.findall(value):
                if mentioned not in titles:
                    problems.append(f"{text_path}: 「{mentioned}」")
    assert not problems, problems

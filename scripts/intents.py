"""Write the intents an officer may choose when labelling turns: bot/console/intents.yml.

The back office ships without the Rasa project (domain.yml, data/), so the list is generated
here from domain.yml and the retrieval responses in data/responses/, and committed; a test fails
when it is out of date. Run with `make intents` after changing intents or FAQ answers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "console" / "intents.yml"
HEADER = (
    "# The intents an officer may give a turn in the conversation review (the console's picker).\n"
    "# Generated from domain.yml and data/responses/ by `make intents` (scripts/intents.py): do not\n"
    "# edit by hand; tests/console/test_training_intents.py fails when it is out of date.\n"
)


def collect(domain_file: Path = ROOT / "domain.yml", responses_dir: Path = ROOT / "data" / "responses") -> list[str]:
    """Domain intents (without EXTERNAL_ ones) then the retrieval sub-intents, sorted."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    names: list[str] = []
    for item in domain.get("intents") or []:
        name = next(iter(item)) if isinstance(item, dict) else str(item)
        if not name.startswith("EXTERNAL_") and name not in names:
            names.append(name)
    retrieval: set[str] = set()
    for path in sorted(responses_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in doc.get("responses") or {}:
            if key.startswith("utter_") and "/" in key:
                retrieval.add(key[len("utter_"):])
    return names + sorted(retrieval)


def render(intents: list[str]) -> str:
    return HEADER + yaml.safe_dump({"intents": intents}, allow_unicode=True, sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    text = render(collect())
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run `make intents`", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

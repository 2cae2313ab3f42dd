"""Name the Rasa model after a hash of everything that goes into training.

``python scripts/model.py path`` prints ``models/xinfang-<hash>.tar.gz``; the Makefile
trains only when that file is missing, so an unchanged project never trains twice and a
changed one never runs a stale model.

The hash covers the pipeline/policy config, the domain, every training data file, the jieba
dictionary, the locked Rasa requirements (a Rasa upgrade invalidates models) and the code of
the project's own components that the config names (``connectors.linear_nlu.…``): a change
to a component retrains the models that use it, and only those.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

INPUT_GLOBS = (
    "domain.yml",
    "data/**/*.yml",
    "data/**/*.yaml",
    "dictionaries/**/*",
    "requirements/rasa.txt",
)
# "- name: connectors.linear_nlu.LinearIntentClassifier" (a dotted name is a project class)
COMPONENT_NAME = re.compile(r"^\s*-?\s*name:\s*[\"']?([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)")


def component_modules(config: Path) -> set[Path]:
    """The source files of the project's components named in the config's pipeline and
    policies (``name: connectors.linear_nlu.LinearIntentClassifier`` -> connectors/linear_nlu.py).
    Read line by line: this script runs on a bare Python, without PyYAML."""
    files: set[Path] = set()
    for line in config.read_text(encoding="utf-8").splitlines():
        match = COMPONENT_NAME.match(line.split("#", 1)[0])
        if not match:
            continue
        source = ROOT.joinpath(*match.group(1).split(".")[:-1]).with_suffix(".py")
        if source.is_file():
            files.add(source.resolve())
    return files


def training_inputs(config: Path) -> list[Path]:
    """All files whose content determines the trained model, in a stable order."""
    files = {config.resolve(), *component_modules(config)}
    for pattern in INPUT_GLOBS:
        files.update(p.resolve() for p in ROOT.glob(pattern) if p.is_file())
    return sorted(files)


def inputs_hash(config: Path) -> str:
    """A short content hash over the training inputs (paths relative to the repo)."""
    digest = hashlib.sha256()
    for path in training_inputs(config):
        try:
            name = path.relative_to(ROOT).as_posix()
        except ValueError:
            name = path.name
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=("hash", "path", "name"))
    parser.add_argument("--config", default="config.yml", help="pipeline/policy file")
    parser.add_argument("--prefix", default="xinfang", help="model file name prefix")
    args = parser.parse_args(argv)
    config = (ROOT / args.config) if not Path(args.config).is_absolute() else Path(args.config)
    if not config.is_file():
        print(f"config file not found: {config}", file=sys.stderr)
        return 2
    name = f"{args.prefix}-{inputs_hash(config)}"
    if args.what == "hash":
        print(inputs_hash(config))
    elif args.what == "name":
        print(name)
    else:
        print(f"models/{name}.tar.gz")
    return 0


if __name__ == "__main__":
    sys.exit(main())

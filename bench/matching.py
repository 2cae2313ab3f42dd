"""`python -m bench.matching`: same-matter matching (bot/rules/matching.py) on the labelled set.

The set is tests/data/same_matter.yml (written by scripts/same_matter_data.py): petitions with
a ``matter`` label, two petitions being the same matter when their labels are equal. The
petitions arrive in id order; each one is compared with every petition before it, as a new
petition is compared with the earlier ones (``same_matter`` and ``same_matter_scores``, the
similarity fitted on the new petition and those earlier ones). So every pair is judged once.

Printed: the number of petitions, of all pairs and of candidate pairs (those that pass the
gate: same respondent, or same category and 街道/镇), the precision, recall and F1 of
``same_matter`` over all pairs, the same figures at a few thresholds around
SAME_MATTER_THRESHOLD, and how long scoring took (the ``same_matter_scores`` pass, jieba's
dictionary loaded beforehand). ``--json PATH`` also writes the figures.
Nothing is asserted (tests/unit/test_matching.py has a loose check).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from bot.rules.matching import SAME_MATTER_THRESHOLD, Matter, gate, same_matter, same_matter_scores, similarity_matrix

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "same_matter.yml"
THRESHOLD_STEPS = (-0.06, -0.04, -0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.02, 0.04, 0.06)


@dataclass(frozen=True)
class Petition:
    id: int
    matter: str
    petition: Matter


@dataclass(frozen=True)
class Pair:
    """An earlier and a later petition: same label, passes the gate, score, decision."""

    first: int
    second: int
    positive: bool
    gated: bool
    score: float
    same: bool


@dataclass(frozen=True)
class Scores:
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    f1: float


def load_set(path: Path = DATA) -> list[Petition]:
    """The labelled petitions, in id order."""
    records = yaml.safe_load(path.read_text(encoding="utf-8"))["petitions"]
    return [
        Petition(
            int(r["id"]),
            str(r["matter"]),
            Matter(r["category"], r["respondent"], r["location_division"], r["location_text"], r["facts"],
                   r["request"]),
        )
        for r in sorted(records, key=lambda r: int(r["id"]))
    ]


def judge(petitions: Sequence[Petition]) -> tuple[list[Pair], float]:
    """Every pair judged by same_matter and scored; and the seconds the scoring took."""
    pairs: list[Pair] = []
    similarity_matrix(["电梯坏了", "电梯修好了"])  # loads jieba's dictionary before the clock starts
    started = time.perf_counter()
    scored = []
    for position in range(1, len(petitions)):
        earlier = [p.petition for p in petitions[:position]]
        scored.append(same_matter_scores(petitions[position].petition, earlier))
    seconds = time.perf_counter() - started
    for position in range(1, len(petitions)):
        new = petitions[position]
        earlier = petitions[:position]
        decisions = same_matter(new.petition, [p.petition for p in earlier])
        for other, score, same in zip(earlier, scored[position - 1], decisions):
            pairs.append(Pair(other.id, new.id, other.matter == new.matter,
                              bool(gate(new.petition, other.petition)), score, same))
    return pairs, seconds


def scores_at(pairs: Sequence[Pair], threshold: float | None = None) -> Scores:
    """Precision, recall and F1 over all pairs: of same_matter's decisions (threshold None),
    or of "gated and score >= threshold"."""
    def decided(pair: Pair) -> bool:
        return pair.same if threshold is None else pair.gated and pair.score >= threshold

    tp = sum(1 for p in pairs if p.positive and decided(p))
    fp = sum(1 for p in pairs if not p.positive and decided(p))
    fn = sum(1 for p in pairs if p.positive and not decided(p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(SAME_MATTER_THRESHOLD if threshold is None else threshold, tp, fp, fn,
                  round(precision, 4), round(recall, 4), round(f1, 4))


def run(path: Path = DATA) -> dict[str, Any]:
    petitions = load_set(path)
    pairs, seconds = judge(petitions)
    thresholds = sorted({round(SAME_MATTER_THRESHOLD + step, 3) for step in THRESHOLD_STEPS
                         if SAME_MATTER_THRESHOLD + step > 0})
    return {
        "data": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "petitions": len(petitions),
        "matters": len({p.matter for p in petitions}),
        "pairs": len(pairs),
        "positive_pairs": sum(1 for p in pairs if p.positive),
        "candidate_pairs": sum(1 for p in pairs if p.gated),
        "positive_pairs_failing_gate": sum(1 for p in pairs if p.positive and not p.gated),
        "threshold": SAME_MATTER_THRESHOLD,
        "same_matter": asdict(scores_at(pairs)),
        "sweep": [asdict(scores_at(pairs, t)) for t in thresholds],
        "scoring_seconds": round(seconds, 2),
        "ms_per_petition": round(1000 * seconds / max(len(petitions) - 1, 1), 1),
    }


def render(figures: dict[str, Any]) -> str:
    s = figures["same_matter"]
    lines = [
        f"Same-matter matching on {figures['data']}",
        "",
        f"petitions: {figures['petitions']} ({figures['matters']} matters)",
        f"all pairs: {figures['pairs']} ({figures['positive_pairs']} of the same matter)",
        f"candidate pairs (pass the gate): {figures['candidate_pairs']} "
        f"({figures['positive_pairs_failing_gate']} pairs of the same matter fail it)",
        "",
        f"same_matter (threshold {figures['threshold']:g}): precision {s['precision']:.3f}, "
        f"recall {s['recall']:.3f}, F1 {s['f1']:.3f} (tp {s['true_positives']}, fp {s['false_positives']}, "
        f"fn {s['false_negatives']})",
        "",
        "| threshold | precision | recall | F1 | tp | fp | fn |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in figures["sweep"]:
        mark = " *" if abs(row["threshold"] - figures["threshold"]) < 1e-9 else ""
        lines.append(f"| {row['threshold']:.3f}{mark} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
                     f"| {row['true_positives']} | {row['false_positives']} | {row['false_negatives']} |")
    lines += ["", f"scoring: {figures['scoring_seconds']:.2f} s for {figures['petitions'] - 1} new petitions "
                  f"({figures['ms_per_petition']:.1f} ms each, against all earlier ones)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="labelled set (default: %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    figures = run(args.data.resolve())
    print(render(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

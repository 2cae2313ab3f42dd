"""The dialogue corpus as a measure of how much a citizen has to type.

Plays every dialogue of ``tests/dialogues/*.yml`` against a stack (its own SQLite stack, as
the end-to-end tests start it, unless the caller passes one) and prints:

- mean user turns (messages and button presses) up to the filing, for dialogues where the
  citizen gives details freely (``free``, target <= 8) and one at a time (``stepwise``,
  target <= 13), over the dialogues that did file;
- the share of turns that re-ask something already given: after the turn, the form's
  ``requested_slot`` (read from the tracker) is a slot an earlier turn's ``gives:`` listed;
- pass counts per behaviour.

``measure`` does the computation (tests can call it with their stack); ``render`` formats it.
Usage: ``MODEL_PATH=… RASA_BIN=… APP_PY=… python -m bench.dialogues [--workers 4] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from tests.dialogues.corpus import BEHAVIOURS, Dialogue, Figures, Result, figures, load_corpus, run_corpus
from tests.support.stack import Stack

TARGET_TURNS = {"free": 8.0, "stepwise": 13.0}


def measure(
    stack: Any, dialogues: Sequence[Dialogue] | None = None, workers: int = 4
) -> tuple[Figures, list[Result]]:
    """Play the corpus with the tracker read after every turn; the figures and the results.

    Every turn is played even after a failed one, so the turn counts do not depend on where
    a dialogue first went wrong.
    """
    dialogues = load_corpus() if dialogues is None else dialogues
    results = run_corpus(stack, dialogues, workers=workers, track=True, keep_going=True)
    return figures(results), results


def _turns(value: float | None, style: str, f: Figures) -> str:
    if value is None:
        return f"-  (no {style} dialogue filed; target <= {TARGET_TURNS[style]:g})"
    verdict = "ok" if value <= TARGET_TURNS[style] else "over target"
    return (
        f"{value:.1f}  (target <= {TARGET_TURNS[style]:g}: {verdict}; "
        f"{f.filed[style]} of {f.expected_filed[style]} filed)"
    )


def render(f: Figures, results: Sequence[Result], seconds: float | None = None) -> str:
    lines = ["Dialogue corpus"]
    lines.append(f"  mean user turns per filed petition, free:     {_turns(f.mean_turns_free, 'free', f)}")
    lines.append(f"  mean user turns per filed petition, stepwise: {_turns(f.mean_turns_stepwise, 'stepwise', f)}")
    share = "-" if f.reask_share is None else f"{f.reask_share:.1%}"
    lines.append(f"  turns re-asking something already given:     {share} ({f.reasked_turns} of {f.tracked_turns})")
    passed = sum(r.passed for r in results)
    lines.append(f"  dialogues passed:                             {passed} of {len(results)}")
    if seconds is not None:
        lines.append(f"  time:                                         {seconds:.0f} s")
    lines.append("  per behaviour (passed / dialogues):")
    for behaviour in BEHAVIOURS:
        ok, total = f.per_behaviour[behaviour]
        lines.append(f"    {behaviour:<24} {ok:>3} / {total:<3} {BEHAVIOURS[behaviour]}")
    return "\n".join(lines)


def emergency_figures(stack: Any) -> dict[str, Any]:
    """Recall and precision of the emergency replies on tests/data/emergencies.yml, each
    message the opening of a fresh conversation (the measure of tests/e2e/test_emergencies.py)."""
    from tests.e2e.test_emergencies import EMERGENCIES, EMERGENCY_MARKS, NON_EMERGENCIES, names_first, replies

    answers = replies(stack, [text for _, _, text in EMERGENCIES])
    caught = sum(names_first(reply, first) for (_, first, _), reply in zip(EMERGENCIES, answers))
    alarms = sum(any(m in reply for m in EMERGENCY_MARKS) for reply in replies(stack, NON_EMERGENCIES))
    return {
        "emergencies": len(EMERGENCIES),
        "caught": caught,
        "non_emergencies": len(NON_EMERGENCIES),
        "false_alarms": alarms,
        "recall": caught / len(EMERGENCIES),
        "precision": caught / (caught + alarms) if caught + alarms else 0.0,
    }


def render_emergencies(e: dict[str, Any]) -> str:
    return (
        f"Emergencies (tests/data/emergencies.yml, opening messages): recall {e['caught']}/{e['emergencies']} "
        f"= {e['recall']:.1%}; false alarms {e['false_alarms']}/{e['non_emergencies']}; "
        f"precision {e['precision']:.1%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="dialogues played at once")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--transcripts", action="store_true", help="print the transcripts of failed dialogues")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-dialogues-") as workdir:
        stack = Stack(name="bench-dialogues", workdir=Path(workdir), env={})
        try:
            stack.start()
            started = time.monotonic()
            f, results = measure(stack, workers=args.workers)
            seconds = time.monotonic() - started
            emergencies = emergency_figures(stack)
        finally:
            stack.stop()
    print(render(f, results, seconds))
    gaps = [r for r in results if r.dialogue.known_gap]
    print(f"Known gaps (tests/dialogues known_gap): {sum(not r.passed for r in gaps)} of {len(results)} dialogues "
          f"still fail, {sum(r.passed for r in gaps)} marked ones pass now")
    print(render_emergencies(emergencies))
    if args.transcripts:
        for result in results:
            if not result.passed:
                print("\n" + result.transcript())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            **asdict(f), "seconds": seconds, "failed": [r.dialogue.name for r in results if not r.passed],
            "emergencies": emergencies,
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

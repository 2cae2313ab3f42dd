"""`make bench`: the production profile under load, side by side with Rasa's defaults.

For each model (the project's ``config.yml``, the project's previous configuration
``bench/config.previous.yml`` and Rasa's default pipeline and policies from
``bench/config.default.yml``, all trained on the same data) this starts the production profile
exactly as the tests do (``tests/support/stack.py``: scripts/prod.py, PostgreSQL, Redis,
2 Rasa Sanic workers, 2 action-server workers, the back office; fresh databases), then:

1. warm-up: one conversation per Rasa worker;
2. "latency" phase: N citizens (default 20) who take 1-3 s to type each answer;
3. "throughput" phase: the same N citizens with no pause at all (saturation);
4. checks every conversation against the ``cases`` table: a case number told to a citizen
   must be exactly one row of that conversation (lost: none; duplicated: more than one);
5. samples the resident memory of every process tree every 0.5 s (peak reported).

The development profile (``make run``: one Rasa process, SQLite) of the project's model (and
the previous one) gets the same saturation load, for the development/production ratio.

Then the NLU scores of the models on ``tests/nlu/heldout.yml`` (``rasa test nlu``) and
their training time (recorded by ``make model`` next to the model file). The figures are
printed as tables and saved to ``results/bench/`` (JSON and Markdown), ending with the table of
the performance targets (previous configuration and project side by side, this run, this
machine); nothing is asserted.
``--profile`` also samples one Rasa worker with py-spy during the throughput phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import psutil

from bench.load import CONNECTIONS, PhaseResult, run_phase
from bench.conversations import wage_arrears, make_citizen
from tests.support.stack import (
    ROOT,
    ProductionStack,
    Stack,
    create_database,
    query,
    rasa_bin,
)

RESULTS = ROOT / "results" / "bench"


# --- memory -----------------------------------------------------------------------------------


class MemorySampler(threading.Thread):
    """Peak RSS of each process tree (and of its largest single process), every 0.5 s."""

    def __init__(self, stack: ProductionStack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.peak_tree: Counter = Counter()
        self.peak_single: Counter = Counter()
        self.stop = threading.Event()

    def sample(self) -> None:
        for name, proc in self.stack.processes.items():
            try:
                members = process_tree(proc.popen.pid)
                sizes = []
                for member in members:
                    try:
                        sizes.append(member.memory_info().rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                continue
            self.peak_tree[name] = max(self.peak_tree[name], sum(sizes))
            self.peak_single[name] = max(self.peak_single[name], max(sizes, default=0))

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.5)


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (workers, helpers)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_time(processes: Iterable[psutil.Process]) -> float:
    """User + system CPU seconds of the processes still there."""
    total = 0.0
    for member in processes:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


DRIVER = "load driver"


def cpu_seconds(stack: Any) -> dict[str, float]:
    """CPU time used so far by each process tree of the stack, and by the PostgreSQL server
    (its backends serve the stack's stores; nothing else runs a query during a phase)."""
    used: dict[str, float] = {}
    for name, proc in stack.processes.items():
        try:
            used[name] = cpu_time(process_tree(proc.popen.pid))
        except psutil.Error:
            continue
    used["postgresql"] = cpu_time(p for p in psutil.process_iter(["name"])
                                  if (p.info.get("name") or "").startswith("postgres"))
    used[DRIVER] = cpu_time([psutil.Process()])  # this process: the simulated citizens
    return used


def rasa_workers_cpu(stack: Any) -> dict[int, float]:
    """CPU seconds used so far by each process of the Rasa tree (its Sanic workers)."""
    proc = stack.processes.get("rasa")
    if proc is None:
        return {}
    used: dict[int, float] = {}
    for member in process_tree(proc.popen.pid):
        used[member.pid] = cpu_time([member])
    return used


def worker_shares(before: dict[int, float], after: dict[int, float]) -> list[int]:
    """Each Rasa process's share (%) of the Rasa CPU of a phase, largest first; processes that
    used under 2% (the main process that only watches its workers) are left out."""
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    total = sum(spent.values())
    if total <= 0:
        return []
    return sorted((round(100 * v / total) for v in spent.values() if v / total >= 0.02), reverse=True)


def cpu_per_message(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
    """Milliseconds of CPU per message answered, by process (the processes that exited
    during the phase are not counted)."""
    if not messages:
        return {}
    return {name: round(1000 * (after[name] - before.get(name, 0.0)) / messages, 1)
            for name in after if after[name] >= before.get(name, 0.0)}


# --- one configuration ------------------------------------------------------------------------


@dataclass
class StoreCheck:
    told: int = 0  # conversations that were told a case number
    lost: int = 0  # told a number, no such case for the conversation
    duplicated: int = 0  # more than one case for one conversation
    filed_untold: int = 0  # a case exists, the citizen never saw its number (cut off by the end)
    cases: int = 0


@dataclass
class ConfigResult:
    name: str
    model: str
    phases: list[dict[str, Any]] = field(default_factory=list)
    store: dict[str, int] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    rss_single_mb: dict[str, float] = field(default_factory=dict)
    startup_s: float = 0.0
    profile: str = ""
    archive_mb: float = 0.0
    train_s: int | None = None
    profile_kind: str = "production"


def train_seconds(model: Path) -> int | None:
    """Training time recorded by `make model` next to the model file."""
    seconds = Path(f"{model}.train-seconds")
    return int(seconds.read_text()) if seconds.is_file() else None


def check_store(stack: ProductionStack, phases: list[PhaseResult]) -> StoreCheck:
    rows = query(stack.database, "SELECT conversation_id, case_no FROM cases")
    by_conversation: dict[str, list[str]] = {}
    for conversation_id, case_no in rows:
        by_conversation.setdefault(conversation_id, []).append(case_no)
    check = StoreCheck(cases=len(rows))
    told = {s: n for phase in phases for s, n in phase.completed.items()}
    check.told = len(told)
    for sender, case_no in told.items():
        if case_no not in by_conversation.get(sender, []):
            check.lost += 1
    check.duplicated = sum(1 for cases in by_conversation.values() if len(cases) > 1)
    check.filed_untold = sum(1 for s in by_conversation if s.startswith("bench-") and s not in told)
    return check


def warm_up(stack: ProductionStack, workers: int) -> None:
    """A conversation per worker: the first messages of a fresh worker are slow."""
    import random

    rng = random.Random(1)
    for _ in range(workers * 2):
        sender = f"rest-warmup-{uuid.uuid4().hex[:8]}"
        for turn in wage_arrears(make_citizen(rng))[:6]:
            stack.say(sender, turn.message)


def profile_worker(stack: ProductionStack, seconds: int, out: Path) -> str:
    """py-spy samples of one Rasa Sanic worker while it holds the GIL (its CPU time, not its
    waits for the database or the action server); returns the hottest frames as text."""
    parent = psutil.Process(stack.processes["rasa"].popen.pid)
    workers = [p for p in parent.children(recursive=True) if "python" in p.name()]
    if not workers:
        return "no worker found"
    # the busiest so far: Rasa's parent may also have children that serve nothing
    workers.sort(key=lambda p: sum(p.cpu_times()[:2]))
    pyspy = Path(sys.executable).with_name("py-spy")
    raw = out.with_suffix(".txt")
    subprocess.run(
        [str(pyspy), "record", "--pid", str(workers[-1].pid), "--duration", str(seconds),
         "--rate", "50", "--format", "raw", "--output", str(raw), "--nonblocking", "--gil"],
        capture_output=True, check=False, timeout=seconds + 60,
    )
    if not raw.is_file():
        return "py-spy could not attach (ptrace not permitted?)"
    return summarize_profile(raw)


def summarize_profile(raw: Path, top: int = 12) -> str:
    """Inclusive share of the interesting frames in py-spy's collapsed stacks."""
    totals: Counter = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(" (")[0]
            where = frame.split(" (")[-1].rstrip(")")
            module = where.split("site-packages/")[-1].split(":")[0]
            key = f"{name} ({module})"
            if key not in seen:
                seen.add(key)
                totals[key] += int(count)
    if not samples:
        return "no samples"
    lines = [f"{samples} samples"]
    interesting = ("rasa/core/tracker_store", "rasa/core/processor", "tensorflow", "rasa/nlu",
                   "rasa/core/policies", "rasa/core/actions", "rasa/core/lock", "json", "sqlalchemy",
                   "aiohttp", "rasa/shared/core/trackers", "rasa/shared/core/events", "jieba")
    for key, count in totals.most_common():
        if any(part in key for part in interesting):
            lines.append(f"{100 * count / samples:5.1f}%  {key}")
            if len(lines) > top:
                break
    return "\n".join(lines)


def phase_record(phase: str, think: tuple[float, float], citizens: int, phase_result: PhaseResult) -> dict[str, Any]:
    return {
        "phase": phase,
        "citizens": citizens,
        "think_s": list(think),
        "messages": phase_result.messages,
        "throughput": round(phase_result.throughput, 2),
        "p50_ms": round(phase_result.percentile(50), 1),
        "p95_ms": round(phase_result.percentile(95), 1),
        "p99_ms": round(phase_result.percentile(99), 1),
        "errors": sum(phase_result.errors.values()),
        "error_kinds": dict(phase_result.errors),
        "error_examples": phase_result.error_examples,
        "conversations": phase_result.conversations,
        "completed": len(phase_result.completed),
        "unfinished": phase_result.unfinished,
        "cpu_ms_per_message": {},
        "rasa_worker_shares": [],
        "slowest_steps": [[step, n, round(p50, 1), round(p95, 1)]
                          for step, n, p50, p95 in phase_result.slowest_steps()],
    }


def start_measured(stack: Any, sampler: MemorySampler, result: ConfigResult, label: str) -> None:
    """Start the stack, recording how long until every process is ready; then sample memory."""
    started = time.monotonic()
    print(f"[{label}] starting with {result.model} ...", flush=True)
    stack.start()
    result.startup_s = time.monotonic() - started
    sampler.start()


def record_memory(sampler: MemorySampler, result: ConfigResult) -> None:
    sampler.stop.set()
    sampler.sample()
    result.rss_mb = {k: round(v / 2**20) for k, v in sampler.peak_tree.items()}
    result.rss_single_mb = {k: round(v / 2**20) for k, v in sampler.peak_single.items()}


def fresh_workdir(path: Path) -> Path:
    """``path``, emptied: the development profile keeps its SQLite stores there, and the load
    plays the same citizens in every run (seeded), so the cases of an earlier run would turn
    this run's petitions into repeats of them (added to the earlier case, no new case number)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_development(name: str, model: Path, args: argparse.Namespace) -> ConfigResult:
    """The development profile of `make run` (one Rasa process, SQLite stores, the action
    server, the back office) under the saturation load of the production run."""
    result = ConfigResult(f"{name} (development)", model.name, profile_kind="development",
                          archive_mb=round(model.stat().st_size / 2**20, 1), train_s=train_seconds(model))
    workdir = fresh_workdir(RESULTS / f"work-dev-{name}")
    stack = Stack(name=f"bench-dev-{name}", workdir=workdir, env={"MODEL_PATH": str(model)})
    previous_model = os.environ.get("MODEL_PATH")
    os.environ["MODEL_PATH"] = str(model)  # Stack.start_rasa reads the model from here
    sampler = MemorySampler(stack)  # type: ignore[arg-type]
    try:
        start_measured(stack, sampler, result, f"{name}/development (make run's processes)")
        warm_up(stack, 1)  # type: ignore[arg-type]
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        print(f"[{name}/development] throughput: {args.citizens} citizens for {args.duration}s ...", flush=True)
        cpu_before = cpu_seconds(stack)
        phase_result = asyncio.run(run_phase("throughput", url, args.citizens, args.duration, (0.0, 0.0),
                                             f"dev{name[:3]}{uuid.uuid4().hex[:4]}t", connections=args.connections))
        record = phase_record("throughput", (0.0, 0.0), args.citizens, phase_result)
        record["cpu_ms_per_message"] = cpu_per_message(cpu_before, cpu_seconds(stack), phase_result.messages)
        result.phases.append(record)
    finally:
        record_memory(sampler, result)
        stack.stop()
        if previous_model is None:
            os.environ.pop("MODEL_PATH", None)
        else:
            os.environ["MODEL_PATH"] = previous_model
    return result


def run_config(name: str, model: Path, args: argparse.Namespace) -> ConfigResult:
    result = ConfigResult(name, model.name, archive_mb=round(model.stat().st_size / 2**20, 1),
                          train_s=train_seconds(model))
    suffix = uuid.uuid4().hex[:10]
    database, tracker = f"xf_bench_{suffix}", f"xf_benchtr_{suffix}"
    create_database(database)
    create_database(tracker)
    stack = ProductionStack(
        name=f"bench-{name}",
        workdir=RESULTS / f"work-{name}",
        env={},
        database=database,
        tracker_database=tracker,
        model=model,
        rasa_workers=args.rasa_workers,
        action_workers=args.action_workers,
    )
    sampler = MemorySampler(stack)
    try:
        start_measured(stack, sampler, result, f"{name}/production")
        warm_up(stack, args.rasa_workers)
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        phases = []
        for phase, think in (("latency", (args.think_min, args.think_max)), ("throughput", (0.0, 0.0))):
            print(f"[{name}] {phase}: {args.citizens} citizens for {args.duration}s ...", flush=True)
            profiler: threading.Thread | None = None
            if args.profile and phase == "throughput":
                out = RESULTS / f"profile-{name}"
                holder: dict[str, str] = {}
                profiler = threading.Thread(
                    target=lambda: holder.update(text=profile_worker(stack, int(args.duration * 0.6), out))
                )
                profiler.start()
            cpu_before, workers_before = cpu_seconds(stack), rasa_workers_cpu(stack)
            phase_result = asyncio.run(
                run_phase(phase, url, args.citizens, args.duration, think, f"{name}{suffix[:4]}{phase[0]}",
                          headers=stack.rest_headers(), connections=args.connections)
            )
            cpu_after, workers_after = cpu_seconds(stack), rasa_workers_cpu(stack)
            if profiler is not None:
                profiler.join()
                result.profile = holder.get("text", "")
            phases.append(phase_result)
            record = phase_record(phase, think, args.citizens, phase_result)
            record["cpu_ms_per_message"] = cpu_per_message(cpu_before, cpu_after, phase_result.messages)
            record["rasa_worker_shares"] = worker_shares(workers_before, workers_after)
            result.phases.append(record)
        result.store = asdict(check_store(stack, phases))
    finally:
        record_memory(sampler, result)
        stack.stop()
        stack.drop_stores()
    return result


# --- NLU --------------------------------------------------------------------------------------


def nlu_scores(model: Path, name: str, heldout: Path) -> dict[str, Any]:
    out = RESULTS / f"nlu-{name}"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONWARNINGS": "ignore"}
    subprocess.run(
        [str(rasa_bin()), "test", "nlu", "--model", str(model), "--nlu", str(heldout),
         "--out", str(out), "--no-plot", "--quiet"],
        cwd=ROOT, env=env, capture_output=True, check=True, timeout=1800,
    )
    scores: dict[str, Any] = {}
    intent = json.loads((out / "intent_report.json").read_text())
    scores["intent"] = {k: intent["weighted avg"][k] for k in ("precision", "recall", "f1-score")}
    scores["intent"]["accuracy"] = intent.get("accuracy")
    for report in sorted(out.glob("*_report.json")):
        if report.name in ("intent_report.json", "response_selection_report.json"):
            continue
        data = json.loads(report.read_text())
        avg = data.get("micro avg") or data.get("weighted avg")
        if avg:
            scores[f"entity:{report.stem.replace('_report', '')}"] = {
                k: avg[k] for k in ("precision", "recall", "f1-score")
            }
    # The policy answers on their own held-out paraphrases (tests/nlu/faq_heldout.yml).
    faq = subprocess.run(
        [str(rasa_bin().parent / "python"), str(ROOT / "scripts" / "faq_accuracy.py"), "--model", str(model), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=1800,
    )
    scores["faq"] = json.loads(faq.stdout.strip().splitlines()[-1])
    scores["train_s"] = train_seconds(model)
    return scores


# --- report -----------------------------------------------------------------------------------


def machine() -> str:
    return (
        f"{psutil.cpu_count()} CPU cores, {round(psutil.virtual_memory().total / 2**30)} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"load average before the run {os.getloadavg()[0]:.2f} (other work on the machine shows up here)"
    )


def render(results: list[ConfigResult], nlu: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [f"Machine: {machine()}", "",
             f"Connections: {args.connections} (each citizen's messages; bench/load.py CONNECTIONS)", ""]
    lines.append("| model | phase | citizens | think | messages | msg/s | p50 ms | p95 ms | p99 ms | errors | told/lost/dup |")
    lines.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        for p in r.phases:
            think = "none" if not p["think_s"][1] else f"{p['think_s'][0]:g}-{p['think_s'][1]:g} s"
            s = r.store
            lines.append(
                f"| {r.name} | {p['phase']} | {p['citizens']} | {think} | {p['messages']} | {p['throughput']:.1f} "
                f"| {p['p50_ms']:.0f} | {p['p95_ms']:.0f} | {p['p99_ms']:.0f} | {p['errors']} "
                f"| {p['completed']} told; store: {s.get('lost', '?')} lost, {s.get('duplicated', '?')} dup |"
            )
    lines += ["", "Peak resident memory (MB) of each process tree (largest single process in brackets):", ""]
    names = sorted({n for r in results for n in r.rss_mb})
    lines.append("| model | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for r in results:
        lines.append(
            f"| {r.name} | "
            + " | ".join(f"{r.rss_mb.get(n, 0)} ({r.rss_single_mb.get(n, 0)})" for n in names)
            + " |"
        )
    cpu_rows = [(r.name, p) for r in results for p in r.phases if p.get("cpu_ms_per_message")]
    if cpu_rows:
        procs = sorted({n for _, p in cpu_rows for n in p["cpu_ms_per_message"]})
        lines += ["", "CPU time per message answered (ms; user + system, all processes of each kind; "
                  "PostgreSQL: the whole server):", ""]
        lines.append("| model | phase | " + " | ".join(procs) + f" | all but the {DRIVER} |")
        lines.append("|---|---|" + "---:|" * (len(procs) + 1))
        for name, p in cpu_rows:
            cpu = p["cpu_ms_per_message"]
            stack_cpu = sum(v for n, v in cpu.items() if n != DRIVER)
            lines.append(f"| {name} | {p['phase']} | " + " | ".join(f"{cpu.get(n, 0):.1f}" for n in procs)
                         + f" | {stack_cpu:.1f} |")
        lines += ["", "The load driver (the simulated citizens) runs on the same cores. How the Rasa workers "
                  "shared the Rasa CPU of each phase (%):", ""]
        for r in results:
            for p in r.phases:
                if p.get("rasa_worker_shares"):
                    lines.append(f"- {r.name}, {p['phase']}: " + " / ".join(map(str, p["rasa_worker_shares"])))
    steps = [(r.name, p) for r in results for p in r.phases if p.get("slowest_steps")]
    if steps:
        lines += ["", "The steps of a conversation with the highest p95 (a step is named by what its reply must "
                  "hold; bench/conversations.py): messages, p50 / p95 ms:", ""]
        for name, p in steps:
            lines.append(f"- {name}, {p['phase']}: " + "; ".join(
                f"「{step}」 {n}, {p50:.0f} / {p95:.0f}" for step, n, p50, p95 in p["slowest_steps"]))
    by_name = {r.name: r for r in results}
    if "project" in by_name and "rasa-default" in by_name:
        a, b = by_name["project"], by_name["rasa-default"]
        ta = next(p for p in a.phases if p["phase"] == "throughput")
        tb = next(p for p in b.phases if p["phase"] == "throughput")
        la = next(p for p in a.phases if p["phase"] == "latency")
        lb = next(p for p in b.phases if p["phase"] == "latency")
        ratio = ta["throughput"] / tb["throughput"] if tb["throughput"] else float("inf")
        lines += ["", f"Throughput {a.name} / {b.name}: {ratio:.2f}x (saturation, {args.citizens} citizens); "
                  f"p95 at {args.citizens} typing citizens: {la['p95_ms']:.0f} ms vs {lb['p95_ms']:.0f} ms."]
    lines += ["", "NLU on tests/nlu/heldout.yml (weighted averages; entities: micro average) and training time:", ""]
    lines.append("| model | intent P | intent R | intent F1 | entities P/R/F1 | training |")
    lines.append("|---|---:|---:|---:|---|---:|")
    for name, s in nlu.items():
        ents = "; ".join(
            f"{k.split(':', 1)[1]} {v['precision']:.3f}/{v['recall']:.3f}/{v['f1-score']:.3f}"
            for k, v in s.items() if k.startswith("entity:")
        ) or "-"
        train = f"{s['train_s']} s" if s.get("train_s") else "not recorded (trained before timing)"
        i = s["intent"]
        lines.append(f"| {name} | {i['precision']:.3f} | {i['recall']:.3f} | {i['f1-score']:.3f} | {ents} | {train} |")
    if any("faq" in s for s in nlu.values()):
        lines += ["", "Policy answers on tests/nlu/faq_heldout.yml (answered right = intent faq and the right answer):", ""]
        lines.append("| model | answered right | clarified | wrong answer | other intent | most frequent confusions |")
        lines.append("|---|---:|---:|---:|---:|---|")
        for name, s in nlu.items():
            f = s.get("faq")
            if not f:
                continue
            top = ", ".join(f"{c['expected']}->{c['got']} x{c['n']}" for c in f["confusions"][:4]) or "-"
            lines.append(f"| {name} | {f['accuracy']:.1%} of {f['total']} | {f['clarified']} | {f['wrong_answer']} "
                         f"| {f['other_intent']} | {top} |")
    for r in results:
        if r.profile:
            lines += ["", f"py-spy, one Rasa worker of {r.name} during the throughput phase (inclusive share):",
                      "```", r.profile, "```"]
    return "\n".join(lines)


# The figures the performance targets were set against (measured before the linear pipeline, on
# a 2-core machine of this kind, in another run): shown for reference only; the comparison that
# counts is the previous configuration trained and loaded in the same run.
ISSUE_BEFORE = {
    "train": "874 s", "archive": "218 MB", "rss_one": "1400-1600 MB", "rss_all": "5200 MB",
    "ready": "81 s", "saturation": "14.5 msg/s, p95 2000 ms", "typing": "-", "dev_ratio": "3.5x",
    "nlu": "0.938 / 91.7%",
}


def _phase(result: ConfigResult | None, phase: str) -> dict[str, Any] | None:
    if result is None:
        return None
    return next((p for p in result.phases if p["phase"] == phase), None)


def _rasa_single(result: ConfigResult | None) -> int | None:
    if result is None:
        return None
    sizes = [v for k, v in result.rss_single_mb.items() if k.startswith("rasa")]
    return max(sizes) if sizes else None


def targets_table(results: dict[str, ConfigResult], dev: dict[str, ConfigResult],
                  nlu: dict[str, dict[str, Any]], citizens: int = 20) -> str:
    """The performance targets: previous configuration and project side by side (this run)."""
    default = results.get("rasa-default")

    def column(name: str) -> dict[str, str]:
        r, d, n = results.get(name), dev.get(name), nlu.get(name) or {}
        cells: dict[str, str] = {}
        train = (r.train_s if r else None) or n.get("train_s")
        cells["train"] = f"{train} s" if train else "not recorded"
        if train and default and default.train_s:
            cells["train"] += f" ({train / default.train_s:.2f} of default)"
        cells["archive"] = f"{r.archive_mb:.1f} MB" if r else "-"
        one = _rasa_single(r)
        cells["rss_one"] = f"{one} MB" if one else "-"
        cells["rss_all"] = f"{sum(r.rss_mb.values())} MB" if r and r.rss_mb else "-"
        cells["ready"] = (f"{d.startup_s:.0f} s (production {r.startup_s:.0f} s)" if d and r
                          else f"production {r.startup_s:.0f} s" if r else "-")
        sat, typ = _phase(r, "throughput"), _phase(r, "latency")
        cells["saturation"] = f"{sat['throughput']:.1f} msg/s, p95 {sat['p95_ms']:.0f} ms" if sat else "-"
        default_sat = _phase(default, "throughput")
        if sat and default_sat and default_sat["throughput"]:
            cells["saturation"] += f" ({sat['throughput'] / default_sat['throughput']:.1f}x default)"
        cells["typing"] = f"p95 {typ['p95_ms']:.0f} ms" if typ else "-"
        dev_sat = _phase(d, "throughput")
        if sat and dev_sat and dev_sat["throughput"]:
            cells["dev_ratio"] = (f"{sat['throughput'] / dev_sat['throughput']:.2f}x "
                                  f"({dev_sat['throughput']:.1f} msg/s, p95 {dev_sat['p95_ms']:.0f} ms)")
        else:
            cells["dev_ratio"] = "-"
        if n.get("intent"):
            faq = n.get("faq") or {}
            cells["nlu"] = f"{n['intent']['f1-score']:.3f} / " + (f"{faq['accuracy']:.1%}" if faq else "-")
        else:
            cells["nlu"] = "-"
        return cells

    rows = [
        ("train", "training from scratch", "<= 180 s and <= 1/3 of default"),
        ("archive", "model archive", "<= 50 MB"),
        ("rss_one", "RSS of one Rasa process, model loaded (peak)", "<= 800 MB"),
        ("rss_all", "whole production profile, all processes (peak)", "<= 3000 MB"),
        ("ready", "ready after start, trained model (`make run`'s processes)", "<= 30 s"),
        ("saturation", f"{citizens} citizens without pause, production", ">= 2.5x default, p95 <= 500 ms"),
        ("typing", f"{citizens} citizens typing 1-3 s, production", "p95 <= 150 ms"),
        ("dev_ratio", "development slower than production, same load", "<= 1.5x"),
        ("nlu", "held-out intent F1 / FAQ accuracy", "not lower"),
    ]
    previous, project = column("previous"), column("project")
    lines = ["| figure | before (reported, another run) | previous config (this run) | project (this run) | target |",
             "|---|---|---|---|---|"]
    for key, label, target in rows:
        lines.append(f"| {label} | {ISSUE_BEFORE[key]} | {previous[key]} | {project[key]} | {target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--default-model", type=Path, help="model trained with bench/config.default.yml")
    parser.add_argument("--previous-model", type=Path, help="model trained with bench/config.previous.yml")
    parser.add_argument("--skip-development", action="store_true", help="no run of the development profile")
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=3.0)
    parser.add_argument("--rasa-workers", type=int, default=2)
    parser.add_argument("--connections", choices=CONNECTIONS, default=CONNECTIONS[0],
                        help="each conversation on a keep-alive connection of its own (default), one "
                             "connection per simulated citizen for the whole phase, or each message on a "
                             "new connection, as nginx sends it (bench/load.py)")
    parser.add_argument("--action-workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="py-spy one Rasa worker under load")
    parser.add_argument("--skip-nlu", action="store_true")
    parser.add_argument("--heldout", type=Path, default=ROOT / "tests" / "nlu" / "heldout.yml")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else ROOT / path

    models = [("project", absolute(args.model))]
    if args.previous_model:
        models.append(("previous", absolute(args.previous_model)))
    if args.default_model:
        models.append(("rasa-default", absolute(args.default_model)))
    results = [run_config(name, model, args) for name, model in models]
    dev = {} if args.skip_development else {
        name: run_development(name, model, args) for name, model in models if name in ("project", "previous")}
    nlu: dict[str, dict[str, Any]] = {}
    for name, model in [] if args.skip_nlu else models:
        try:
            nlu[name] = nlu_scores(model, name, args.heldout)
        except subprocess.CalledProcessError as exc:  # the load figures are kept and reported
            print(f"[{name}] NLU scores failed: {(exc.stderr or '')[-2000:]}", flush=True)
    report = render(results + list(dev.values()), nlu, args)
    report += "\n\nPerformance targets (this machine, this run):\n\n" + targets_table(
        {r.name: r for r in results}, dev, nlu, args.citizens)
    (RESULTS / "report.md").write_text(report + "\n", encoding="utf-8")
    (RESULTS / "report.json").write_text(
        json.dumps({"machine": machine(), "connections": args.connections, "configs": [asdict(r) for r in results],
                    "development": [asdict(r) for r in dev.values()], "nlu": nlu}, indent=2,
                   ensure_ascii=False),
        encoding="utf-8",
    )
    print()
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

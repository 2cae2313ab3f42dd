"""`make bench-scale`: the scale-out topology under load, one Rasa replica killed half-way.

The topology of ``tests/production/test_scale_out.py`` (``tests/support/scaleout.py``): two
Rasa REST replicas (1 Sanic worker each by default) and the socket.io process sharing the
PostgreSQL tracker store and the Redis lock store, the action server (2 workers), the back
office, Debian's nginx in front running ``deploy/nginx.conf`` (upstreams rewritten to
loopback, the REST route opened onto the ``rasa_rest`` upstream); fresh databases. Then:

1. warm-up: a few messages through nginx to each replica;
2. N citizens (default 20) with no pause at all, through nginx, starting conversations for the
   set duration (default 180 s); every failed message is sent again until answered, as
   ``bench/load.py`` describes (what a client sees when its replica dies);
3. at half time ``rasa-a`` is SIGKILLed;
4. every conversation is checked against the ``cases`` table: a case number told to a citizen
   must be exactly one row of that conversation (lost: none; duplicated: more than one).

Printed and saved to ``results/bench/scale.json`` and ``scale.md``: replies per second and p50 /
p95 latency (a message's latency runs from its first attempt to its answer, waits and
retries included) before the kill, of the messages in flight at the kill, after the kill
while the citizens whose message was in flight wait for the dead process's lock tickets to
expire (up to 60 s, Rasa's TICKET_LOCK_LIFETIME), and after that with every citizen on the
survivor; the failed attempts clients saw, the messages that needed a retry and how long
they waited, lost and duplicated cases. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.load import FailoverResult, percentile, run_failover_phase, tracker_recovery
from bench.run import RESULTS, machine
from tests.support.nginx import NGINX
from tests.support.scaleout import REPLICAS, ScaleOut, case_rows, check_cases, new_stack, start
from tests.support.stack import ROOT


async def drive(deployment: ScaleOut, args: argparse.Namespace) -> tuple[FailoverResult, dict[str, float]]:
    stack = deployment.stack
    result = FailoverResult("scale", args.citizens, (args.think_min, args.think_max), window=args.duration)
    times: dict[str, float] = {"start": time.monotonic()}

    async def killer() -> None:
        await asyncio.sleep(args.duration * args.kill_at)
        times["kill"] = time.monotonic()
        await asyncio.to_thread(stack.kill, args.victim)

    kill = asyncio.create_task(killer())
    await run_failover_phase(
        "scale", deployment.rest_url, args.citizens, args.duration, (args.think_min, args.think_max),
        stack.key_prefix[-6:], headers=stack.rest_headers(),
        recover=tracker_recovery(deployment.api_bases, stack.rasa_token), result=result,
    )
    await kill
    times["end"] = times["start"] + args.duration
    times["done"] = time.monotonic()
    return result, times


def figures(result: FailoverResult, times: dict[str, float], deployment: ScaleOut,
            args: argparse.Namespace, machine_line: str) -> dict[str, Any]:
    start, kill, end = times["start"], times["kill"], times["end"]
    messages = [(at, at + ms / 1000, ms) for at, ms in zip(result.sent_at, result.latencies_ms)]
    retried = result.retried
    # The citizens whose message was in flight on the dead replica wait for its lock tickets
    # to expire; after the last of them is answered every citizen talks to the survivor.
    released = max([r.started + r.waited_ms / 1000 for r in retried if r.started < kill], default=kill)

    def window(lo: float, hi: float, *, sent_before: bool = False) -> dict[str, Any]:
        """Messages sent in [lo, hi) (with ``sent_before``: sent before ``lo``, answered in
        [lo, hi)), and the replies per second answered in [lo, hi)."""
        if hi <= lo:
            return {"seconds": 0.0, "messages": 0, "replies_per_s": None, "p50_ms": None, "p95_ms": None,
                    "max_ms": None}
        if sent_before:
            latencies = [ms for at, done, ms in messages if at < lo <= done]
        else:
            latencies = [ms for at, done, ms in messages if lo <= at < hi and not (lo == start and done >= kill)]
        replies = sum(1 for _, done, _ in messages if lo <= done < hi)
        return {
            "seconds": None if sent_before else round(hi - lo, 1),
            "messages": len(latencies),
            "replies_per_s": None if sent_before else round(replies / (hi - lo), 2),
            "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
        }

    waits = [r.waited_ms for r in retried]
    check = check_cases(case_rows(deployment.stack), result.completed, result.senders)
    passed_on = [p for p in deployment.nginx.upstream_lines("/webhooks/rest/") if len(p.upstreams) > 1]
    return {
        "machine": machine_line,
        "citizens": args.citizens,
        "think_s": [args.think_min, args.think_max],
        "duration_s": args.duration,
        "rasa_workers_per_replica": args.rasa_workers,
        "killed": args.victim,
        "killed_at_s": round(kill - start, 1),
        "locks_released_at_s": round(released - start, 1),
        "windows": {
            "before the kill (2 replicas)": window(start, kill),
            "in flight at the kill": window(kill, max(released, end), sent_before=True),
            "after the kill, while citizens wait for the dead replica's locks": window(kill, min(released, end)),
            "after the kill, every citizen on the survivor": window(released, end),
        },
        "conversations": result.conversations,
        "completed": len(result.completed),
        "unfinished": result.unfinished,
        "failed_attempts": dict(result.failed_attempts),  # what clients saw, then sent again
        "messages_retried": len(retried),
        "retried_answered": sum(1 for r in retried if r.answered),
        "answers_read_back_from_store": sum(1 for r in retried if r.recovered),
        "retry_wait_ms": {"median": round(percentile(waits, 50)), "max": round(max(waits))} if waits else {},
        "conversation_errors": dict(result.errors),
        "error_examples": result.error_examples,
        "nginx_passed_on_after_refused": len(passed_on),
        "store": {**asdict(check), "duplicated": len(check.duplicated), "lost": len(check.lost),
                  "filed_untold": len(check.filed_untold)},
        "store_details": {"lost": check.lost, "duplicated": check.duplicated},
    }


def render(f: dict[str, Any]) -> str:
    s = f["store"]

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:.0f}"

    lines = [
        f"Machine: {f['machine']}",
        "",
        f"{f['citizens']} citizens without pause through nginx for {f['duration_s']:g} s; two Rasa REST replicas "
        f"({f['rasa_workers_per_replica']} Sanic worker each) + socket.io process; `{f['killed']}` SIGKILLed at "
        f"{f['killed_at_s']:g} s; the last message in flight on it answered at {f['locks_released_at_s']:g} s.",
        "",
        "| messages | seconds | count | replies/s | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, w in f["windows"].items():
        rate = "-" if w["replies_per_s"] is None else f"{w['replies_per_s']:.1f}"
        seconds = "-" if w["seconds"] is None else f"{w['seconds']:g}"
        lines.append(f"| {name} | {seconds} | {w['messages']} | {rate} | {ms(w['p50_ms'])} "
                     f"| {ms(w['p95_ms'])} | {ms(w['max_ms'])} |")
    lines += [
        "",
        f"Failed attempts seen by clients (each sent again): {f['failed_attempts'] or 'none'}; "
        f"{f['messages_retried']} messages needed a retry, {f['retried_answered']} answered "
        f"({f['answers_read_back_from_store']} read back from the tracker store: processed before the kill, "
        f"answer lost); wait until answered {f['retry_wait_ms'] or '-'} ms. nginx passed "
        f"{f['nginx_passed_on_after_refused']} messages on to the survivor after the dead replica refused them.",
        f"Conversations: {f['conversations']} started, {f['completed']} told a case number, "
        f"{f['unfinished']} citizens unfinished at the end; conversation errors: {f['conversation_errors'] or 'none'}.",
        f"Store: {s['cases']} cases, {s['told']} told; {s['lost']} lost, {s['duplicated']} duplicated, "
        f"{s['filed_untold']} filed but never told.",
    ]
    if f["error_examples"]:
        lines += ["", "Error examples:", *[f"- {e}" for e in f["error_examples"]]]
    if f["store_details"]["lost"] or f["store_details"]["duplicated"]:
        lines += ["", f"Lost: {f['store_details']['lost']}; duplicated: {f['store_details']['duplicated']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="model file (default: MODEL_PATH or `make model`'s)")
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--duration", type=float, default=180.0,
                        help="seconds during which conversations start (long enough for a clean window "
                             "after the dead replica's 60-s locks)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the duration")
    parser.add_argument("--victim", default=REPLICAS[0], choices=REPLICAS)
    parser.add_argument("--think-min", type=float, default=0.0)
    parser.add_argument("--think-max", type=float, default=0.0)
    parser.add_argument("--rasa-workers", type=int, default=1, help="Sanic workers per REST replica")
    args = parser.parse_args(argv)
    if not Path(NGINX).is_file():
        print(f"nginx not found ({NGINX}): `make browser` installs Debian's nginx-light", file=sys.stderr)
        return 2
    machine_line = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    model = args.model and (args.model if args.model.is_absolute() else ROOT / args.model)
    stack = new_stack("bench-scale", RESULTS / "work-scale", model=model, rasa_workers=args.rasa_workers)
    print("[scale] starting 2 REST replicas, socket.io, actions, back office and nginx ...", flush=True)
    deployment = start(stack, RESULTS / "work-scale" / "nginx")
    try:
        deployment.warm_up()
        print(f"[scale] {args.citizens} citizens for {args.duration:g} s, {args.victim} killed at "
              f"{args.duration * args.kill_at:g} s ...", flush=True)
        result, times = asyncio.run(drive(deployment, args))
        report = figures(result, times, deployment, args, machine_line)
    finally:
        deployment.stop()
    (RESULTS / "scale.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    text = render(report)
    (RESULTS / "scale.md").write_text(text + "\n", encoding="utf-8")
    print()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

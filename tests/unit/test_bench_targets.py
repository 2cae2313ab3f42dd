"""`make bench`'s table of the performance targets: every figure comes from the run's results."""

from __future__ import annotations

from bench.run import ConfigResult, targets_table


def result(name: str, train_s: int, msg_s: float, p95: float, rss: int, kind: str = "production") -> ConfigResult:
    r = ConfigResult(name, f"{name}.tar.gz", archive_mb=3.2, train_s=train_s, startup_s=11.6, profile_kind=kind)
    base = {"citizens": 20, "messages": 100, "p50_ms": 50.0, "p99_ms": 900.0, "errors": 0, "completed": 3}
    r.phases = [
        {**base, "phase": "latency", "think_s": [1, 3], "throughput": 5.0, "p95_ms": 120.0},
        {**base, "phase": "throughput", "think_s": [0, 0], "throughput": msg_s, "p95_ms": p95},
    ]
    r.rss_mb = {"rasa": 2 * rss, "rasa-socketio": rss, "actions": 150, "backoffice": 120}
    r.rss_single_mb = {"rasa": rss, "rasa-socketio": rss, "actions": 80, "backoffice": 120}
    return r


def test_the_table_puts_the_previous_configuration_and_the_project_side_by_side() -> None:
    results = {
        "project": result("project", 24, 42.0, 310.0, 420),
        "previous": result("previous", 602, 14.0, 2100.0, 1450),
        "rasa-default": result("rasa-default", 1800, 12.0, 2600.0, 1600),
    }
    dev = {"project": result("project (development)", 24, 35.0, 400.0, 430, "development")}
    nlu = {"project": {"intent": {"f1-score": 0.948}, "faq": {"accuracy": 0.951}}}
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in targets_table(results, dev, nlu).splitlines()}
    training = rows["training from scratch"]
    assert training[2] == "602 s (0.33 of default)" and training[3] == "24 s (0.01 of default)"
    assert rows["model archive"][3] == "3.2 MB"
    assert rows["RSS of one Rasa process, model loaded (peak)"][2:4] == ["1450 MB", "420 MB"]
    assert rows["whole production profile, all processes (peak)"][3] == f"{3 * 420 + 150 + 120} MB"
    assert rows["20 citizens without pause, production"][3] == "42.0 msg/s, p95 310 ms (3.5x default)"
    assert rows["development slower than production, same load"][3].startswith("1.20x (35.0 msg/s")
    assert rows["development slower than production, same load"][2] == "-"  # not run for the previous one
    assert rows["held-out intent F1 / FAQ accuracy"][3] == "0.948 / 95.1%"

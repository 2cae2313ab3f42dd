"""The load driver sends each citizen's messages as ``--connections`` says (bench/load.py)."""

from __future__ import annotations

import time

import pytest
from aiohttp import web

import bench.load
import bench.run
from bench.conversations import Citizen, Turn


async def rest_endpoint(webhook) -> tuple[web.AppRunner, str]:
    """A REST channel stand-in answering with ``webhook``; its runner and URL."""
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/webhooks/rest/webhook"


async def served(monkeypatch, connections: str) -> tuple[int, set, list[str]]:
    """Two citizens for a moment against a REST endpoint that answers every message: the
    messages answered, the client connections (address and port) they came on, and the
    senders seen."""
    monkeypatch.setattr(
        bench.load, "conversation",
        lambda rng: (Citizen("张建国", "", ""), [Turn("你好", ("好的",)), Turn("我要投诉", ("好的",))]),
    )
    peers: set = set()
    senders: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        senders.append((await request.json())["sender"])
        return web.json_response([{"text": "好的"}])

    runner, url = await rest_endpoint(webhook)
    try:
        result = await bench.load.run_phase(
            "throughput", url, 2, 0.3, (0.0, 0.0), "t",
            grace=5, connections=connections,
        )
    finally:
        await runner.cleanup()
    assert not result.errors and result.messages == len(senders) >= 4
    return result.messages, peers, senders


async def test_per_message_sends_every_message_on_a_new_connection(monkeypatch) -> None:
    messages, peers, _ = await served(monkeypatch, "per-message")
    assert len(peers) == messages


async def test_keep_alive_keeps_one_connection_per_citizen(monkeypatch) -> None:
    messages, peers, senders = await served(monkeypatch, "keep-alive")
    assert len(peers) == 2 < messages
    assert len({s.rsplit("-", 1)[0] for s in senders}) == 2  # two citizens, several conversations each


async def test_per_conversation_opens_one_connection_for_each_conversation(monkeypatch) -> None:
    messages, peers, senders = await served(monkeypatch, "per-conversation")
    conversations = set(senders)
    assert len(peers) == len(conversations) > 2 and messages == 2 * len(conversations)


def test_the_default_is_a_connection_per_conversation() -> None:
    assert bench.load.CONNECTIONS[0] == "per-conversation"


def test_the_workers_shares_leave_out_the_process_that_only_watches() -> None:
    before = {1: 0.5, 2: 10.0, 3: 20.0}
    after = {1: 0.51, 2: 16.0, 3: 24.0, 4: 0.0}
    assert bench.run.worker_shares(before, after) == [60, 40]
    assert bench.run.worker_shares(after, after) == []


async def test_an_unknown_way_of_connecting_is_refused() -> None:
    with pytest.raises(ValueError, match="per-message"):
        await bench.load.run_phase("x", "http://127.0.0.1:9/", 1, 0.1, (0.0, 0.0), "t", connections="pooled")


def test_the_slowest_steps_are_named_by_what_their_reply_holds() -> None:
    result = bench.load.PhaseResult("throughput", 2, (0.0, 0.0))
    result.by_step = {"姓名": [10.0, 20.0, 30.0], "信访件编号": [100.0, 300.0], "是否同意": [50.0]}
    assert result.slowest_steps(2) == [("信访件编号", 2, 100.0, 300.0), ("是否同意", 1, 50.0, 50.0)]


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert bench.load.percentile(values, 95) == 19.0 and bench.load.percentile(values, 50) == 10.0
    assert bench.load.percentile(values, 100) == 20.0 and bench.load.percentile([7.0], 1) == 7.0


async def test_typing_citizens_do_not_all_begin_in_the_same_moment(monkeypatch) -> None:
    monkeypatch.setattr(
        bench.load, "conversation", lambda rng: (Citizen("张建国", "", ""), [Turn("你好", ("好的",))]),
    )
    first: dict[str, float] = {}

    async def webhook(request: web.Request) -> web.Response:
        citizen = (await request.json())["sender"].rsplit("-", 1)[0]
        first.setdefault(citizen, time.monotonic())
        return web.json_response([{"text": "好的"}])

    runner, url = await rest_endpoint(webhook)
    try:
        await bench.load.run_phase("latency", url, 8, 0.8,
                                   (0.2, 0.6), "t", grace=5)
    finally:
        await runner.cleanup()
    moments = sorted(first.values())
    assert len(moments) == 8 and moments[-1] - moments[0] > 0.2


def test_the_development_run_starts_without_the_stores_of_an_earlier_run(tmp_path) -> None:
    workdir = tmp_path / "work-dev-project"
    (workdir / "logs").mkdir(parents=True)
    (workdir / "backoffice.db").write_bytes(b"cases of an earlier run")
    assert bench.run.fresh_workdir(workdir) == workdir and list(workdir.iterdir()) == []

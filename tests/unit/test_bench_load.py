"""The load driver sends each citizen's messages as ``--connections`` says (bench/load.py)."""

from __future__ import annotations

import pytest
from aiohttp import web

import bench.load
from bench.conversations import Citizen, Turn


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

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        result = await bench.load.run_phase(
            "throughput", f"http://127.0.0.1:{port}/webhooks/rest/webhook", 2, 0.3, (0.0, 0.0), "t",
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


async def test_an_unknown_way_of_connecting_is_refused() -> None:
    with pytest.raises(ValueError, match="per-message"):
        await bench.load.run_phase("x", "http://127.0.0.1:9/", 1, 0.1, (0.0, 0.0), "t", connections="pooled")

"""The citizen pages of the back office without a browser: what is served, from where, and
with which headers (the browser tests in tests/browser/test_webchat.py use them for real)."""

from __future__ import annotations

import json
import re

import pytest

from bot.rules.jurisdiction import load_jurisdiction

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

SOCKET_URL = "https://chat.xinfang.example.org"


async def test_the_chat_page_names_its_socket_server_and_nothing_else_remote(make_client, make_settings) -> None:
    client = await make_client(make_settings(CHAT_SOCKET_URL=SOCKET_URL + "/"))
    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    config = json.loads(re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["socketUrl"] == SOCKET_URL and config["socketPath"] == "/socket.io"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert f"connect-src 'self' {SOCKET_URL} wss://chat.xinfang.example.org" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # every script and style comes from the back office itself
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") or s.startswith("data:") for s in sources), sources
    # the notice before chatting, and the link to the statement
    assert "征得您的同意" in html and 'href="/privacy"' in html
    assert load_jurisdiction().agency in html


async def test_the_privacy_statement_comes_from_the_jurisdiction_configuration(client) -> None:
    response = await client.get("/privacy")
    assert response.status == 200
    html = await response.text()
    jurisdiction = load_jurisdiction()
    for value in (jurisdiction.agency, jurisdiction.hotline, jurisdiction.data_retention, jurisdiction.address):
        assert value in html
    for heading in ("个人信息处理者", "处理目的", "敏感个人信息", "保存期限", "您的权利", "撤回同意", "境内"):
        assert heading in html


async def test_the_widget_and_the_socket_io_client_are_served_locally(client) -> None:
    html = await (await client.get("/")).text()
    for path in re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        response = await client.get(path)
        assert response.status == 200, path
        body = await response.text()
        assert len(body) > 1000, path
    socket_io = re.search(r'<script src="(/static/chat/vendor/socket\.io/[^"]+)"', html).group(1)
    assert "engine.io" in await (await client.get(socket_io)).text()

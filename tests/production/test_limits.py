"""The production profile's protections, against the running stack: per-sender channel limits
shared by every worker and replica, message and body size limits, the status-lookup limit,
the protected Rasa HTTP API, and processes listening on loopback only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid

import psutil
import pytest
import redis

from tests.production.conftest import CHANNEL_LIMIT, CHANNEL_WINDOW, Profile
from tests.production.helpers import ReplicaChat
from tests.support.stack import TEST_REDIS_SERVER, new_sender, texts_of

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def user_texts(profile: Profile, sender: str) -> list[str]:
    events = profile.stack.tracker(sender)["events"]
    return [e.get("text") for e in events if e.get("event") == "user"]


def test_a_sender_over_its_limit_is_refused_on_every_replica_and_others_are_not(
    profile: Profile,
) -> None:
    stack = profile.stack
    # Stay inside one fixed window (they are aligned to the epoch).
    if time.time() % CHANNEL_WINDOW > CHANNEL_WINDOW - 90:
        time.sleep(CHANNEL_WINDOW - time.time() % CHANNEL_WINDOW + 1)
    flooder, bystander = new_sender("flood"), new_sender("calm")
    for i in range(CHANNEL_LIMIT):  # alternating replicas: one counter for the sender
        status, body, _ = stack.post_message(flooder, "你好", replica=("rasa", "rasa-socketio")[i % 2])
        assert status == 200 and body, (i, status, body)
    for replica in ("rasa", "rasa-socketio"):
        status, body, headers = stack.post_message(flooder, "你好", replica=replica)
        assert status == 429, (replica, status, body)
        assert "太频繁" in texts_of(body) and int(headers["Retry-After"]) > 0
    # The refused messages never reached the assistant ...
    assert len(user_texts(profile, flooder)) == CHANNEL_LIMIT
    # ... and another citizen is served as usual meanwhile.
    status, body, _ = stack.post_message(bystander, "你好")
    assert status == 200 and "智能助手" in texts_of(body)


def test_a_too_long_message_is_refused_politely_and_not_processed(profile: Profile) -> None:
    stack, sender = profile.stack, new_sender("long")
    status, body, _ = stack.post_message(sender, "工资" * 1001)  # 2002 characters
    assert status == 413 and "太长" in texts_of(body), body
    status, body, _ = stack.post_message(sender, "工" * 2000)  # the limit itself passes
    assert status == 200, body
    assert [len(t) for t in user_texts(profile, sender)] == [2000]


def test_oversized_and_malformed_bodies_are_refused(profile: Profile) -> None:
    stack = profile.stack
    big = json.dumps({"sender": new_sender("big"), "message": "a" * 70_000}).encode()
    status, _, _ = stack.post_message("", None, raw=big)
    assert status == 413
    for raw in (b"not json", b"[]", json.dumps({"sender": "x"}).encode(),
                json.dumps({"sender": "x" * 129, "message": "你好"}).encode()):
        status, body, _ = stack.post_message("", None, raw=raw)
        assert status == 400 and body["error"] == "bad_request", (raw, status, body)


def test_failed_status_lookups_are_limited_per_case_through_the_chat(profile: Profile) -> None:
    stack = profile.stack
    chat = ReplicaChat(stack, "guess")
    case_no = f"XF2026{int(time.time() * 1000) % 10**6:06d}"  # unlikely to exist; counted anyway
    replies = [chat.say(f"查一下{case_no}，查询码{code:06d}") for code in range(6)]
    assert all("未找到" in r for r in replies[:5]), replies
    assert "查询次数过多" in replies[5], replies[5]
    # The counters are in the shared Redis, under this deployment's prefix.
    client = redis.Redis.from_url(TEST_REDIS_SERVER)
    try:
        assert list(client.scan_iter(match=f"{stack.key_prefix}:rl:status-case:*"))
        assert list(client.scan_iter(match=f"{stack.key_prefix}:ch:channel-sender:*"))
    finally:
        client.close()


def _jwt(secret: str, payload: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_rasa_http_api_needs_the_token_or_a_signed_jwt(profile: Profile) -> None:
    stack = profile.stack
    url = f"{stack.rasa_url}/conversations/{new_sender('api')}/tracker"
    assert _status(url) == 401
    assert _status(f"{url}?token=wrong-token") == 401
    assert _status(f"{url}?token={stack.rasa_token}") == 200
    admin = {"user": {"username": "ops", "role": "admin"}}
    assert _status(url, {"Authorization": f"Bearer {_jwt(stack.jwt_secret, admin)}"}) == 200
    forged = _jwt("not-the-secret-at-all", admin)
    assert _status(url, {"Authorization": f"Bearer {forged}"}) == 401
    assert _status(f"{stack.rasa_url}/status") == 401


def test_every_process_listens_on_loopback_only(profile: Profile) -> None:
    stack = profile.stack
    pids: dict[int, str] = {}
    for name, proc in stack.processes.items():
        parent = psutil.Process(proc.popen.pid)
        for member in [parent, *parent.children(recursive=True)]:
            pids[member.pid] = name
    listening = [
        (pids[c.pid], c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    ]
    names = {name for name, _, _ in listening}
    assert {"backoffice", "actions", "rasa", "rasa-socketio"} <= names, listening
    assert all(ip == "127.0.0.1" for _, ip, _ in listening), listening


def test_the_web_chat_over_socketio_is_served_and_limited(profile: Profile) -> None:
    """The chat page's transport (engine.io long-polling) against the socket.io process."""
    import subprocess

    from tests.support.stack import ROOT, rasa_python

    stack = profile.stack
    asked = uuid.uuid4().hex  # not signed by this server: the channel hands out its own
    result = subprocess.run(
        [str(rasa_python()), "-W", "ignore", str(ROOT / "tests/production/socketio_chat.py"),
         f"http://127.0.0.1:{stack.port_of('rasa-socketio')}", asked, "你好", "长" * 2001],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    *_, session, replies = result.stdout.strip().splitlines()
    assert session != asked and len(session) == 32
    greeting, too_long = json.loads(replies)
    assert any("智能助手" in text for text in greeting), greeting
    assert any("太长" in text for text in too_long), too_long
    assert user_texts(profile, session) == ["你好"]  # the long one never reached the assistant

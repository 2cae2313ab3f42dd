"""WeChat callbacks signed with the right token that must still be refused: a plaintext callback
while safe mode (an EncodingAESKey) is configured, a callback more than 5 minutes old or ahead,
and a recorded callback sent again — to the same worker, and (nonces in Redis, as in
production) to another worker. The real channel (``connectors/wechat.py``) runs under Sanic in
the Rasa environment (``wechat_replay_support.py``); its stand-in assistant records what
reaches it, so the tests assert both what WeChat is answered and what was processed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUPPORT = Path(__file__).with_name("wechat_replay_support.py")
RASA_PYTHON = REPO / ".venv" / "rasa" / "bin" / "python"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def run_channel(redis_url: str = "") -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "APP_ENV": "development"}
    for name in [n for n in env if n.startswith("WECHAT_")]:
        env.pop(name)  # the developer's WeChat variables would win over the test's account
    result = subprocess.run([str(RASA_PYTHON), str(SUPPORT), *([redis_url] if redis_url else [])],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def memory_run() -> dict:
    return run_channel()


@pytest.fixture(scope="module")
def redis_run() -> dict:
    return run_channel(REDIS_URL)


def test_a_plaintext_callback_is_refused_when_safe_mode_is_configured(memory_run: dict) -> None:
    assert memory_run["plaintext"] == [403, "encrypted message required"]
    status, body = memory_run["safe_mode"]
    assert status == 200 and "<Encrypt>" in body  # the same kind of message, encrypted: answered
    assert "明文消息" not in memory_run["received"] and "加密消息" in memory_run["received"]


def test_callbacks_older_or_newer_than_five_minutes_are_refused(memory_run: dict) -> None:
    assert memory_run["six_minutes_old"] == [403, "stale request"]
    assert memory_run["six_minutes_ahead"] == [403, "stale request"]
    assert memory_run["one_minute_old"][0] == 200
    received = memory_run["received"]
    assert "旧消息" not in received and "未来消息" not in received and "一分钟前" in received


def test_a_replayed_callback_is_refused(memory_run: dict) -> None:
    assert memory_run["recorded"][0] == 200
    assert memory_run["replayed"] == [403, "replayed request"]


@pytest.mark.redis
def test_a_replay_to_another_worker_is_refused_with_the_shared_nonce_store(redis_run: dict) -> None:
    assert redis_run["recorded"][0] == 200
    assert redis_run["replayed"] == [403, "replayed request"]
    assert redis_run["replayed_other_worker"] == [403, "replayed request"]
    assert redis_run["received"].count("被录下的消息") == 1
    assert redis_run["redis_nonce_keys"] >= 4  # the nonces were kept in Redis

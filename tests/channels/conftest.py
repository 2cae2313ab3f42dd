"""One real stack whose Rasa server runs the WeChat channel (connectors/wechat.py), with the
customer-service API pointed at a local fake and the action server behind a proxy that makes
the assistant slow for some conversations. Logs: test-artifacts/channels-wechat/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.channels.wechat_support import (
    APP_ID,
    APP_SECRET,
    ENCODING_AES_KEY,
    TOKEN,
    FakeWeChatApi,
    SlowActionProxy,
    WeChatServer,
)
from tests.support.stack import Stack

PRIVACY_URL = "https://xinfang.example.org/privacy"


@dataclass
class WeChatStack:
    stack: Stack
    api: FakeWeChatApi
    proxy: SlowActionProxy
    wechat: WeChatServer


@pytest.fixture(scope="session")
def wechat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeChatStack]:
    workdir = tmp_path_factory.mktemp("channels-wechat")
    api = FakeWeChatApi().start()
    # WECHAT_* variables of the developer's shell would win over the credentials file.
    neutral = {name: "" for name in ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET",
               "WECHAT_ENCODING_AES_KEY", "WECHAT_API_BASE_URL", "WECHAT_PRIVACY_URL",
               "WECHAT_REDIS_URL", "WECHAT_REPLY_TIMEOUT_SECONDS")}
    stack = Stack(name="channels-wechat", workdir=workdir, env=neutral)
    proxy = SlowActionProxy(upstream=f"http://127.0.0.1:{stack.action_port}/webhook").start()
    stack.action_url = f"{proxy.url}/webhook"
    credentials = workdir / "credentials.yml"
    credentials.write_text(
        json.dumps(  # JSON is YAML
            {
                "connectors.restchannel.NamespacedRestInput": None,
                "connectors.wechat.WeChatInput": {
                    "token": TOKEN,
                    "app_id": APP_ID,
                    "app_secret": APP_SECRET,
                    "encoding_aes_key": ENCODING_AES_KEY,
                    "api_base_url": api.url,
                    "privacy_url": PRIVACY_URL,
                },
            }
        ),
        encoding="utf-8",
    )
    stack.credentials = credentials
    try:
        stack.start()
        yield WeChatStack(stack, api, proxy, WeChatServer(f"{stack.rasa_url}/webhooks/wechat/webhook"))
    finally:
        stack.stop()
        proxy.stop()
        api.stop()

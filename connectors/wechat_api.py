"""The WeChat customer-service message API (客服消息), through wechatpy's ``WeChatClient``.

The channel uses it when the assistant's answer is not ready within WeChat's 5-second limit,
when an answer does not fit into one passive reply, and for messages the back office triggers
later (case updates). wechatpy's client is synchronous (requests); it runs in a small thread
pool of its own so that the Rasa server's event loop never waits on WeChat.

- The API base URL is configuration (``api_base_url``): tests and staging point it at a fake
  server. The access token is fetched from ``<base>/cgi-bin/token`` and cached (wechatpy's
  session storage: memory, or Redis shared by every worker when ``redis_url`` is set) until
  shortly before it expires; a call answered with 40001/40014/42001 (token invalid or expired,
  e.g. because another system fetched a new one) fetches a new token and is tried once more.
- A request that could not be sent (connection refused, WeChat answering -1 "system busy") is
  tried again after a short pause, at most ``ATTEMPTS`` times; a request that may have reached
  WeChat (read time-out) is not repeated, so a citizen never gets the same text twice.
- Message texts never reach a log; failures are logged with the citizen's sender id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Sequence

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

logger = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
SYSTEM_BUSY = -1
ATTEMPTS = 3
PAUSE_SECONDS = 0.5
# A token is renewed this long before WeChat says it expires.
TOKEN_MARGIN_SECONDS = 300
THREADS = 4


def api_root(base_url: str) -> str:
    """``https://api.weixin.qq.com`` (with or without ``/cgi-bin``) → ``…/cgi-bin/``."""
    base = base_url.strip().rstrip("/")
    if base.endswith("/cgi-bin"):
        base = base[: -len("/cgi-bin")]
    return f"{base}/cgi-bin/"


class ConfiguredWeChatClient(WeChatClient):
    """wechatpy's client on a configurable base URL, with time-outs on every request."""

    def __init__(self, appid: str, secret: str, base_url: str, timeout: float, session=None) -> None:
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_root(base_url)
        self._token_lock = threading.Lock()

    def fetch_access_token(self) -> dict:
        """GET <base>/cgi-bin/token (wechatpy's own method has the URL and no time-out fixed)."""
        with self._token_lock:
            response = self._http.get(
                url=self.API_BASE_URL + "token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                timeout=self.timeout,
            )
            try:
                response.raise_for_status()
                result = response.json()
            except (requests.RequestException, ValueError):
                raise WeChatClientException(
                    None, "token request failed", client=self, request=response.request, response=response
                ) from None
            if result.get("errcode"):
                raise WeChatClientException(
                    result["errcode"], result.get("errmsg"), client=self, request=response.request, response=response
                )
            expires_in = int(result.get("expires_in", 7200))
            keep = max(60, expires_in - TOKEN_MARGIN_SECONDS)
            self.session.set(self.access_token_key, result["access_token"], keep)
            self.expires_at = int(time.time()) + keep + 60  # wechatpy renews 60 s before this
            logger.info("wechat: fetched an access token (valid %ss)", expires_in)
            return result


class CustomerServiceApi:
    def __init__(
        self,
        app_id: str,
        app_secret: str,
        base_url: str,
        timeout: float = 10.0,
        redis_url: str = "",
        key_prefix: str = "wechat:",
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.base_url = base_url
        self.timeout = timeout
        self.redis_url = redis_url
        self.key_prefix = key_prefix
        self._client: Optional[ConfiguredWeChatClient] = None
        self._executor: Optional[ThreadPoolExecutor] = None
        self._pid: Optional[int] = None

    # Sanic forks its workers after the channel is built: threads, HTTP connections and the
    # Redis client are made per process, on first use.
    def _ensure(self) -> tuple[ConfiguredWeChatClient, ThreadPoolExecutor]:
        if self._pid != os.getpid() or self._client is None or self._executor is None:
            session = None
            if self.redis_url:
                import redis
                from wechatpy.session.redisstorage import RedisStorage

                session = RedisStorage(
                    redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2),
                    prefix=f"{self.key_prefix}token",
                )
            self._client = ConfiguredWeChatClient(
                self.app_id, self.app_secret, self.base_url, self.timeout, session=session
            )
            self._executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="wechat-api")
            self._pid = os.getpid()
        return self._client, self._executor

    async def send_texts(self, openid: str, texts: Sequence[str], sender_id: str = "") -> bool:
        """Send ``texts`` in order as customer-service text messages; ``True`` if all arrived."""
        if not texts:
            return True
        client, executor = self._ensure()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._send_all, client, openid, list(texts), sender_id)

    def _send_all(self, client: ConfiguredWeChatClient, openid: str, texts: list[str], sender_id: str) -> bool:
        for position, text in enumerate(texts, start=1):
            if not self._send_one(client, openid, text):
                logger.error(
                    "wechat: message %d of %d to %s not delivered; the rest is not sent",
                    position, len(texts), sender_id or "?",
                )
                return False
        return True

    def _send_one(self, client: ConfiguredWeChatClient, openid: str, text: str) -> bool:
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                client.message.send_text(openid, text)
                return True
            except WeChatClientException as exc:
                code = exc.errcode
                if code in TOKEN_ERRORS and not renewed:
                    renewed = True
                    try:
                        client.fetch_access_token()
                    except (WeChatClientException, requests.RequestException) as token_exc:
                        logger.error("wechat: access token not renewed (%s)", _describe(token_exc))
                        return False
                    continue
                if code in (SYSTEM_BUSY, None) and attempt < ATTEMPTS and _not_sent(exc):
                    time.sleep(PAUSE_SECONDS * attempt)
                    continue
                logger.error("wechat: customer-service message refused (%s)", _describe(exc))
                return False
            except requests.RequestException as exc:
                if attempt < ATTEMPTS and _never_reached(exc):
                    time.sleep(PAUSE_SECONDS * attempt)
                    continue
                # Not reachable after the attempts, or it may have arrived (read time-out,
                # connection lost after sending): never sent twice.
                logger.error("wechat: customer-service API failed (%s)", type(exc).__name__)
                return False

    def close(self) -> None:
        if self._executor is not None and self._pid == os.getpid():
            self._executor.shutdown(wait=False)


def _not_sent(exc: WeChatClientException) -> bool:
    """-1 (system busy) means WeChat did not take the message; an HTTP error status likewise."""
    return exc.errcode == SYSTEM_BUSY or (exc.response is not None and exc.response.status_code >= 500)


def _never_reached(exc: requests.RequestException) -> bool:
    """The request certainly did not reach WeChat: no connection could be made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    from urllib3.exceptions import NewConnectionError

    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)


def _describe(exc: Exception) -> str:
    code = getattr(exc, "errcode", None)
    message = getattr(exc, "errmsg", None)
    if code is not None:
        return f"errcode {code}: {message}"
    return type(exc).__name__

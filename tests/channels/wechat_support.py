"""The WeChat side of the channel tests, built with wechatpy as the WeChat server would:

- ``WeChatServer`` signs (and in safe mode encrypts) the requests WeChat sends to the server
  URL, and reads (and decrypts) the passive replies.
- ``FakeWeChatApi`` is a local stand-in of api.weixin.qq.com: it issues access tokens, accepts
  customer-service messages and records every call; tokens can be invalidated to play an
  expired token (errcode 40001).
- ``SlowActionProxy`` sits between Rasa and the action server and delays every action call of
  conversations whose sender id contains ``slow``: the assistant really takes longer than
  WeChat's 5 seconds for them.

The servers run on their own event loops in background threads, on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

import xmltodict
from aiohttp import ClientSession, ClientTimeout, web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.support.stack import free_port

APP_ID = "wx1234567890abcdef"
APP_SECRET = "test-app-secret"
TOKEN = "channelTestToken42"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_0123456789ab"  # the official account's original id (ToUserName)


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def new_openid(tag: str = "") -> str:
    """An OpenID-like id (28 characters); ``tag`` is kept readable in it."""
    body = secrets.token_urlsafe(21).replace("-", "A").replace("_", "B")
    return ("o" + tag + body)[:28]


# --- messages as WeChat sends them --------------------------------------------------------------
def _xml(fields: dict[str, Any]) -> str:
    nodes = []
    for name, value in fields.items():
        if isinstance(value, int):
            nodes.append(f"<{name}>{value}</{name}>")
        else:
            nodes.append(f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(nodes) + "</xml>"


def text_message(openid: str, content: str, msg_id: int, created: int | None = None) -> str:
    return _xml({"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": created or int(time.time()),
                 "MsgType": "text", "Content": content, "MsgId": msg_id})


def voice_message(openid: str, recognition: str, msg_id: int) -> str:
    return _xml({"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(time.time()),
                 "MsgType": "voice", "MediaId": "media-" + str(msg_id), "Format": "amr",
                 "Recognition": recognition, "MsgId": msg_id})


def image_message(openid: str, msg_id: int) -> str:
    return _xml({"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(time.time()),
                 "MsgType": "image", "PicUrl": "http://127.0.0.1:9/picture.jpg",
                 "MediaId": "media-" + str(msg_id), "MsgId": msg_id})


def event_message(openid: str, event: str, created: int) -> str:
    return _xml({"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": created,
                 "MsgType": "event", "Event": event})


_msg_ids = iter(range(int(time.time()) * 1000, 2**62))


def next_msg_id() -> int:
    return next(_msg_ids)


# --- the WeChat server's requests ---------------------------------------------------------------
@dataclass
class Answer:
    status: int
    body: str
    seconds: float
    reply: dict[str, str] | None = None  # the passive reply's fields, decrypted

    @property
    def is_success(self) -> bool:
        return self.status == 200 and self.body.strip() in ("success", "")

    @property
    def text(self) -> str:
        assert self.reply is not None, f"no passive reply: {self.status} {self.body[:200]!r}"
        return self.reply.get("Content", "")


@dataclass
class WeChatServer:
    url: str  # the server URL registered in the platform (…/webhooks/wechat/webhook)
    token: str = TOKEN
    app_id: str = APP_ID
    encoding_aes_key: str = ENCODING_AES_KEY

    def __post_init__(self) -> None:
        self.crypto = WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)

    def _signed_query(self, **extra: str) -> tuple[dict[str, str], str, str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        query.update(extra)
        return query, timestamp, nonce

    def verify(self, echostr: str, signature: str | None = None) -> tuple[int, str]:
        query, _, _ = self._signed_query(echostr=echostr)
        if signature is not None:
            query["signature"] = signature
        status, body, _ = _http("GET", f"{self.url}?{urllib.parse.urlencode(query)}", None, 10)
        return status, body

    def post(self, xml: str, *, encrypted: bool | None = None, timeout: float = 15,
             tamper: Callable[[dict[str, str]], None] | None = None) -> Answer:
        """POST ``xml`` as WeChat does (safe mode when ``encrypted``; by default, as WeChat
        calls a server with an EncodingAESKey) and read the answer."""
        if encrypted is None:
            encrypted = bool(self.encoding_aes_key)
        query, timestamp, nonce = self._signed_query()
        body = xml
        if encrypted:
            envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            body = _xml({"ToUserName": ACCOUNT, "Encrypt": envelope["Encrypt"]})
            query.update(openid=xmltodict.parse(xml)["xml"]["FromUserName"], encrypt_type="aes",
                         msg_signature=envelope["MsgSignature"])
        if tamper:
            tamper(query)
        started = time.monotonic()
        status, raw, _ = _http("POST", f"{self.url}?{urllib.parse.urlencode(query)}",
                               body.encode("utf-8"), timeout)
        seconds = time.monotonic() - started
        answer = Answer(status, raw, seconds)
        if status == 200 and raw.strip() not in ("success", ""):
            plain = raw
            if encrypted:
                envelope = xmltodict.parse(raw)["xml"]
                plain = self.crypto.decrypt_message(raw, envelope["MsgSignature"], envelope["TimeStamp"],
                                                    envelope["Nonce"])
            answer.reply = dict(xmltodict.parse(plain)["xml"])
        return answer


def _http(method: str, url: str, data: bytes | None, timeout: float) -> tuple[int, str, dict[str, str]]:
    headers = {"Content-Type": "text/xml; charset=utf-8"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)


# --- servers in background threads --------------------------------------------------------------
class _ThreadedApp:
    """An aiohttp application served on 127.0.0.1 from a thread with its own event loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def build(self) -> web.Application:
        raise NotImplementedError

    def start(self) -> "_ThreadedApp":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.build(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _stop(self) -> None:
        await self.on_stop()
        await self._runner.cleanup()  # type: ignore[union-attr]

    async def on_stop(self) -> None:
        return None


@dataclass
class SentMessage:
    openid: str
    content: str
    access_token: str


@dataclass
class FakeWeChatApi(_ThreadedApp):
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    messages: list[SentMessage] = field(default_factory=list)
    token_requests: int = 0
    refused: list[int] = field(default_factory=list)  # errcodes answered

    def __post_init__(self) -> None:
        super().__init__()
        self._valid: set[str] = set()
        self._issued = 0
        self._lock = threading.Condition()

    def build(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        return app

    async def token(self, request: web.Request) -> web.Response:
        query = request.query
        with self._lock:
            self.token_requests += 1
            if (query.get("grant_type"), query.get("appid"), query.get("secret")) != (
                "client_credential", self.app_id, self.app_secret
            ):
                self.refused.append(40013)
                return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
            self._issued += 1
            token = f"token-{self._issued}-{secrets.token_hex(8)}"
            self._valid.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def custom_send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        body = json.loads(await request.read())
        with self._lock:
            if token not in self._valid:
                self.refused.append(40001)
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
            assert body["msgtype"] == "text", body
            self.messages.append(SentMessage(body["touser"], body["text"]["content"], token))
            self._lock.notify_all()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # --- for the tests -------------------------------------------------------------------
    def invalidate_tokens(self) -> None:
        with self._lock:
            self._valid.clear()

    def sent_to(self, openid: str) -> list[str]:
        with self._lock:
            return [m.content for m in self.messages if m.openid == openid]

    def wait_for(self, openid: str, count: int, timeout: float = 30) -> list[str]:
        """The first ``count`` messages sent to ``openid`` (waits for them)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                sent = [m.content for m in self.messages if m.openid == openid]
                if len(sent) >= count:
                    return sent
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(sent)} of {count} customer-service messages to {openid}: {sent}")
                self._lock.wait(remaining)


@dataclass
class SlowActionProxy(_ThreadedApp):
    """Forwards Rasa's action calls; delays those of senders containing ``slow``."""

    upstream: str = ""
    delay: float = 5.0
    delayed: int = 0

    def __post_init__(self) -> None:
        super().__init__()
        self._session: ClientSession | None = None

    def build(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/webhook", self.forward)
        return app

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        if "slow" in str(json.loads(body).get("sender_id", "")):
            self.delayed += 1
            await asyncio.sleep(self.delay)
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=120))
        headers = {"Content-Type": "application/json"}
        if "Authorization" in request.headers:  # the action server's shared secret, passed on
            headers["Authorization"] = request.headers["Authorization"]
        async with self._session.post(self.upstream, data=body, headers=headers) as response:
            payload = await response.read()
            return web.Response(body=payload, status=response.status, content_type="application/json")

    async def on_stop(self) -> None:
        if self._session is not None:
            await self._session.close()

"""WeChat official account (公众号) channel: a custom Rasa input channel (Sanic blueprint).

``credentials.yml``::

    connectors.wechat.WeChatInput:
      token: ...             # 令牌 (Token) entered in the WeChat platform, 3-32 letters/digits
      app_id: ...            # AppID
      app_secret: ...        # AppSecret (customer-service API)
      encoding_aes_key: ...  # EncodingAESKey, 43 characters (安全模式 / 兼容模式)
      api_base_url: https://api.weixin.qq.com
      privacy_url: https://.../privacy   # the back office's 个人信息处理说明 page

Every key may instead come from an environment variable (``WECHAT_TOKEN``, ``WECHAT_APP_ID``,
``WECHAT_APP_SECRET``, ``WECHAT_ENCODING_AES_KEY``, ``WECHAT_API_BASE_URL``,
``WECHAT_PRIVACY_URL``, ``WECHAT_REDIS_URL``, ``WECHAT_REPLY_TIMEOUT_SECONDS``), which wins
over the file; they are read with the other channel settings (``bot/settings/channels.py``). The development values in the repository's credentials.yml are obviously not
an account (``wx0000000000000000``); with ``APP_ENV=production`` the server refuses to start
while any of them is still in use.

Server URL (服务器地址) to register: ``https://<host>/webhooks/wechat/webhook``.

- ``GET`` — URL verification: ``signature`` over (token, timestamp, nonce) is checked with
  wechatpy and ``echostr`` is echoed.
- ``POST`` — a message or event, in plaintext or safe mode (``encrypt_type=aes`` with
  ``msg_signature``; decrypted and the reply encrypted with wechatpy's ``WeChatCrypto``).
  The ``signature`` is checked in both modes. With an ``encoding_aes_key`` configured only
  safe mode is accepted: a plaintext callback is refused (403), since anyone who learnt the
  token could sign one. A callback whose ``timestamp`` is more than 5 minutes away from now,
  or whose (timestamp, nonce) was seen before, is refused (403): a recorded request cannot be
  replayed. Nonces live in the channel state (Redis when ``redis_url`` is set, so every worker
  sees them).

WeChat waits 5 seconds for the answer and retries up to 3 times. The message is processed in
a task of its own; when the assistant's answer is ready within ``reply_timeout`` (4 s by
default, at most 4.5) it is the passive reply. Otherwise the request is answered "success"
at once and the answer is sent through the customer-service API when ready
(``connectors/wechat_api.py``). Retries are recognised by ``MsgId`` (events: ``FromUserName``
+ ``CreateTime``) in the channel state (``connectors/wechat_state.py``: memory, or Redis shared
by every worker when ``redis_url`` is set), so a retried message reaches the assistant once and
is answered once: a retry of a message answered passively gets the same reply again (WeChat
did not receive the first), any other retry gets "success".

One conversation per follower: the sender id is ``wechat-<OpenID>``. ``subscribe`` starts the
conversation with the greeting (the ``greet`` intent through the normal pipeline) followed by
the personal-information notice. Voice messages are handled as their speech-recognition text;
images and other types get a polite note on what is supported. Buttons become numbered
choices and a reply of just the number sends that button's payload. Long answers are split
into several messages of at most ``max_text_bytes``.

``RateLimitedWeChatInput`` adds the per-sender limits of the production profile
(``connectors/ratelimit.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.settings.channels import (
    WECHAT_DEV_VALUES,
    channel_settings,
    load_channel_settings,
    wechat_secrets,
)
from bot.settings.common import SettingsError, refusal, secret_problems
from connectors.ratelimit import MessageLimitMixin, log_failure
from connectors.wechat_api import CustomerServiceApi
from connectors.wechat_state import API, REPLIED, ChannelState, MemoryState, Record, RedisState
from connectors.wechat_text import (
    DEFAULT_MAX_BYTES,
    EMPTY_TEXT,
    FAILED,
    UNSUPPORTED,
    VOICE_NOT_RECOGNISED,
    WELCOME_NOTICE,
    RenderedTurn,
    choice_of,
    render_turn,
    xml_safe,
)

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

MAX_BODY_BYTES = 64 * 1024
# A callback's timestamp may differ from this server's clock by at most this much.
MAX_CLOCK_SKEW_SECONDS = 5 * 60
# WeChat gives up after 5 s; the passive reply must be on its way before that.
MAX_REPLY_TIMEOUT = 4.5
GREET = "/greet"
SUBSCRIBE_EVENTS = ("subscribe", "subscribe_scan")

# Development values (credentials.yml): public on purpose, refused in production.
DEV_TOKEN = WECHAT_DEV_VALUES["token"]
DEV_APP_ID = WECHAT_DEV_VALUES["app_id"]
DEV_APP_SECRET = WECHAT_DEV_VALUES["app_secret"]
DEV_ENCODING_AES_KEY = WECHAT_DEV_VALUES["encoding_aes_key"]
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
DEFAULT_PRIVACY_URL = "http://127.0.0.1:8080/privacy"


class WeChatConfigError(ValueError):
    """A configuration problem of the WeChat channel (the Rasa server does not start)."""


@dataclass(frozen=True)
class WeChatConfig:
    token: str = DEV_TOKEN
    app_id: str = DEV_APP_ID
    app_secret: str = field(default=DEV_APP_SECRET, repr=False)
    encoding_aes_key: str = field(default=DEV_ENCODING_AES_KEY, repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    privacy_url: str = DEFAULT_PRIVACY_URL
    redis_url: str = ""
    key_prefix: str = "wechat:"
    sender_prefix: str = "wechat-"
    reply_timeout: float = 4.0
    api_timeout: float = 10.0
    max_text_bytes: int = DEFAULT_MAX_BYTES
    message_ttl: int = 3600  # how long a MsgId is remembered (WeChat retries within ~15 s)
    choices_ttl: int = 7200  # how long numbered choices stay valid (the session expiry)

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Mapping[str, Any]], env: Optional[Mapping[str, str]] = None
    ) -> "WeChatConfig":
        """The channel's configuration: ``credentials`` overridden by the WeChat variables of
        the channel settings (this process's, or those read from ``env`` when given)."""
        try:
            settings = channel_settings() if env is None else load_channel_settings(env)
        except SettingsError as exc:
            raise WeChatConfigError(f"WeChat channel: {exc}") from None
        credentials = {**dict(credentials or {}), **settings.wechat.overrides()}
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(credentials) - known)
        if unknown:
            raise WeChatConfigError(f"WeChat channel: unknown credentials keys {unknown}")
        values: dict[str, Any] = {}
        for name, spec in cls.__dataclass_fields__.items():
            if name not in credentials or credentials[name] is None:
                continue
            raw = credentials[name]
            kind = type(spec.default)
            try:
                values[name] = kind(raw) if kind in (int, float) else str(raw).strip()
            except (TypeError, ValueError):
                raise WeChatConfigError(f"WeChat channel: {name} must be a {kind.__name__}") from None
        config = cls(**values)
        config.check(production=settings.is_production)
        return config

    def check(self, production: bool = False) -> None:
        if not (3 <= len(self.token) <= 32 and self.token.isascii() and self.token.isalnum()):
            raise WeChatConfigError("WeChat channel: token must be 3-32 letters or digits")
        if self.encoding_aes_key:
            try:
                WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)
            except Exception:
                raise WeChatConfigError(
                    "WeChat channel: encoding_aes_key must be the 43-character EncodingAESKey"
                ) from None
        if not 0 < self.reply_timeout <= MAX_REPLY_TIMEOUT:
            raise WeChatConfigError(
                f"WeChat channel: reply_timeout must be more than 0 and at most {MAX_REPLY_TIMEOUT} s"
            )
        if self.max_text_bytes < 200 or self.max_text_bytes > 2048:
            raise WeChatConfigError("WeChat channel: max_text_bytes must be between 200 and 2048")
        if production:
            account = {key: getattr(self, key) for key in WECHAT_DEV_VALUES}
            problems = secret_problems(wechat_secrets(account))
            if problems:
                raise WeChatConfigError(refusal(problems))


@dataclass(frozen=True)
class Inbound:
    """A message the assistant is to process."""

    text: str
    dedup_key: str
    metadata: Dict[str, Any]
    welcome: bool = False


def dedup_key(message: Any) -> str:
    """WeChat's advice: MsgId for messages, FromUserName + CreateTime for events."""
    if getattr(message, "id", 0):
        return f"id:{message.id}"
    created = message._data.get("CreateTime", "")
    return f"ev:{message.source}:{created}:{getattr(message, 'event', '')}"


class WeChatApiOutput(CollectingOutputChannel):
    """Sends each message at once through the customer-service API: the output channel of
    messages the back office triggers later (``trigger_intent`` with ``output_channel=latest``)."""

    def __init__(self, channel: "WeChatInput") -> None:
        super().__init__()
        self.channel = channel

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    async def _persist_message(self, message: Dict[Text, Any]) -> None:
        self.messages.append(message)
        sender = str(message.get("recipient_id") or "")
        openid = self.channel.openid_of(sender)
        if openid is None:
            logger.warning("wechat: %s is not a WeChat conversation; message not sent", sender)
            return
        turn = render_turn([message], self.channel.config.max_text_bytes)
        await self.channel.remember_choices(sender, turn)
        await self.channel.api.send_texts(openid, turn.texts, sender)


class WeChatInput(InputChannel):
    """The WeChat official account channel (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(WeChatConfig.from_credentials(credentials))

    def __init__(self, config: WeChatConfig) -> None:
        self.config = config
        self.crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.app_id)
            if config.encoding_aes_key
            else None
        )
        self.state: ChannelState = (
            RedisState(config.redis_url, config.key_prefix, config.message_ttl, config.choices_ttl)
            if config.redis_url
            else MemoryState(config.message_ttl, config.choices_ttl)
        )
        self.api = CustomerServiceApi(
            config.app_id,
            config.app_secret,
            config.api_base_url,
            timeout=config.api_timeout,
            redis_url=config.redis_url,
            key_prefix=config.key_prefix,
        )
        self._tasks: set[asyncio.Task] = set()
        self._fields: Optional[dict[str, str]] = None

    # --- helpers ---------------------------------------------------------------------------
    def sender_of(self, openid: str) -> str:
        return f"{self.config.sender_prefix}{openid}"

    def openid_of(self, sender: str) -> Optional[str]:
        prefix = self.config.sender_prefix
        return sender[len(prefix):] if sender.startswith(prefix) and len(sender) > len(prefix) else None

    def texts(self) -> dict[str, str]:
        """Placeholders of the channel's own texts, from the jurisdiction configuration."""
        if self._fields is None:
            from bot.rules.jurisdiction import load_jurisdiction

            jurisdiction = load_jurisdiction()
            self._fields = {
                "agency": jurisdiction.agency,
                "hotline": jurisdiction.hotline,
                "privacy_url": self.config.privacy_url,
            }
        return self._fields

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def remember_choices(self, sender: str, turn: RenderedTurn) -> None:
        try:
            await self.state.set_choices(sender, turn.choices)
        except Exception as exc:  # Redis unreachable: the citizen can still type the answer
            logger.warning("wechat: choices of %s not kept (%s)", sender, type(exc).__name__)

    def get_output_channel(self) -> Optional[WeChatApiOutput]:
        return WeChatApiOutput(self)

    # --- the webhook -----------------------------------------------------------------------
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint(f"wechat_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.signature_ok(request):
                return response.text("invalid signature", status=403)
            return response.text(request.args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            started = time.monotonic()
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.text("request too large", status=413)
            if not self.signature_ok(request):
                return response.text("invalid signature", status=403)
            encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
            refused = await self.freshness_problem(request)
            if refused:
                logger.warning("wechat: callback refused (%s)", refused)
                return response.text(refused, status=403)
            try:
                xml = self.decrypt(request) if encrypted else (request.body or b"").decode("utf-8")
                message = parse_message(xml)
            except InvalidSignatureException:
                return response.text("invalid msg_signature", status=403)
            except Exception as exc:  # wrong key or AppID, malformed XML, missing fields
                logger.warning("wechat: unreadable message (%s)", type(exc).__name__)
                return response.text("bad request", status=400)
            if message is None:
                return response.text("bad request", status=400)
            if self.crypto is not None and not encrypted:
                logger.warning("wechat: plaintext callback refused (safe mode is configured)")
                return response.text("encrypted message required", status=403)
            reply = await self.answer(message, on_new_message, started)
            if not reply:
                return response.text("success")
            body = TextReply(message=message, content=xml_safe(reply)).render()
            if encrypted:
                body = self.crypto.encrypt_message(  # type: ignore[union-attr]
                    body, request.args.get("nonce", ""), str(int(time.time()))
                )
            return response.text(body, content_type="application/xml; charset=utf-8")

        return webhook

    async def freshness_problem(self, request: Request) -> Optional[str]:
        """Why a signed callback is not fresh (too old or from the future, or its nonce was
        used before), or None."""
        timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            return "stale request"
        if skew > MAX_CLOCK_SKEW_SECONDS:
            return "stale request"
        try:
            if not await self.state.first_use(f"{timestamp}:{nonce[:64]}"):
                return "replayed request"
        except Exception as exc:  # state unreachable: refuse rather than risk a replay
            logger.warning("wechat: nonce not checked (%s)", type(exc).__name__)
            return "temporarily unavailable"
        return None

    def signature_ok(self, request: Request) -> bool:
        try:
            check_signature(
                self.config.token,
                request.args.get("signature", ""),
                request.args.get("timestamp", ""),
                request.args.get("nonce", ""),
            )
        except InvalidSignatureException:
            return False
        return True

    def decrypt(self, request: Request) -> str:
        if self.crypto is None:
            raise InvalidAppIdException()  # safe mode without a key configured: unreadable
        return self.crypto.decrypt_message(
            (request.body or b"").decode("utf-8"),
            request.args.get("msg_signature", ""),
            request.args.get("timestamp", ""),
            request.args.get("nonce", ""),
        )

    # --- one message -----------------------------------------------------------------------
    def inbound(self, message: Any) -> Inbound | str | None:
        """What the assistant is to process, or the channel's own immediate reply (a text), or
        ``None`` (nothing to answer)."""
        kind = message.type
        metadata: Dict[str, Any] = {"wechat": {"msg_type": kind}}
        if kind == "text":
            text = (message.content or "").strip()
        elif kind == "voice":
            text = (message.recognition or "").strip()
            if not text:
                return VOICE_NOT_RECOGNISED
        elif kind == "event":
            event = message.event
            if event in SUBSCRIBE_EVENTS:
                metadata["wechat"]["event"] = "subscribe"
                return Inbound(GREET, dedup_key(message), metadata, welcome=True)
            logger.debug("wechat: %s event of %s ignored", event, self.sender_of(message.source))
            return None
        else:
            return UNSUPPORTED.format(**self.texts())
        if not text:
            return EMPTY_TEXT
        return Inbound(text, dedup_key(message), metadata)

    async def answer(self, message: Any, on_new_message: OnNewMessage, started: float) -> Optional[str]:
        """The passive reply to ``message``, or ``None`` for "success"."""
        inbound = self.inbound(message)
        if inbound is None or isinstance(inbound, str):
            return inbound
        openid = message.source
        sender = self.sender_of(openid)
        try:
            earlier = await self.state.claim(inbound.dedup_key)
        except Exception as exc:  # Redis unreachable: rather process twice than lose it
            logger.warning("wechat: retries not checked (%s)", type(exc).__name__)
            earlier = None
        if earlier is not None:
            logger.info("wechat: retry of a message of %s (%s)", sender, earlier.status)
            return earlier.reply if earlier.status == REPLIED and earlier.reply else None

        text = inbound.text
        if not inbound.welcome:
            try:
                chosen = choice_of(text, await self.state.get_choices(sender))
            except Exception as exc:
                logger.warning("wechat: choices of %s not read (%s)", sender, type(exc).__name__)
                chosen = None
            text = chosen or text

        task = self._spawn(self.process(on_new_message, sender, text, inbound))
        remaining = self.config.reply_timeout - (time.monotonic() - started)
        try:
            if remaining > 0:
                await asyncio.wait({task}, timeout=remaining)
        except asyncio.CancelledError:  # WeChat hung up: the answer goes through the API
            self.deliver_later(task, openid, sender)
            raise
        if task.done() and not task.cancelled():
            turn: RenderedTurn = task.result()
            if turn.fits_one_reply:
                reply = turn.texts[0] if turn.texts else ""
                await self.record(inbound.dedup_key, Record(REPLIED, reply))
                return reply or None
        await self.record(inbound.dedup_key, Record(API))
        self.deliver_later(task, openid, sender)
        return None

    async def process(
        self, on_new_message: OnNewMessage, sender: str, text: str, inbound: Inbound
    ) -> RenderedTurn:
        """Run the message through the assistant; its answer as WeChat texts."""
        collector = CollectingOutputChannel()
        messages: list[Dict[str, Any]]
        try:
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=inbound.metadata)
            )
            messages = list(collector.messages)
        except Exception as exc:
            log_failure(self.name(), sender, text, exc)
            messages = [*collector.messages, {"recipient_id": sender, "text": FAILED}]
        if inbound.welcome:
            messages.append({"recipient_id": sender, "text": WELCOME_NOTICE.format(**self.texts())})
        turn = render_turn(messages, self.config.max_text_bytes)
        await self.remember_choices(sender, turn)
        return turn

    def deliver_later(self, task: asyncio.Task, openid: str, sender: str) -> None:
        async def deliver() -> None:
            try:
                turn: RenderedTurn = await task
            except asyncio.CancelledError:
                return
            if turn.texts:
                await self.api.send_texts(openid, turn.texts, sender)

        self._spawn(deliver())

    async def record(self, key: str, record: Record) -> None:
        try:
            await self.state.update(key, record)
        except Exception as exc:
            logger.warning("wechat: message state not saved (%s)", type(exc).__name__)


class RateLimitedWeChatInput(MessageLimitMixin, WeChatInput):
    """The WeChat channel with the production profile's per-sender limits."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

"""Input channels of the production profile: per-sender rate limits and a message length limit.

``deploy/credentials.prod.yml`` names these classes instead of Rasa's ``rest`` and ``socketio``:

- ``RateLimitedRestInput`` — the REST channel with the same contract
  (``POST /webhooks/rest/webhook`` with ``{"sender": ..., "message": ...}``, the replies as a
  JSON list), plus: a malformed body gets HTTP 400, a message longer than
  ``CHANNEL_MAX_MESSAGE_CHARS`` gets 413, a sender over its limit gets 429 with ``Retry-After``,
  and a message the assistant failed to process gets 503 — each with one polite reply in the
  list, so a simple client can show it. The ``input_channel`` a client claims is ignored (a
  case filed through this channel is always recorded as ``rest``), and the message text is
  never written to a log, not even when processing fails (Rasa's own channel logs it).
  Its senders live in the ``rest-`` namespace and every message needs
  ``Authorization: Bearer <REST_CHANNEL_TOKEN>`` (401 without it): ``connectors/restchannel.py``.
- ``RateLimitedSocketIOInput`` — the chat page's socket.io channel (``connectors/webchat.py``:
  Rasa's, same options, with session persistence that works) whose messages pass
  the same checks; a refused message is answered over the socket and never processed.

Another channel gets the same limits by putting ``MessageLimitMixin`` first in its bases
(``class WeChatInput(MessageLimitMixin, InputChannel)``): the mixin wraps the
``on_new_message`` callback every Rasa channel calls.

The limits (``bot/settings/channels.py``): at most ``CHANNEL_RATE_LIMIT_MESSAGES`` messages
per sender in each fixed window of ``CHANNEL_RATE_LIMIT_WINDOW_SECONDS``. With
``RATE_LIMIT_BACKEND=redis`` the counters live in Redis under ``REDIS_KEY_PREFIX`` + ``ch:`` and
are shared by every Sanic worker and every Rasa replica; sender ids are hashed before they reach Redis. When Redis cannot
be reached the message is let through (the lock store fails the message anyway if Redis is
really gone) and a warning is logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rules.conversation_ids import conversation_tag
from bot.settings.channels import ChannelSettings, channel_settings
from connectors.restchannel import namespaced, token_problem
from connectors.webchat import WebChatInput  # Rasa's socket.io channel with working sessions
from bot.store.ratelimit import Limit, MemoryBackend, RateLimiter, RedisBackend

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128  # the back office's conversation_id limit

TOO_LONG = "您的消息太长了（超过{max_chars}字），这条消息没有处理。请精简后再发，或分几次发送。"
TOO_FAST = "您发送消息太频繁了，这条消息没有处理，请{seconds}秒后再发。您之前填写的信息都已保留。"
FAILED = "抱歉，系统暂时繁忙，这条消息没有处理成功，请稍后再发一次。您之前填写的信息都已保留。"
BAD_REQUEST = "请求格式不正确：需要 JSON 对象 {\"sender\": \"...\", \"message\": \"...\"}。"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Refusal:
    """Why a message is not passed on, and what the citizen reads."""

    status: int  # HTTP status on the REST channel
    code: str
    text: str
    retry_after: Optional[int] = None


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame: enough to find a failure, and no message text."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno}"


def sender_tag(sender_id: Optional[Text]) -> str:
    """What a log line shows of a sender: a short keyed hash, never the id (a web chat's id
    is its bearer secret)."""
    return conversation_tag(channel_settings().webchat_session_secret, sender_id or "")


def log_failure(channel: str, sender_id: Optional[Text], text: Optional[Text], exc: BaseException) -> None:
    """Log a failed message without its text or the exception's message (which may quote it)."""
    logger.error(
        "%s channel: processing a message of conversation %s (%d characters) failed: %s at %s",
        channel,
        sender_tag(sender_id),
        len(text or ""),
        type(exc).__name__,
        _where(exc),
    )


class MessageGuard:
    """The checks every message of a limited channel passes before the assistant sees it."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.max_chars = settings.max_message_chars
        self.limit = Limit(
            "channel-sender",
            settings.rate_limit_messages,
            settings.rate_limit_window_seconds,
        )
        self._backend_name = settings.rate_limit_backend
        self._redis_url = settings.redis_url
        self._prefix = f"{settings.redis_key_prefix}ch:"
        # The channels are built before Sanic forks its workers: each worker process opens
        # its own Redis connections, on its own event loop, on first use.
        self._limiter: Optional[RateLimiter] = None
        self._limiter_pid: Optional[int] = None
        self._last_warning = 0.0

    @classmethod
    def from_settings(cls) -> "MessageGuard":
        """The guard of this process's channel settings (read once, when the Rasa server
        loads the ``connectors`` package)."""
        return cls(channel_settings())

    def limiter(self) -> RateLimiter:
        if self._limiter is None or self._limiter_pid != os.getpid():
            if self._backend_name == "redis":
                from redis.asyncio import Redis

                client = Redis.from_url(
                    self._redis_url, socket_timeout=2, socket_connect_timeout=2
                )
                self._limiter = RateLimiter(RedisBackend(client, prefix=self._prefix))
            else:
                self._limiter = RateLimiter(MemoryBackend())
            self._limiter_pid = os.getpid()
        return self._limiter

    async def check(self, sender_id: Optional[Text], text: Optional[Text]) -> Optional[Refusal]:
        if text is not None and len(text) > self.max_chars:
            return Refusal(413, "message_too_long", TOO_LONG.format(max_chars=self.max_chars))
        try:
            state = await self.limiter().hit(self.limit, sender_id or "")
        except Exception as exc:  # Redis unreachable: let the message through, say so
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                logger.warning(
                    "channel rate limit not checked (%s): Redis not reachable", type(exc).__name__
                )
            return None
        if state.count > self.limit.max_hits:
            seconds = max(1, math.ceil(state.reset_in))
            logger.info("channel rate limit: conversation %s refused for %ds", sender_tag(sender_id), seconds)
            return Refusal(429, "rate_limited", TOO_FAST.format(seconds=seconds), seconds)
        return None


class MessageLimitMixin:
    """Wraps the ``on_new_message`` callback of any Rasa input channel with a ``MessageGuard``.

    A refused message is answered through the message's own output channel and not processed;
    a message whose processing fails is logged without its text and answered politely.
    """

    _guard: Optional[MessageGuard] = None

    @property
    def guard(self) -> MessageGuard:
        if self._guard is None:
            self._guard = MessageGuard.from_settings()
        return self._guard

    def limited(self, on_new_message: OnNewMessage) -> OnNewMessage:
        channel = self.name()  # type: ignore[attr-defined]

        async def guarded(message: UserMessage) -> None:
            refusal = await self.guard.check(message.sender_id, message.text)
            if refusal is not None:
                await message.output_channel.send_text_message(message.sender_id, refusal.text)
                return
            try:
                await on_new_message(message)
            except Exception as exc:
                log_failure(channel, message.sender_id, message.text, exc)
                await message.output_channel.send_text_message(message.sender_id, FAILED)

        return guarded

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(self.limited(on_new_message))  # type: ignore[misc]


class RateLimitedSocketIOInput(MessageLimitMixin, WebChatInput):
    """The chat page's socket.io channel (``WebChatInput``: session persistence that works
    with python-socketio 5, sessions bound to their socket) with the per-sender limits."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"


def _json_reply(sender: Optional[Text], text: Text, status: int, headers: Optional[dict] = None) -> HTTPResponse:
    return response.json([{"recipient_id": sender, "text": text}], status=status, headers=headers)


class RateLimitedRestInput(RestInput):
    """The REST channel of the production profile (see the module docstring)."""

    _guard: Optional[MessageGuard] = None

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @property
    def guard(self) -> MessageGuard:
        if self._guard is None:
            self._guard = MessageGuard.from_settings()
        return self._guard

    @staticmethod
    def parse(request: Request) -> tuple[Optional[Text], Optional[Text]]:
        """``(sender, message)`` of a well-formed body, else ``(None, None)``."""
        try:
            body = request.json
        except Exception:  # invalid JSON
            return None, None
        if not isinstance(body, dict):
            return None, None
        sender, message = body.get("sender"), body.get("message")
        if not isinstance(sender, str) or not sender.strip():
            return None, None
        sender = namespaced(sender)
        if sender is None or len(sender) > MAX_SENDER_CHARS:
            return None, None
        if not isinstance(message, str):
            return None, None
        return sender, message

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            unauthorized = token_problem(request)
            if unauthorized is not None:
                return unauthorized
            sender, text = self.parse(request)
            if sender is None:
                return response.json({"error": "bad_request", "message": BAD_REQUEST}, status=400)
            refusal = await self.guard.check(sender, text)
            if refusal is not None:
                headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else None
                return _json_reply(sender, refusal.text, refusal.status, headers)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name(), metadata=None)
                )
            except (Exception, asyncio.CancelledError) as exc:
                log_failure(self.name(), sender, text, exc)
                return _json_reply(sender, FAILED, 503)
            return response.json(collector.messages)

        return webhook

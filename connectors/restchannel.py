"""The REST channel (``POST /webhooks/rest/webhook``): for tests, curl and trusted integrations.

Its conversations live in their own namespace (``bot/rules/conversation_ids.py``): the
``sender`` a caller names becomes ``rest-<sender>`` (kept when it already starts with
``rest-``), so no REST call can read, continue or change a conversation of the web chat or of
WeChat, whatever id it names. With ``APP_ENV=production`` every message also needs
``Authorization: Bearer <REST_CHANNEL_TOKEN>`` (401 without it); development's channel stays
open, for curl and the tests, on the loopback address the development server listens on.

``NamespacedRestInput`` is development's channel (``credentials.yml``); the production
profile's ``connectors.ratelimit.RateLimitedRestInput`` applies the same two rules.
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rules.conversation_ids import REST_PREFIX, rest_sender
from bot.settings.channels import channel_settings

UNAUTHORIZED = "此接口仅供授权的系统调用：请在请求头中提供有效的令牌（Authorization: Bearer …）。"


def namespaced(sender: Any) -> Optional[Text]:
    """The conversation id of a REST ``sender`` (None stays None: the caller refuses it)."""
    if sender is None:
        return None
    return rest_sender(str(sender))


def token_problem(request: Request) -> Optional[HTTPResponse]:
    """None when the request may use the REST channel; else the 401 answer."""
    settings = channel_settings()
    if not settings.is_production:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    expected = settings.rest_channel_token
    if scheme.lower() == "bearer" and given and hmac.compare_digest(given.strip().encode(), expected.encode()):
        return None
    return response.json(
        {"error": "unauthorized", "message": UNAUTHORIZED},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="rest-channel"'},
    )


class NamespacedRestInput(RestInput):
    """Rasa's REST channel with namespaced senders (and the token in production)."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        body = req.json if isinstance(req.json, dict) else {}
        return namespaced(body.get("sender")) or REST_PREFIX + "default"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def require_token(request: Request) -> Optional[HTTPResponse]:
            if request.method == "POST":
                return token_problem(request)
            return None

        return webhook

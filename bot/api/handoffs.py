"""``POST /api/v1/handoffs`` {"conversation_id", "channel", "reason"} — the citizen asked for a
person (the action server, service token). Idempotent per open conversation: while a handoff
of the conversation is open the same one is returned (200), otherwise a new one is created
(201)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.api.common import API_PREFIX, read_json_object
from bot.rules.roles import Permission, Principal
from bot.store import handoffs as store_handoffs
from bot.store.models import Handoff
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER
from bot.web.routes import add

CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CONVERSATION_ID_MAX = 128


def handoff_json(handoff: Handoff) -> dict[str, Any]:
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "status": handoff.status,
        "status_label": store_handoffs.HANDOFF_STATUS_LABELS[handoff.status],
        "requested_at": handoff.requested_at.isoformat(),
    }


async def create_handoff(request: web.Request, principal: Principal) -> web.Response:
    body = await read_json_object(request)
    errors: dict[str, str] = {}
    conversation_id = body.get("conversation_id")
    if not isinstance(conversation_id, str) or not conversation_id.strip():
        errors["conversation_id"] = "请提供会话编号。"
    elif len(conversation_id) > CONVERSATION_ID_MAX:
        errors["conversation_id"] = f"会话编号不能超过{CONVERSATION_ID_MAX}个字符。"
    channel = body.get("channel") or "web"
    if not isinstance(channel, str) or not CHANNEL_RE.match(channel):
        errors["channel"] = "信访渠道应为小写英文标识，例如 web、wechat、rest。"
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        errors["reason"] = "原因应为文字。"
    if errors:
        raise ApiError(422, "validation_failed", fields=errors)
    async with request.app[SESSIONMAKER]() as session:
        handoff, created = await store_handoffs.request_handoff(
            session, conversation_id=conversation_id.strip(), channel=channel, reason=reason,
            now=request.app[CLOCK](),
        )
        result = handoff_json(handoff)
    return json_response({"handoff": result, "created": created}, status=201 if created else 200)


def setup(app: web.Application) -> None:
    add(app, "POST", f"{API_PREFIX}/handoffs", create_handoff, Permission.HANDOFF_REQUEST)

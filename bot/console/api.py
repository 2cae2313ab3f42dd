"""JSON API the console adds for the action server (service token):

- ``POST /api/v1/handoffs`` {"conversation_id", "channel", "reason"} — the citizen asked for a
  person. Idempotent per open conversation: while a handoff of the conversation is open the
  same one is returned (200), otherwise a new one is created (201).
- ``GET /api/v1/notifications/{id}`` — the text of a notification of the citizen
  (``action_notify_case_update`` reads it and says it).
- ``GET /api/v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`` — the statistics of a period exactly
  as the console's charts show them (every table: title, columns, rows).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.store import handoffs as store_handoffs
from bot.store import notifications as store_notifications
from bot.store import reporting
from bot.store.models import Case, Handoff
from bot.web.api import API_PREFIX, read_json_object
from bot.web.auth import Permission, Principal
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER

CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CONVERSATION_ID_MAX = 128


def handoff_json(handoff: Handoff) -> dict[str, Any]:
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "status": handoff.status,
        "status_label": store_handoffs.STATUS_LABELS[handoff.status],
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


async def get_notification(request: web.Request, principal: Principal) -> web.Response:
    try:
        notification_id = int(request.match_info["notification_id"])
    except ValueError:
        raise ApiError(404, "not_found") from None
    async with request.app[SESSIONMAKER]() as session:
        notification = await store_notifications.get_notification(session, notification_id)
        if notification is None:
            raise ApiError(404, "not_found", "未找到该通知。")
        case = await session.get(Case, notification.case_id)
    return json_response({
        "id": notification.id,
        "case_no": case.case_no,
        "kind": notification.kind,
        "conversation_id": notification.conversation_id,
        "text": notification.text,
        "status": notification.status,
    })


async def period_report(request: web.Request, principal: Principal) -> web.Response:
    from bot.console.views.stats import build_report, period_of

    start, end, error = period_of(request)
    if error and "格式" in error:
        raise ApiError(400, "invalid_period", error)
    report = await build_report(request, start, end)
    return json_response(reporting.report_json(report))


def setup(app: web.Application, add: Any) -> None:
    add(app, "POST", f"{API_PREFIX}/handoffs", create_handoff, Permission.HANDOFF_REQUEST)
    add(app, "GET", f"{API_PREFIX}/notifications/{{notification_id}}", get_notification,
        Permission.CASE_READ)
    add(app, "GET", f"{API_PREFIX}/reports", period_report, Permission.STATS_READ)

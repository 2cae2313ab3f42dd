"""``GET /api/v1/notifications/{id}`` — the text of a notification of the citizen
(``action_notify_case_update`` reads it and says it in the chat)."""

from __future__ import annotations

from aiohttp import web

from bot.api.common import API_PREFIX
from bot.rules.roles import Permission, Principal
from bot.store import notifications as store_notifications
from bot.store import visibility
from bot.store.models import Case
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER
from bot.web.routes import add


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
        if not visibility.can_see_case(principal, case):
            # A notification of a case outside the caller's unit: recorded, answered as unknown.
            await visibility.record_refusal(session, principal, route=f"{request.method} {request.path}",
                                            case=case, now=request.app[CLOCK]())
            await session.commit()
            raise ApiError(404, "not_found", "未找到该通知。")
    return json_response({
        "id": notification.id,
        "case_no": case.case_no,
        "kind": notification.kind,
        "conversation_id": notification.conversation_id,
        "text": notification.text,
        "status": notification.status,
    })


def setup(app: web.Application) -> None:
    add(app, "GET", f"{API_PREFIX}/notifications/{{notification_id}}", get_notification,
        Permission.CASE_READ)

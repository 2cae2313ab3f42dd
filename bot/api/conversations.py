"""``POST /api/v1/conversations/{conversation_id}/erase`` — the citizen asked in the chat to
delete what this conversation holds (PIPL 第47条; the action server, service token). 200
``{"erased": true, "events": n}`` for an unfiled conversation; 409 ``conversation_filed`` when
a case was filed from it (its data is kept for the archive period and staff handle requests).
"""

from __future__ import annotations

from aiohttp import web

from bot.api.common import API_PREFIX
from bot.rules.roles import Permission, Principal
from bot.store.retention import ErasureUnavailable, erase_conversation, make_tracker_writer
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS
from bot.web.routes import add

CONVERSATION_ID_MAX = 128


async def erase(request: web.Request, principal: Principal) -> web.Response:
    conversation_id = request.match_info["conversation_id"]
    if not conversation_id.strip() or len(conversation_id) > CONVERSATION_ID_MAX:
        raise ApiError(422, "validation_failed", fields={"conversation_id": "会话编号无效。"})
    settings = request.app[SETTINGS]
    tracker = make_tracker_writer(settings.tracker_db_url, settings.tracker_db_schema)
    try:
        async with request.app[SESSIONMAKER]() as session:
            try:
                changed = await erase_conversation(
                    session, tracker, conversation_id, now=request.app[CLOCK](),
                    keys=settings.tracker_encryption_keys,
                )
            except ErasureUnavailable:
                raise ApiError(503, "erasure_unavailable", "暂时无法删除该对话的记录，请稍后再试。") from None
            if changed is None:
                raise ApiError(409, "conversation_filed", "该对话已形成信访件，个人信息按档案规定保存，请联系工作人员办理。")
            await session.commit()
    finally:
        if tracker is not None:
            await tracker.dispose()
    return json_response({"erased": True, "events": changed})


def setup(app: web.Application) -> None:
    add(app, "POST", f"{API_PREFIX}/conversations/{{conversation_id}}/erase", erase, Permission.CONVERSATION_ERASE)

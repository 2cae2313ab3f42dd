"""The citizen's rating of the handling (信访工作条例 第二十一条), from the chat.

- ``GET /ratings?conversation_id=`` — the answered cases of a conversation with their rating
  (label or null), whether they can be rated today and until when.
- ``POST /cases/{case_no}/rating`` — ``{"rating", "comment", "conversation_id", "query_code"}``:
  the case must have been filed from that conversation, or the query code must be right (a
  citizen looking it up from another device); answered, not rated yet, within the period.
  201 with the label and, for 不满意, the 复查 deadline (第三十五条).

Service token only: the action server speaks for the citizen; staff never rate.
"""

from __future__ import annotations

from aiohttp import web

from bot.api.cases import normalize_case_no, proven_case
from bot.api.common import API_PREFIX, read_json_object
from bot.rules.deadlines import local_date
from bot.rules.ratings import RATING_LABELS, rating_label
from bot.rules.roles import Permission, Principal
from bot.store import cases as store_cases
from bot.store import ratings as store
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER
from bot.web.routes import add

NOT_FOUND = "未找到可以评价的信访件。"


async def conversation_ratings(request: web.Request, principal: Principal) -> web.Response:
    conversation_id = request.query.get("conversation_id", "").strip()
    if not conversation_id:
        raise ApiError(400, "conversation_id_required", "缺少会话编号。")
    today = local_date(request.app[CLOCK]())
    async with request.app[SESSIONMAKER]() as session:
        rows = await store.ratings_of_conversation(session, conversation_id, today)
    return json_response({"cases": [
        {
            "case_no": case.case_no,
            "status": case.status,
            "responsible_unit": case.responsible_unit,
            "rating": rating_label(rating.rating) if rating else None,
            "open": open_now,
            "due": (store.rating_due(case) or today).isoformat(),
        }
        for case, rating, open_now in rows
    ]})


async def rate_case(request: web.Request, principal: Principal) -> web.Response:
    body = await read_json_object(request)
    rating = body.get("rating")
    if rating not in RATING_LABELS:
        raise ApiError(422, "invalid_rating", "评价应为“满意”“基本满意”或“不满意”之一。")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ApiError(422, "invalid_comment", "评价意见应为文字。")
    conversation_id = str(body.get("conversation_id") or "")
    code = str(body.get("query_code") or "")
    now = request.app[CLOCK]()
    case_no = normalize_case_no(request.match_info["case_no"])
    async with request.app[SESSIONMAKER]() as session:
        case = await store_cases.get_case(session, case_no)
        own = case is not None and bool(conversation_id) and case.conversation_id == conversation_id
        if not own:
            if not code:
                raise ApiError(404, "not_found", NOT_FOUND)
            await proven_case(request, case_no, code)  # 404 or 429, rate limited like the lookup
        if case is None:
            raise ApiError(404, "not_found", NOT_FOUND)
        existing = await store.rating_of(session, case.id)
        if existing is not None:
            raise ApiError(409, "already_rated", f"信访件{case.case_no}已经评价过（{rating_label(existing.rating)}），每件只能评价一次。")
        if not store.is_open(case, None, local_date(now)):
            due = store.rating_due(case)
            if due is None or not store.is_answered(case):
                raise ApiError(422, "not_answered", f"信访件{case.case_no}尚未书面答复，暂不能评价。")
            raise ApiError(422, "period_ended", f"信访件{case.case_no}的评价期已于{due.isoformat()}结束。")
        try:
            await store.record_rating(session, case, rating, comment, channel=case.channel,
                                      conversation_id=conversation_id or case.conversation_id, now=now)
        except store.RatingError as exc:
            raise ApiError(422, "invalid_rating", exc.message) from None
        deadlines = store_cases.case_deadlines_of(case)
        await session.commit()
    due = deadlines.get("review_request_due")
    return json_response({
        "case_no": case.case_no,
        "rating": rating_label(rating),
        "review_request_due": due.isoformat() if hasattr(due, "isoformat") else due,
    }, status=201)


def setup(app: web.Application) -> None:
    add(app, "GET", f"{API_PREFIX}/ratings", conversation_ratings, Permission.CASE_RATE)
    add(app, "POST", f"{API_PREFIX}/cases/{{case_no}}/rating", rate_case, Permission.CASE_RATE)

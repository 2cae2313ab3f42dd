"""Leader reception days for the chat (service token; the action server speaks for the citizen).

- ``GET /reception-days?conversation_id=`` — the coming published days with the places left,
  the case of this conversation that may be booked (still being handled), and the days it is
  booked on already.
- ``POST /reception-days/{day_id}/bookings`` — ``{"conversation_id", "channel"}``: books that
  case (201); or ``{"conversation_id", "channel", "case_no", "query_code"}`` from another chat
  or device: books the case whose number and query code the citizen gave (checked and rate
  limited as the status lookup; the reminder goes to this conversation). 404 no such day, no
  case to book or a wrong code; 409 ``full`` or ``duplicate``; 422 ``closed`` (the case is no
  longer being handled); 429 too many wrong codes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.api.cases import proven_case
from bot.api.common import API_PREFIX, read_json_object
from bot.rules.deadlines import local_date
from bot.rules.reception import LISTED_DAYS, NOT_BEING_HANDLED
from bot.rules.statuses import CASE_STATUS_LABELS
from bot.rules.roles import Permission, Principal
from bot.store import reception as store
from bot.store.models import ReceptionBooking, ReceptionDay
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER
from bot.web.routes import add

NO_CASE = "您在这里还没有正在办理中的信访件。预约领导接访需要先登记信访事项，登记后会得到信访件编号。"


def day_json(view: store.DayView) -> dict[str, Any]:
    d = view.day
    return {"id": d.id, "date": d.day.isoformat(), "start": d.start_time, "end": d.end_time,
            "leader": d.leader, "place": d.place, "topics": d.topics, "left": view.left}


async def list_days(request: web.Request, principal: Principal) -> web.Response:
    conversation_id = request.query.get("conversation_id", "").strip()
    today = local_date(request.app[CLOCK]())
    async with request.app[SESSIONMAKER]() as session:
        days = await store.upcoming_days(session, today, LISTED_DAYS)
        case = await store.bookable_case(session, conversation_id) if conversation_id else None
        booked = set(await session.scalars(
            select(ReceptionBooking.day_id).where(ReceptionBooking.case_id == case.id))) if case else set()
    return json_response({
        "days": [day_json(v) for v in days],
        "case_no": case.case_no if case else None,
        "booked_day_ids": sorted(booked),
    })


async def book_day(request: web.Request, principal: Principal) -> web.Response:
    try:
        day_id = int(request.match_info["day_id"])
    except ValueError:
        raise ApiError(404, "not_found", "该接访日不存在。") from None
    body = await read_json_object(request)
    conversation_id = str(body.get("conversation_id") or "").strip()
    channel = str(body.get("channel") or "web")[:32]
    case_no, code = str(body.get("case_no") or "").strip(), str(body.get("query_code") or "").strip()
    if case_no and not code:
        raise ApiError(400, "code_required", "请提供查询码。")
    proven = await proven_case(request, case_no, code) if case_no else None
    now = request.app[CLOCK]()
    async with request.app[SESSIONMAKER]() as session:
        if proven is not None:
            case = await store.bookable_case_by_id(session, proven.id)
            if case is None:
                raise ApiError(422, "closed", NOT_BEING_HANDLED.format(
                    case_no=proven.case_no, status_label=CASE_STATUS_LABELS.get(proven.status, proven.status)))
        else:
            case = await store.bookable_case(session, conversation_id) if conversation_id else None
        if case is None:
            raise ApiError(404, "no_case", NO_CASE)
        try:
            booking = await store.book(session, day_id=day_id, case=case, conversation_id=conversation_id,
                                       channel=channel, now=now, today=local_date(now))
        except store.ReceptionError as exc:
            await session.rollback()
            raise ApiError(404 if exc.code == "not_found" else 409, exc.code, exc.message) from None
        view = store.DayView(await session.get(ReceptionDay, day_id), 0)
        result = {"case_no": case.case_no, "representatives": booking.representatives, "day": day_json(view)}
        await session.commit()
    result["day"].pop("left")
    return json_response(result, status=201)


def setup(app: web.Application) -> None:
    add(app, "GET", f"{API_PREFIX}/reception-days", list_days, Permission.RECEPTION_BOOK)
    add(app, "POST", f"{API_PREFIX}/reception-days/{{day_id}}/bookings", book_day, Permission.RECEPTION_BOOK)

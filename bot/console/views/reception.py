"""Leader reception days (领导接访日) in the console: publish a day, see the coming days with
their bookings; 包案 on the case page (a supervisor assigns a leader to a case)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from bot.console.render import form_data, redirect, render
from bot.rules.deadlines import local_date
from bot.rules.reception import DEFAULT_CAPACITY, MAX_CAPACITY, WHAT_TO_BRING
from bot.rules.roles import Permission, Principal
from bot.store import cases as store_cases
from bot.store import reception as store
from bot.store import visibility
from bot.store.models import ReceptionDay
from bot.web.errors import ApiError
from bot.web.keys import CLOCK, SESSIONMAKER

AGENCY_ONLY = "领导接访日由信访局账户发布和管理。"


def require_agency(principal: Principal) -> None:
    if not visibility.sees_all_units(principal):
        raise ApiError(403, "forbidden", AGENCY_ONLY)


async def reception_page(request: web.Request, principal: Principal, *, error: str | None = None,
                         form: dict[str, str] | None = None, status: int = 200) -> web.Response:
    require_agency(principal)
    today = local_date(request.app[CLOCK]())
    async with request.app[SESSIONMAKER]() as session:
        days = await store.recent_days(session, today)
    return await render(request, "console/reception.html", {
        "days": days, "today": today, "error": error, "form": form or {},
        "default_capacity": DEFAULT_CAPACITY, "max_capacity": MAX_CAPACITY, "what_to_bring": WHAT_TO_BRING,
    }, principal=principal, status=status)


async def reception_publish(request: web.Request, principal: Principal) -> web.StreamResponse:
    require_agency(principal)
    form = await form_data(request)
    form.pop("csrf_token", None)
    now = request.app[CLOCK]()
    try:
        day = date.fromisoformat(form.get("day", ""))
        capacity = int(form.get("capacity") or DEFAULT_CAPACITY)
    except ValueError:
        return await reception_page(request, principal, error="请填写正确的日期和可预约人数。", form=form, status=422)
    async with request.app[SESSIONMAKER]() as session:
        try:
            row = await store.publish_day(
                session, leader=form.get("leader", ""), day=day, start=form.get("start", ""),
                end=form.get("end", ""), place=form.get("place", ""), topics=form.get("topics"),
                capacity=capacity, actor=principal.name, now=now, today=local_date(now),
            )
        except store.ReceptionError as exc:
            await session.rollback()
            return await reception_page(request, principal, error=exc.message, form=form, status=422)
        await session.commit()
        day_id = row.id
    raise redirect(request, f"/console/reception/{day_id}", "已发布领导接访日。")


async def reception_day_page(request: web.Request, principal: Principal) -> web.Response:
    require_agency(principal)
    try:
        day_id = int(request.match_info["day_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[SESSIONMAKER]() as session:
        day = await session.get(ReceptionDay, day_id)
        if day is None:
            raise web.HTTPNotFound(text="未找到该接访日。")
        bookings = await store.bookings_of(session, day.id)
    return await render(request, "console/reception_day.html", {"day": day, "bookings": bookings},
                        principal=principal)


async def case_lead(request: web.Request, principal: Principal) -> web.StreamResponse:
    """包案: a leader takes the case personally."""
    case_no = request.match_info["case_no"].strip().upper()
    form = await form_data(request)
    now = request.app[CLOCK]()
    async with request.app[SESSIONMAKER]() as session:
        case = await store_cases.get_case(session, case_no)
        if case is None or not visibility.can_see_case(principal, case):
            if case is not None:
                await visibility.record_refusal(session, principal, route=f"{request.method} {request.path}",
                                                case=case, now=now)
                await session.commit()
            raise web.HTTPNotFound(text="未找到该信访件。")
        try:
            await store.assign_lead(session, case, leader=form.get("leader", ""), note=form.get("note"),
                                    actor=principal.name, now=now)
        except store.ReceptionError as exc:
            await session.rollback()
            raise redirect(request, f"/console/cases/{case_no}", exc.message) from None
        await session.commit()
    raise redirect(request, f"/console/cases/{case_no}", "已登记包案领导。")


async def queue_reminders_for(session, now) -> int:
    return await store.queue_reminders(session, local_date(now), now)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/reception", reception_page, Permission.RECEPTION_MANAGE)
    add(app, "POST", "/console/reception", reception_publish, Permission.RECEPTION_MANAGE)
    add(app, "GET", "/console/reception/{day_id}", reception_day_page, Permission.RECEPTION_MANAGE)
    add(app, "POST", "/console/cases/{case_no}/lead", case_lead, Permission.CASE_LEAD)

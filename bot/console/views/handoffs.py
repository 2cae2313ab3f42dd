"""Human handoff, staff side: the conversations waiting for a person, taking one over (the
assistant is paused), replying into it, and handing it back (the assistant resumes).

The citizen side files the request with ``POST /api/v1/handoffs`` (see bot/api/handoffs.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.console.keys import RASA, STAFF, TRACKER_ENGINE
from bot.console.rasa import RasaError, bot_event
from bot.console.render import form_data, local_dt, mask_numbers, redirect, render
from bot.rules.jurisdiction import load_jurisdiction
from bot.store import cases as store_cases
from bot.store import handoffs as store
from bot.store import visibility
from bot.store.models import Handoff
from bot.store.transcripts import TrackerUnavailable, read_transcript
from bot.rules.roles import Permission, Principal
from bot.web.errors import json_response
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS

log = logging.getLogger(__name__)

REPLY_MAX = 1000
OFFICER_PREFIX = "【信访局工作人员】"
RASA_DOWN = "暂时无法连接对话服务（Rasa），请稍后再试。"


def take_text() -> str:
    return f"{OFFICER_PREFIX}您好，信访局工作人员已接入，接下来由我为您服务。请问有什么可以帮您？"


def release_text() -> str:
    return ("人工服务已结束，感谢您的耐心。智能助手将继续为您服务：您可以直接说遇到的问题，"
            "或说「查一下我的信访件」查询办理进度。")


def idle_return_text() -> str:
    return ("工作人员暂时未能继续回复，本次人工服务已结束，智能助手将继续为您服务。"
            "如仍需人工帮助，请再次说「转人工」。")


async def return_idle_conversations(app: web.Application) -> int:
    """Hand back to the assistant every taken conversation without staff activity for
    HANDOFF_IDLE_MINUTES (checked whenever the console lists or shows handoffs). Each is
    claimed by one conditional UPDATE, so two staff pages never return it twice; when Rasa
    cannot be reached it stays taken and is tried again next time. Returns how many."""
    now = app[CLOCK]()
    idle = timedelta(minutes=app[SETTINGS].handoff_idle_minutes)
    async with app[SESSIONMAKER]() as session:
        ids = await store.idle_handoffs(session, now, idle)
    returned = 0
    for handoff_id in ids:
        async with app[SESSIONMAKER]() as session:
            handoff = await store.claim_idle(session, handoff_id, now, idle)
            if handoff is None:
                continue
            conversation = handoff.conversation_id
            metadata = {"handoff_id": handoff_id, "source": "staff"}
            try:
                await app[RASA].append_events(
                    conversation, [{"event": "resume"}, bot_event(idle_return_text(), metadata)]
                )
            except RasaError as exc:
                await session.rollback()
                log.warning("handoff %s: idle return failed: %s", handoff_id, exc)
                continue
            cases = await store_cases.cases_by_conversation(session, conversation)
            await store_cases.add_audit(
                session, actor=store.IDLE_CLOSER, action="handoff_idle_return",
                case_id=cases[0].id if cases else None,
                detail={"handoff": handoff_id, "conversation_id": conversation}, now=now,
            )
            await session.commit()
            returned += 1
            log.info("handoff %s: returned to the assistant after %s idle", handoff_id, idle)
    return returned


def dismiss_text() -> str:
    j = load_jurisdiction()
    return (f"很抱歉，工作人员暂时无法在线接入。您可以拨打{j.hotline}（{j.reception_hours}）"
            f"联系工作人员，或前往{j.address}当面反映。智能助手将继续为您服务。")


def staff_display(request: web.Request, principal: Principal) -> str:
    staff = request.get(STAFF)
    return staff[1].display_name if staff else principal.name


HANDOFF_NOT_FOUND = "未找到该人工服务请求。"


async def _load(request: web.Request, session, principal: Principal) -> Handoff:
    """The handoff of the URL; 404 when unknown or outside the caller's scope (then recorded:
    a handoff is visible when its conversation is, bot/store/visibility.py)."""
    try:
        handoff_id = int(request.match_info["handoff_id"])
    except ValueError:
        raise web.HTTPNotFound(text=HANDOFF_NOT_FOUND) from None
    handoff = await store.get_handoff(session, handoff_id)
    if handoff is None:
        raise web.HTTPNotFound(text=HANDOFF_NOT_FOUND)
    cases = await store_cases.cases_by_conversation(session, handoff.conversation_id)
    if not visibility.can_see_conversation(principal, cases):
        await visibility.record_refusal(
            session, principal, route=f"{request.method} {request.path}",
            case=cases[0] if cases else None, now=request.app[CLOCK](),
            detail={"handoff": handoff_id, "case_nos": [c.case_no for c in cases]},
        )
        await session.commit()
        raise web.HTTPNotFound(text=HANDOFF_NOT_FOUND)
    return handoff


async def handoff_list(request: web.Request, principal: Principal) -> web.Response:
    await return_idle_conversations(request.app)
    async with request.app[SESSIONMAKER]() as session:
        scope = visibility.conversation_scope(principal, Handoff.conversation_id)
        open_ = await store.list_handoffs(session, scope=scope)
        recent = list(await session.scalars(
            select(Handoff).where(Handoff.status == store.CLOSED, *scope)
            .order_by(Handoff.closed_at.desc()).limit(20)
        ))
    return await render(request, "console/handoffs.html", {
        "open": open_, "recent": recent, "labels": store.HANDOFF_STATUS_LABELS,
    }, principal=principal)


async def handoff_view(request: web.Request, principal: Principal, *, error: str | None = None,
                       status: int = 200) -> web.Response:
    app = request.app
    await return_idle_conversations(app)
    async with app[SESSIONMAKER]() as session:
        handoff = await _load(request, session, principal)
        cases = await store_cases.cases_by_conversation(session, handoff.conversation_id)
        await store_cases.add_audit(
            session, actor=principal.name, action="view_transcript",
            case_id=cases[0].id if cases else None,
            detail={"conversation_id": handoff.conversation_id, "handoff": handoff.id}, now=app[CLOCK](),
        )
        await session.commit()
    transcript, transcript_error = [], None
    try:
        transcript = await read_transcript(app[TRACKER_ENGINE], handoff.conversation_id)
    except TrackerUnavailable:
        transcript_error = "对话记录库暂时无法读取。"
    return await render(request, "console/handoff.html", {
        "handoff": handoff,
        "cases": cases,
        "transcript": transcript,
        "transcript_error": transcript_error,
        "last_id": transcript[-1].event_id if transcript else 0,
        "labels": store.HANDOFF_STATUS_LABELS,
        "error": error,
        "mine": handoff.taken_by == principal.name,
        # A supervisor may hand back a conversation another officer took.
        "supervisor": principal.can(Permission.CASE_APPROVE),
    }, principal=principal, status=status)


async def handoff_page(request: web.Request, principal: Principal) -> web.Response:
    return await handoff_view(request, principal)


async def handoff_events(request: web.Request, principal: Principal) -> web.Response:
    """New turns since ``after`` (the console page polls this)."""
    try:
        after = max(0, int(request.query.get("after") or 0))
    except ValueError:
        after = 0
    async with request.app[SESSIONMAKER]() as session:
        handoff = await _load(request, session, principal)
    try:
        turns = await read_transcript(request.app[TRACKER_ENGINE], handoff.conversation_id,
                                      after_id=after)
    except TrackerUnavailable:
        return json_response({"error": "tracker_unavailable", "turns": [], "last_id": after,
                              "status": handoff.status}, status=503)
    return json_response({
        "status": handoff.status,
        "status_label": store.HANDOFF_STATUS_LABELS[handoff.status],
        "last_id": turns[-1].event_id if turns else after,
        "turns": [
            {
                "id": t.event_id,
                "kind": t.kind,
                "at": local_dt(t.at, "%H:%M:%S"),
                "text": mask_numbers(t.text),
                "officer": t.officer,
            }
            for t in turns
        ],
    })


async def _act(request: web.Request, principal: Principal, action: str) -> web.StreamResponse:
    app = request.app
    form = await form_data(request)
    now = app[CLOCK]()
    rasa = app[RASA]
    async with app[SESSIONMAKER]() as session:
        handoff = await _load(request, session, principal)
        handoff_id = handoff.id
        location = f"/console/handoffs/{handoff_id}"
        conversation = handoff.conversation_id
        metadata = {"handoff_id": handoff_id, "source": "staff"}
        try:
            if action == "take":
                await store.take(session, handoff, principal.name, now)
                events = [{"event": "pause"},
                          bot_event(take_text(), {**metadata, "officer": staff_display(request, principal)})]
                message = "已接入对话，智能助手已暂停应答。"
            elif action == "reply":
                store.ensure_active(handoff, principal.name)
                text = (form.get("text") or "").strip()
                if not text:
                    raise store.HandoffError("请输入回复内容。")
                if len(text) > REPLY_MAX:
                    raise store.HandoffError(f"回复不能超过{REPLY_MAX}个字。")
                store.touch(handoff, now)
                events = [bot_event(OFFICER_PREFIX + text,
                                    {**metadata, "officer": staff_display(request, principal)})]
                message = "已发送。"
            elif action == "release":
                # The officer who took it, or a supervisor (e.g. when that officer has left).
                store.ensure_may_release(handoff, principal.name,
                                         supervisor=principal.can(Permission.CASE_APPROVE))
                store.close(handoff, principal.name, now)
                events = [{"event": "resume"}, bot_event(release_text(), metadata)]
                message = "已交还智能助手。"
            else:  # dismiss a waiting request nobody can take now
                if handoff.status != store.WAITING:
                    raise store.HandoffError("只能结束尚未接入的请求；已接入的请使用「交还智能助手」。")
                store.close(handoff, principal.name, now)
                events = [bot_event(dismiss_text(), metadata)]
                message = "已结束该请求，并告知信访人联系方式。"
        except store.HandoffError as exc:
            await session.rollback()
            return await handoff_view(request, principal, error=exc.message, status=409)
        # Rasa first: if the conversation cannot be reached, nothing is recorded as done.
        try:
            await rasa.append_events(conversation, events)
        except RasaError as exc:
            await session.rollback()
            log.warning("handoff %s: %s failed: %s", handoff_id, action, exc)
            return await handoff_view(request, principal, error=RASA_DOWN, status=502)
        cases = await store_cases.cases_by_conversation(session, conversation)
        await store_cases.add_audit(
            session, actor=principal.name, action=f"handoff_{action}",
            case_id=cases[0].id if cases else None,
            detail={"handoff": handoff_id, "conversation_id": conversation}, now=now,
        )
        await session.commit()
    raise redirect(request, location if action in ("take", "reply") else "/console/handoffs", message)


async def handoff_take(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _act(request, principal, "take")


async def handoff_reply(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _act(request, principal, "reply")


async def handoff_release(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _act(request, principal, "release")


async def handoff_dismiss(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _act(request, principal, "dismiss")


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/handoffs", handoff_list, Permission.HANDOFF)
    add(app, "GET", "/console/handoffs/{handoff_id}", handoff_page, Permission.HANDOFF)
    add(app, "GET", "/console/handoffs/{handoff_id}/events", handoff_events, Permission.HANDOFF)
    add(app, "POST", "/console/handoffs/{handoff_id}/take", handoff_take, Permission.HANDOFF)
    add(app, "POST", "/console/handoffs/{handoff_id}/reply", handoff_reply, Permission.HANDOFF)
    add(app, "POST", "/console/handoffs/{handoff_id}/release", handoff_release, Permission.HANDOFF)
    add(app, "POST", "/console/handoffs/{handoff_id}/dismiss", handoff_dismiss, Permission.HANDOFF)

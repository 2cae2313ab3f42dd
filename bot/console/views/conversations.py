"""Conversation review: every conversation (with or without a case), its transcript with the
recognised intents, labels for retraining, and the NLU YAML export."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.console import refs
from bot.console.keys import TRACKER_ENGINE
from bot.console.render import attachment, form_data, redirect, render
from bot.rules.masking import anonymize_numbers_in_text
from bot.rules.deadlines import local_date
from bot.store import cases as store_cases
from bot.store import handoffs as store_handoffs
from bot.store import visibility
from bot.store.models import ConversationIndex, NluAnnotation
from bot.console import training as nlu_review
from bot.store.transcripts import LOW_CONFIDENCE, TrackerUnavailable, read_transcript, read_user_event
from bot.rules.roles import Permission, Principal
from bot.web.keys import CLOCK, SESSIONMAKER

log = logging.getLogger(__name__)

PER_PAGE = 50
SENDER_MAX = 255
TRACKER_DOWN = "对话记录库暂时无法读取（Rasa 的对话存储尚未建立或不可用），请稍后再试。"

# Example numbers put in place of a citizen's real ones in exported training data (the regex
# entity extractor still sees a valid ID number and mobile number).
EXAMPLE_ID = "11010519491231002X"
EXAMPLE_MOBILE = "13812345678"


def conversation_url(app: web.Application, sender_id: str) -> str:
    """The review page of a conversation, by reference (bot/console/refs.py): no page or link
    shows a conversation id."""
    return refs.conversation_url(app, sender_id)


def anonymize(text: str) -> str:
    """The text with personal numbers replaced by example numbers (for training data)."""
    return anonymize_numbers_in_text(text, EXAMPLE_ID, EXAMPLE_MOBILE)


async def conversation_list(request: web.Request, principal: Principal) -> web.Response:
    query = request.query
    needs_review = query.get("review") == "1"
    with_case = query.get("case", "") if query.get("case") in ("yes", "no") else ""
    search = (query.get("q") or "").strip()[:100]
    try:
        page = max(1, int(query.get("page") or 1))
    except ValueError:
        page = 1
    sync_error = None
    async with request.app[SESSIONMAKER]() as session:
        try:
            await nlu_review.sync_index(session, request.app[TRACKER_ENGINE], now=request.app[CLOCK]())
        except TrackerUnavailable:
            await session.rollback()
            sync_error = TRACKER_DOWN
        rows, total = await nlu_review.list_conversations(
            session, needs_review=needs_review, with_case=with_case, query=search, page=page,
            per_page=PER_PAGE,
            scope=visibility.conversation_scope(principal, ConversationIndex.sender_id),
        )
    pages = max(1, -(-total // PER_PAGE))

    def page_url(n: int) -> str:
        args = {"review": "1" if needs_review else "", "case": with_case, "q": search, "page": str(n)}
        return "?" + urlencode({k: v for k, v in args.items() if v})

    return await render(request, "console/conversations.html", {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "prev_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
        "needs_review": needs_review,
        "with_case": with_case,
        "q": search,
        "sync_error": sync_error,
        "low_confidence": LOW_CONFIDENCE,
    }, principal=principal)


def sender_of(value: Any, app: web.Application | None = None) -> str:
    """The conversation a page or form names: by reference (what the console's own links and
    forms carry), or by its id (a link from elsewhere)."""
    resolved = refs.resolve_ref(app, value) if app is not None else ""
    sender = resolved or ((value or "").strip() if isinstance(value, str) else "")
    if not sender or len(sender) > SENDER_MAX:
        raise web.HTTPNotFound(text="未找到该对话。")
    return sender


async def require_visible(request: web.Request, principal: Principal, sender: str) -> None:
    """404 (recorded) for a conversation the caller may not see (bot/store/visibility.py)."""
    async with request.app[SESSIONMAKER]() as session:
        cases = await store_cases.cases_by_conversation(session, sender)
        if visibility.can_see_conversation(principal, cases):
            return
        await visibility.record_refusal(
            session, principal, route=f"{request.method} {request.path}",
            case=cases[0] if cases else None, now=request.app[CLOCK](),
            detail={"conversation_id": sender, "case_nos": [c.case_no for c in cases]},
        )
        await session.commit()
    raise web.HTTPNotFound(text="未找到该对话。")


async def conversation_view(request: web.Request, principal: Principal) -> web.Response:
    sender = sender_of(request.query.get("c") or request.query.get("id"), request.app)
    app = request.app
    now = app[CLOCK]()
    await require_visible(request, principal, sender)
    transcript, error = None, None
    try:
        transcript = await read_transcript(app[TRACKER_ENGINE], sender)
    except TrackerUnavailable:
        error = TRACKER_DOWN
    async with app[SESSIONMAKER]() as session:
        cases = await store_cases.cases_by_conversation(session, sender)
        if transcript is not None and not transcript and not cases:
            raise web.HTTPNotFound(text="未找到该对话。")
        labels = await nlu_review.labels_of(session, sender)
        handoff = await store_handoffs.open_handoff(session, sender)
        await store_cases.add_audit(
            session, actor=principal.name, action="view_transcript",
            case_id=cases[0].id if cases else None,
            detail={"conversation_id": sender, "remote": request.remote}, now=now,
        )
        await session.commit()
    return await render(request, "console/conversation.html", {
        "sender": sender,
        "transcript": transcript or [],
        "error": error,
        "cases": cases,
        "labels": labels,
        "handoff": handoff,
        "intents": nlu_review.intent_choices(),
        "low_confidence": LOW_CONFIDENCE,
        "back": request.query.get("back", ""),
        "today": local_date(now),
    }, principal=principal)


async def label_turn(request: web.Request, principal: Principal) -> web.StreamResponse:
    form = await form_data(request)
    sender = sender_of(form.get("sender_id"), request.app)
    intent = (form.get("intent") or "").strip()
    back = conversation_url(request.app, sender) + "#turn-" + quote(form.get("event_id", ""))
    try:
        event_id = int(form.get("event_id") or "")
    except ValueError:
        raise web.HTTPNotFound(text="未找到该轮对话。") from None
    await require_visible(request, principal, sender)
    if not nlu_review.valid_intent(intent):
        raise redirect(request, back, "请选择一个有效的意图。")
    app = request.app
    try:
        turn = await read_user_event(app[TRACKER_ENGINE], sender, event_id)
    except TrackerUnavailable:
        raise redirect(request, back, TRACKER_DOWN) from None
    if turn is None:
        raise web.HTTPNotFound(text="未找到该轮对话。")
    predicted, confidence = turn.best_guess
    now = app[CLOCK]()
    async with app[SESSIONMAKER]() as session:
        await nlu_review.set_label(
            session, sender_id=sender, event_id=event_id, text=anonymize(turn.text),
            predicted_intent=turn.intent if turn.intent else predicted, confidence=confidence,
            intent=intent, actor=principal.name, now=now,
        )
        await store_cases.add_audit(session, actor=principal.name, action="nlu_label", case_id=None,
                                    detail={"conversation_id": sender, "event_id": event_id,
                                            "intent": intent}, now=now)
        await session.commit()
    raise redirect(request, back, f"已标注为 {intent}。")


async def unlabel_turn(request: web.Request, principal: Principal) -> web.StreamResponse:
    form = await form_data(request)
    sender = sender_of(form.get("sender_id"), request.app)
    try:
        event_id = int(form.get("event_id") or "")
    except ValueError:
        raise web.HTTPNotFound(text="未找到该轮对话。") from None
    now = request.app[CLOCK]()
    async with request.app[SESSIONMAKER]() as session:
        removed = await nlu_review.remove_label(session, sender, event_id)
        if removed:
            await store_cases.add_audit(session, actor=principal.name, action="nlu_unlabel",
                                        case_id=None, detail={"conversation_id": sender,
                                                              "event_id": event_id}, now=now)
        await session.commit()
    raise redirect(request, conversation_url(request.app, sender) + f"#turn-{event_id}", "已取消标注。")


async def training(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[SESSIONMAKER]() as session:
        labels = await nlu_review.all_labels(
            session, scope=visibility.conversation_scope(principal, NluAnnotation.sender_id))
    return await render(request, "console/training.html", {
        "labels": labels,
    }, principal=principal)


async def training_export(request: web.Request, principal: Principal) -> web.StreamResponse:
    now = request.app[CLOCK]()
    async with request.app[SESSIONMAKER]() as session:
        labels = await nlu_review.all_labels(
            session, scope=visibility.conversation_scope(principal, NluAnnotation.sender_id))
        await store_cases.add_audit(session, actor=principal.name, action="nlu_export", case_id=None,
                                    detail={"examples": len(labels)}, now=now)
        await session.commit()
    body = nlu_review.export_nlu_yaml(labels)
    filename = f"nlu-reviewed-{local_date(now).isoformat()}.yml"
    return attachment(body.encode("utf-8"), "application/x-yaml", filename)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/conversations", conversation_list, Permission.CONVERSATION_READ)
    add(app, "GET", "/console/conversations/view", conversation_view, Permission.CONVERSATION_READ)
    add(app, "POST", "/console/conversations/label", label_turn, Permission.NLU_LABEL)
    add(app, "POST", "/console/conversations/unlabel", unlabel_turn, Permission.NLU_LABEL)
    add(app, "GET", "/console/training", training, Permission.NLU_LABEL)
    add(app, "GET", "/console/training/export.yml", training_export, Permission.NLU_EXPORT)

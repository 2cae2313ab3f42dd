"""Dashboard, case list, case detail (fields, deadlines, history, transcript), revealing
personal numbers, and the workflow steps."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from bot.console import workflow_forms
from bot.console.keys import TRACKER_ENGINE
from bot.console.notifier import NOTIFIER
from bot.console.render import form_data, redirect, render
from bot.rules.deadlines import EXTENSION_MAX_DAYS, local_date
from bot.rules.ratings import RATING_LABELS
from bot.rules.time_limits import deadline_rows
from bot.rules.workflow import (
    DELIVERY_METHODS,
    REFERRAL_TARGETS,
    TRANSITIONS,
    CaseSnapshot,
    WorkflowError,
    available,
)
from bot.rules.workflow import check as workflow_check
from bot.store import cases as store_cases
from bot.store import handoffs as store_handoffs
from bot.store import notifications as store_notifications
from bot.store import ratings as store_ratings
from bot.store import repeats, reporting, visibility, workflow
from bot.store import reception as store_reception
from bot.store import warnings as store_warnings
from bot.store.delivery import CHAT_DELIVERY_ACTION
from bot.rules.statuses import CASE_STATUS_LABELS
from bot.store.models import AuditEntry, Case, CaseEvent, Handoff
from bot.store.transcripts import TrackerUnavailable, read_transcript
from bot.rules.roles import Permission, Principal
from bot.web.errors import ApiError
from bot.web.keys import CLOCK, CRYPTO, SESSIONMAKER, SETTINGS

log = logging.getLogger(__name__)

ACTION_LABELS = {
    "create": "登记",
    "material_added": "同一事项再次反映，并入补充材料（第十九条）",
    "link_repeat": "关联为重复信访",
    "link_merged": "合并办理",
    "unlink": "取消关联",
    "lead_assigned": "登记包案领导",
    "reception_booked": "预约领导接访",
    "read": "阅办",
    CHAT_DELIVERY_ACTION: "在线对话中送达",
    **{name: t.label for name, t in TRANSITIONS.items()},
}
AUDIT_LABELS = {
    "view_case": "查看信访件",
    "view_transcript": "查看对话记录",
    "reveal_personal_numbers": "查看完整证件号码和手机号码",
    "notification_resend": "重新发送通知",
    "case_search": "搜索信访件",
    repeats.AUDIT_LINK: "关联信访件",
    repeats.AUDIT_UNLINK: "取消关联信访件",
    store_reception.AUDIT_LEAD: "登记包案领导",
    visibility.REFUSAL_ACTION: "访问本单位以外或无权查看的信访件（已拒绝）",
    **{f"case_{name}": t.label for name, t in TRANSITIONS.items()},
}
DONE_MESSAGES = {
    "accept": "已受理。",
    "not_accept": "已作出不予受理决定。",
    "assign": "已交办。",
    "objection": "已退回，请重新交办。",
    "extend": "已延长办理期限。",
    "reply": "已登记书面答复。",
    "close": "已办结。",
    "review_request": "已登记复查请求。",
    "review_opinion": "已登记复查意见。",
    "recheck_request": "已登记复核请求。",
    "recheck_opinion": "已登记复核意见。",
    "reply_delivery": "已登记书面答复的送达日期。",
    "review_opinion_delivery": "已登记复查意见的送达日期。",
}
NOTIFY_OUTCOME = {
    store_notifications.SENT: "已通知信访人。",
    store_notifications.SENDING: "正在通知信访人。",
    store_notifications.FAILED: "通知信访人暂未成功，系统将自动重试（见“通知记录”）。",
}


CASE_NOT_FOUND = "未找到该信访件。"


async def refuse(request: web.Request, session, principal: Principal, case: Case) -> NoReturn:
    """A case outside the caller's unit (or a 检举控告 matter they may not see): recorded, and
    answered exactly like a case that does not exist."""
    await visibility.record_refusal(session, principal, route=f"{request.method} {request.path}",
                                    case=case, now=request.app[CLOCK]())
    log.info("case %s: out-of-scope request by %s refused", case.case_no, principal.name)
    await session.commit()
    raise web.HTTPNotFound(text=CASE_NOT_FOUND)


def today_of(request: web.Request):
    return local_date(request.app[CLOCK]())


def due_soon_days(request: web.Request) -> int:
    return request.app[SETTINGS].due_soon_days


async def dashboard(request: web.Request, principal: Principal) -> web.Response:
    today = today_of(request)
    soon = due_soon_days(request)
    async with request.app[SESSIONMAKER]() as session:
        scope = visibility.case_scope(principal)
        counts = await reporting.attention_counts(session, today=today, due_soon_days=soon, scope=scope)
        urgent, _ = await reporting.search_cases(
            session, reporting.CaseFilter(due="open"), today=today, due_soon_days=soon,
            crypto=request.app[CRYPTO], per_page=10, scope=scope,
        )
        failed = await store_notifications.undelivered(session, limit=20)
        visible_ids = set(await session.scalars(
            select(Case.id).where(Case.id.in_({n.case_id for n, _ in failed}), *scope)
        )) if failed and scope else None
        failed = [row for row in failed if visible_ids is None or row[0].case_id in visible_ids]
        handoffs = await store_handoffs.list_handoffs(
            session, scope=visibility.conversation_scope(principal, Handoff.conversation_id))
        led = await store_reception.led_cases(session, scope)
        alerts = alert_entries = None
        overdue_steps = 0
        if principal.can(Permission.EARLY_WARNING) and visibility.sees_all_units(principal):
            alerts = await store_warnings.clusters(session, today, scope)
            alert_entries = await store_warnings.entries_by_cluster(session, [a.key for a in alerts])
            overdue_steps = await store_warnings.count_overdue(session, today)
    return await render(request, "console/dashboard.html", {
        "counts": counts,
        "urgent": [(c, workflow.next_due(c, today, soon)) for c in urgent],
        "failed": failed,
        "handoffs": handoffs,
        "kind_labels": store_notifications.KIND_LABELS,
        "handoff_labels": store_handoffs.HANDOFF_STATUS_LABELS,
        "alerts": alerts,
        "alert_entries": alert_entries or {},
        "overdue_steps": overdue_steps,
        "led": led,
    }, principal=principal)


async def dashboard_redirect(request: web.Request, principal: Principal) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


async def case_list(request: web.Request, principal: Principal) -> web.Response:
    f = reporting.CaseFilter.from_query(request.query)
    today = today_of(request)
    soon = due_soon_days(request)
    async with request.app[SESSIONMAKER]() as session:
        scope = visibility.case_scope(principal)
        cases, total = await reporting.search_cases(
            session, f, today=today, due_soon_days=soon, crypto=request.app[CRYPTO], scope=scope,
        )
        options = await reporting.filter_options(session, scope)
        if f.q:
            # A search can name a person (or their ID number): who searched is recorded, what
            # was searched for only as its kind.
            await store_cases.add_audit(
                session, actor=principal.name, action="case_search", case_id=None,
                detail={"kind": reporting.query_kind(f.q), "results": total},
                now=request.app[CLOCK](),
            )
            await session.commit()
    pages = max(1, -(-total // reporting.PER_PAGE))
    return await render(request, "console/cases.html", {
        "f": f,
        "rows": [(c, workflow.next_due(c, today, soon)) for c in cases],
        "total": total,
        "page": f.page,
        "pages": pages,
        "prev_url": "?" + urlencode(f.query_args(page=f.page - 1)) if f.page > 1 else None,
        "next_url": "?" + urlencode(f.query_args(page=f.page + 1)) if f.page < pages else None,
        "options": options,
        "statuses": CASE_STATUS_LABELS,
        "due_soon_days": soon,
        "group_min": reporting.GROUP_MIN,
        "unknown_place": reporting.UNKNOWN_PLACE,
    }, principal=principal)


def normalize_case_no(raw: str) -> str:
    return raw.strip().upper()


async def case_page(
    request: web.Request,
    principal: Principal,
    case_no: str,
    *,
    revealed: dict[str, str] | None = None,
    error: str | None = None,
    error_action: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    app = request.app
    now = app[CLOCK]()
    today = local_date(now)
    soon = due_soon_days(request)
    async with app[SESSIONMAKER]() as session:
        case = await store_cases.get_case(session, normalize_case_no(case_no))
        if case is None:
            raise web.HTTPNotFound(text=CASE_NOT_FOUND)
        if not visibility.can_see_case(principal, case):
            await refuse(request, session, principal, case)
        await workflow.mark_read(session, case, principal.name, now)
        await store_cases.add_audit(session, actor=principal.name, action="view_case",
                                    case_id=case.id, detail={"remote": request.remote}, now=now)
        await session.commit()
        events = list(await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
        ))
        audit = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.case_id == case.id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(200)
        ))
        notifications = await store_notifications.notifications_of(session, case.id)
        # A linked case the caller may not see is left out (as if it did not exist).
        links = [
            LinkView(item.link, item.case, item.direction)
            for item in await repeats.links_of(session, case)
            if visibility.can_see_case(principal, item.case)
        ]
        materials = await repeats.materials_of(session, case.id)
        rating = await store_ratings.rating_of(session, case.id)
        siblings = await store_cases.cases_by_conversation(session, case.conversation_id)
        others = [c for c in siblings if c.id != case.id and visibility.can_see_case(principal, c)]
        # The conversation (transcript, handoff) only when every case filed from it is visible.
        show_conversation = visibility.can_see_conversation(principal, siblings)
        handoff = await store_handoffs.open_handoff(session, case.conversation_id) if show_conversation else None
    transcript, transcript_error = None, None
    try:
        if show_conversation:
            transcript = await read_transcript(app[TRACKER_ENGINE], case.conversation_id)
        else:
            transcript_error = "该对话还涉及本单位以外或需保密的信访件，对话记录不予显示。"
    except TrackerUnavailable:
        transcript_error = "对话记录库暂时无法读取（Rasa 的对话存储尚未建立或不可用）。"
    return await render(request, "console/case.html", {
        "case": case,
        "revealed": revealed,
        "error": error,
        "error_action": error_action,
        "form": form or {},
        "next_due": workflow.next_due(case, today, soon),
        "deadlines": deadline_rows(CaseSnapshot.of(case), today, soon),
        "transitions": available(CaseSnapshot.of(case), principal),
        "events": events,
        "audit": audit,
        "notifications": notifications,
        "other_cases": others,
        "links": links,
        "materials": materials,
        "rating": rating,
        "rating_labels": RATING_LABELS,
        "link_labels": repeats.LINK_LABELS,
        "origin_labels": repeats.ORIGIN_LABELS,
        "handoff": handoff,
        "transcript": transcript,
        "transcript_error": transcript_error,
        "units": workflow_forms.known_units(),
        "referral_targets": REFERRAL_TARGETS,
        "extension_left": EXTENSION_MAX_DAYS - case.extension_days,
        "delivery_methods": DELIVERY_METHODS,
        "action_labels": ACTION_LABELS,
        "audit_labels": AUDIT_LABELS,
        "kind_labels": store_notifications.KIND_LABELS,
        "notification_labels": store_notifications.DELIVERY_STATUS_LABELS,
        "today": today,
        "statuses": CASE_STATUS_LABELS,
    }, principal=principal, status=status)


async def case_detail(request: web.Request, principal: Principal) -> web.Response:
    return await case_page(request, principal, request.match_info["case_no"])


async def case_reveal(request: web.Request, principal: Principal) -> web.Response:
    """Show the full ID and phone numbers once (this response only), and audit it."""
    app = request.app
    async with app[SESSIONMAKER]() as session:
        case = await store_cases.get_case(session, normalize_case_no(request.match_info["case_no"]))
        if case is None:
            raise web.HTTPNotFound(text=CASE_NOT_FOUND)
        if not visibility.can_see_case(principal, case):
            await refuse(request, session, principal, case)
        numbers = store_cases.reveal_numbers(app[CRYPTO], case)
        await store_cases.add_audit(
            session, actor=principal.name, action="reveal_personal_numbers", case_id=case.id,
            detail={"fields": sorted(numbers), "remote": request.remote, "path": request.path},
            now=app[CLOCK](),
        )
        await session.commit()
    log.info("case %s: personal numbers revealed to %s (console)", case.case_no, principal.name)
    return await case_page(request, principal, case.case_no, revealed=numbers)


def transition_handler(action: str):
    transition = TRANSITIONS[action]

    async def handler(request: web.Request, principal: Principal) -> web.StreamResponse:
        app = request.app
        case_no = normalize_case_no(request.match_info["case_no"])
        form = await form_data(request)
        form.pop("csrf_token", None)
        expected = form.get("expected_status")
        now = app[CLOCK]()
        async with app[SESSIONMAKER]() as session:
            case = await workflow.load_for_update(session, case_no)
            if case is None:
                raise web.HTTPNotFound(text=CASE_NOT_FOUND)
            if not visibility.can_see_case(principal, case):
                await refuse(request, session, principal, case)
            try:
                # A step the case does not allow now is refused before its fields are read.
                snapshot = CaseSnapshot.of(case)
                workflow_check(action, snapshot, principal, expected)
                inputs = workflow_forms.read(action, form, local_date(now), snapshot)
                outcome = await workflow.perform(
                    session, case, action, inputs, actor=principal, now=now,
                    expected_status=expected, remote=request.remote,
                )
            except WorkflowError as exc:
                await session.rollback()
                return await case_page(
                    request, principal, case_no, error=exc.message, error_action=action,
                    form=form, status=409 if exc.conflict else 422,
                )
            except PermissionError:
                raise ApiError(403, "forbidden") from None
            await session.commit()
            notification_id = outcome.notification.id if outcome.notification else None
            invitation_id = outcome.invitation.id if outcome.invitation else None
        message = DONE_MESSAGES[action]
        if notification_id is not None:
            result = await app[NOTIFIER].deliver_soon(notification_id)
            message += NOTIFY_OUTCOME.get(result or "", "")
        if invitation_id is not None:
            # The invitation to rate follows the step's own message (the retry loop otherwise).
            await app[NOTIFIER].deliver_soon(invitation_id)
            message += "已邀请信访人评价。"
        raise redirect(request, f"/console/cases/{case_no}", message)

    handler.__name__ = f"case_{action}"
    handler.__doc__ = f"Workflow step: {transition.label} ({transition.article})."
    return handler


async def notification_resend(request: web.Request, principal: Principal) -> web.StreamResponse:
    app = request.app
    try:
        notification_id = int(request.match_info["notification_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with app[SESSIONMAKER]() as session:
        notification = await store_notifications.get_notification(session, notification_id)
        if notification is None:
            raise web.HTTPNotFound(text="未找到该通知。")
        case = await session.get(Case, notification.case_id)
        if not visibility.can_see_case(principal, case):
            await refuse(request, session, principal, case)
        queued = await store_notifications.request_resend(session, notification, app[CLOCK]())
        if queued:
            await store_cases.add_audit(session, actor=principal.name, action="notification_resend",
                                        case_id=case.id, detail={"notification": notification_id},
                                        now=app[CLOCK]())
        await session.commit()
    if not queued:
        raise redirect(request, f"/console/cases/{case.case_no}", "该通知已送达，无需重新发送。")
    result = await app[NOTIFIER].deliver_soon(notification_id)
    raise redirect(request, f"/console/cases/{case.case_no}",
                   NOTIFY_OUTCOME.get(result or "", "已重新发送。"))


@dataclass(frozen=True)
class LinkView:
    link: Any
    case: Case
    direction: str


async def case_link(request: web.Request, principal: Principal) -> web.StreamResponse:
    """Link this case to an earlier one (重复信访 or 合并办理); audited."""
    return await _change_link(request, principal, unlink=False)


async def case_unlink(request: web.Request, principal: Principal) -> web.StreamResponse:
    """Remove the link between this case and another; audited."""
    return await _change_link(request, principal, unlink=True)


async def _change_link(request: web.Request, principal: Principal, *, unlink: bool) -> web.StreamResponse:
    app = request.app
    case_no = normalize_case_no(request.match_info["case_no"])
    form = await form_data(request)
    form.pop("csrf_token", None)
    other_no = normalize_case_no(form.get("other" if unlink else "earlier", ""))
    kind = form.get("kind", repeats.LINK_REPEAT)
    now = app[CLOCK]()
    async with app[SESSIONMAKER]() as session:
        case = await store_cases.get_case(session, case_no)
        if case is None:
            raise web.HTTPNotFound(text=CASE_NOT_FOUND)
        if not visibility.can_see_case(principal, case):
            await refuse(request, session, principal, case)
        other = await store_cases.get_case(session, other_no) if other_no else None
        if other is None or not visibility.can_see_case(principal, other):
            if other is not None:
                await visibility.record_refusal(session, principal, route=f"{request.method} {request.path}",
                                                case=other, now=now)
                await session.commit()
            return await case_page(request, principal, case_no, error=f"未找到信访件 {other_no or '（未填写）'}。",
                                   error_action="link", form=form, status=422)
        try:
            if unlink:
                if not await repeats.unlink(session, case, other, actor=principal.name, now=now):
                    raise repeats.LinkError(f"{case.case_no} 与 {other.case_no} 没有关联。")
            else:
                await repeats.link(session, case, other, kind=kind, origin=principal.name,
                                   actor=principal.name, now=now)
        except repeats.LinkError as exc:
            await session.rollback()
            return await case_page(request, principal, case_no, error=exc.message, error_action="link",
                                   form=form, status=422)
        await store_cases.add_audit(
            session, actor=principal.name, action=repeats.AUDIT_UNLINK if unlink else repeats.AUDIT_LINK,
            case_id=case.id, detail={"other": other.case_no, **({} if unlink else {"kind": kind})}, now=now,
        )
        await session.commit()
    message = f"已取消与 {other.case_no} 的关联。" if unlink else f"已关联 {other.case_no}（{repeats.LINK_LABELS[kind]}）。"
    raise redirect(request, f"/console/cases/{case_no}", message)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console", dashboard_redirect, Permission.CONSOLE)
    add(app, "GET", "/console/", dashboard, Permission.CONSOLE)
    add(app, "GET", "/console/cases", case_list, Permission.CASE_READ)
    add(app, "GET", "/console/cases/{case_no}", case_detail, Permission.CASE_READ)
    add(app, "POST", "/console/cases/{case_no}/reveal", case_reveal, Permission.CASE_REVEAL)
    for name, transition in TRANSITIONS.items():
        path = f"/console/cases/{{case_no}}/{name.replace('_', '-')}"
        add(app, "POST", path, transition_handler(name), transition.permission)
    add(app, "POST", "/console/notifications/{notification_id}/resend", notification_resend,
        Permission.CASE_WORK)
    add(app, "POST", "/console/cases/{case_no}/link", case_link, Permission.CASE_WORK)
    add(app, "POST", "/console/cases/{case_no}/unlink", case_unlink, Permission.CASE_WORK)

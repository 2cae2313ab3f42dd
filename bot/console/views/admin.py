"""Accounts (administrators) and the audit log (supervisors and administrators)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import func, select

from bot.console.render import form_data, redirect, render
from bot.console.views.cases import AUDIT_LABELS
from bot.store import users as store_users
from bot.store.cases import add_audit
from bot.store.models import AuditEntry, Case
from bot.store.reporting import day_start
from bot.rules.roles import Permission, Principal, ROLE_LABELS, ROLE_PERMISSIONS
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS

AUDIT_PER_PAGE = 100
MORE_AUDIT_LABELS = {
    **AUDIT_LABELS,
    "login": "登录",
    "logout": "退出登录",
    "password_change": "修改本人密码",
    "user_create": "创建账户",
    "user_role": "修改角色",
    "user_unit": "修改所属单位",
    "user_password": "重置密码",
    "user_active": "启用/停用账户",
    "user_unlock": "解除登录锁定",
    "nlu_label": "标注对话意图",
    "nlu_unlabel": "取消意图标注",
    "nlu_export": "导出训练数据",
    "stats_export": "导出统计表",
    "monthly_report_export": "生成信访形势分析月报",
    "case_rated": "信访人评价办理结果",
    "handoff_take": "接入人工服务",
    "handoff_reply": "人工回复信访人",
    "handoff_release": "交还智能助手",
    "handoff_dismiss": "结束人工服务请求",
}


async def users_page(request: web.Request, principal: Principal, *, error: str | None = None,
                     form: dict[str, str] | None = None, status: int = 200) -> web.Response:
    settings = request.app[SETTINGS]
    now = request.app[CLOCK]()
    async with request.app[SESSIONMAKER]() as session:
        users = await store_users.list_users(session)
        locks = {
            u.id: await store_users.lock_state(
                session, u.username, now=now, max_failures=settings.login_max_failures,
                window=timedelta(minutes=settings.login_lockout_minutes),
            )
            for u in users
        }
    return await render(request, "console/users.html", {
        "users": users,
        "locks": locks,
        "roles": ROLE_LABELS,
        "units": store_users.unit_choices(),
        "agency": store_users.agency_unit(),
        "permissions": {role: sorted(p.value for p in perms) for role, perms in ROLE_PERMISSIONS.items()},
        "error": error,
        "form": form or {},
        "min_length": store_users.PASSWORD_MIN_LENGTH,
    }, principal=principal, status=status)


async def users_list(request: web.Request, principal: Principal) -> web.Response:
    return await users_page(request, principal)


async def user_create(request: web.Request, principal: Principal) -> web.StreamResponse:
    form = await form_data(request)
    now = request.app[CLOCK]()
    async with request.app[SESSIONMAKER]() as session:
        try:
            user = await store_users.create_user(
                session, username=form.get("username", ""), password=form.get("password", ""),
                role=form.get("role", ""), display_name=form.get("display_name", ""), now=now,
                unit=form.get("unit") or None,
            )
        except store_users.AccountError as exc:
            await session.rollback()
            form.pop("password", None)
            return await users_page(request, principal, error=exc.message, form=form, status=422)
        await add_audit(session, actor=principal.name, action="user_create", case_id=None,
                        detail={"user": user.username, "role": user.role, "unit": user.unit}, now=now)
        await session.commit()
    raise redirect(request, "/console/users", f"已创建账户 {user.username}。")


def _user_action(kind: str):
    async def handler(request: web.Request, principal: Principal) -> web.StreamResponse:
        form = await form_data(request)
        now = request.app[CLOCK]()
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise web.HTTPNotFound() from None
        async with request.app[SESSIONMAKER]() as session:
            user = await store_users.get_user(session, user_id)
            if user is None:
                raise web.HTTPNotFound(text="未找到该账户。")
            detail: dict[str, Any] = {"user": user.username}
            try:
                if kind == "role":
                    await store_users.set_role(session, user, form.get("role", ""), now)
                    detail["role"] = user.role
                    message = f"已将 {user.username} 的角色改为{ROLE_LABELS[user.role]}。"
                elif kind == "unit":
                    await store_users.set_unit(session, user, form.get("unit", ""), now)
                    detail["unit"] = user.unit
                    message = f"已将 {user.username} 的所属单位改为{user.unit}，其登录已全部退出。"
                elif kind == "password":
                    await store_users.set_password(session, user, form.get("password", ""), now)
                    message = f"已重置 {user.username} 的密码，其登录已全部退出。"
                elif kind == "active":
                    active = form.get("active") == "1"
                    if not active and user.id == principal.user_id:
                        raise store_users.AccountError("不能停用自己的账户。")
                    await store_users.set_active(session, user, active, now)
                    detail["active"] = active
                    message = f"已{'启用' if active else '停用'}账户 {user.username}。"
                else:  # unlock
                    await store_users.record_attempt(session, user.username, store_users.OUTCOME_UNLOCK,
                                                     remote=request.remote, now=now)
                    message = f"已解除 {user.username} 的登录锁定。"
            except store_users.AccountError as exc:
                await session.rollback()
                return await users_page(request, principal, error=exc.message, status=422)
            await add_audit(session, actor=principal.name, action=f"user_{kind}", case_id=None,
                            detail=detail, now=now)
            await session.commit()
        raise redirect(request, "/console/users", message)

    handler.__name__ = f"user_{kind}"
    return handler


async def audit_page(request: web.Request, principal: Principal) -> web.Response:
    query = request.query
    actor = (query.get("actor") or "").strip()[:64]
    action = (query.get("action") or "").strip()[:64]
    case_no = (query.get("case_no") or "").strip().upper()[:16]

    def day(key: str) -> date | None:
        try:
            return date.fromisoformat(query.get(key, "")) if query.get(key) else None
        except ValueError:
            return None

    start, end = day("from"), day("to")
    try:
        page = max(1, int(query.get("page") or 1))
    except ValueError:
        page = 1
    conditions = []
    if actor:
        conditions.append(AuditEntry.actor == actor.lower())
    if action:
        conditions.append(AuditEntry.action == action)
    if case_no:
        conditions.append(Case.case_no == case_no)
    if start:
        conditions.append(AuditEntry.at >= day_start(start))
    if end:
        conditions.append(AuditEntry.at < day_start(end + timedelta(days=1)))
    async with request.app[SESSIONMAKER]() as session:
        base = select(AuditEntry, Case.case_no).outerjoin(Case, Case.id == AuditEntry.case_id)
        total = int(await session.scalar(
            select(func.count()).select_from(AuditEntry)
            .outerjoin(Case, Case.id == AuditEntry.case_id).where(*conditions)
        ) or 0)
        rows = list(await session.execute(
            base.where(*conditions).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((page - 1) * AUDIT_PER_PAGE).limit(AUDIT_PER_PAGE)
        ))
    pages = max(1, -(-total // AUDIT_PER_PAGE))
    args = {"actor": actor, "action": action, "case_no": case_no,
            "from": start.isoformat() if start else "", "to": end.isoformat() if end else ""}

    def page_url(n: int) -> str:
        return "?" + urlencode({k: v for k, v in {**args, "page": str(n)}.items() if v})

    return await render(request, "console/audit.html", {
        "rows": rows, "total": total, "page": page, "pages": pages,
        "prev_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
        "args": args, "labels": MORE_AUDIT_LABELS,
    }, principal=principal)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/users", users_list, Permission.USER_MANAGE)
    add(app, "POST", "/console/users", user_create, Permission.USER_MANAGE)
    for kind in ("role", "unit", "password", "active", "unlock"):
        add(app, "POST", f"/console/users/{{user_id}}/{kind}", _user_action(kind), Permission.USER_MANAGE)
    add(app, "GET", "/console/audit", audit_page, Permission.AUDIT_READ)

"""Login, logout and the staff member's own password."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from aiohttp import web

from bot.console.keys import STAFF
from bot.console.render import form_data, redirect, render
from bot.console.security import (
    LOGIN_CSRF_COOKIE,
    LOGIN_PATH,
    add_security_headers,
    clear_session_cookie,
    login_csrf,
    login_csrf_ok,
    safe_next,
    session_cookie_name,
    set_session_cookie,
)
from bot.store import users as store_users
from bot.store.cases import add_audit
from bot.store.ratelimit import Limit
from bot.rules.roles import Principal
from bot.web.auth import authenticate
from bot.web.client import client_address
from bot.web.keys import CLOCK, LIMITER, SESSIONMAKER, SETTINGS

log = logging.getLogger(__name__)

BAD_LOGIN = "用户名或密码不正确。"


def locked_message(minutes: int) -> str:
    return f"登录失败次数过多，该账户已临时锁定。请{minutes}分钟后再试，或联系系统管理员解锁。"


def address_limited_message(minutes: int) -> str:
    return f"来自您所在网络地址的登录失败次数过多，请{minutes}分钟后再试。"


def password_change_limited_message(minutes: int) -> str:
    return f"当前密码输入错误次数过多，请{minutes}分钟后再试。"


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def login_ip_limit(settings) -> Limit:
    """Failed logins from one client address, whatever the user names."""
    return Limit("login-ip", settings.login_max_failures_per_ip, settings.login_lockout_minutes * 60)


def password_change_limit(settings) -> Limit:
    """Wrong current passwords on one account's password-change form."""
    return Limit("password-change", settings.password_change_max_failures,
                 settings.login_lockout_minutes * 60)


async def ensure_first_admin(app: web.Application) -> bool:
    """Create the first administrator from ADMIN_USERNAME/ADMIN_PASSWORD if there is no
    account at all. Returns whether one was created."""
    settings = app[SETTINGS]
    async with app[SESSIONMAKER]() as session:
        if await store_users.count_users(session) > 0:
            return False
        try:
            await store_users.create_user(
                session,
                username=settings.admin_username,
                password=settings.admin_password,
                role="admin",
                display_name="系统管理员",
                now=app[CLOCK](),
            )
            await session.commit()
        except store_users.AccountError as exc:
            log.error("first administrator not created: %s", exc.message)
            return False
        except Exception:  # another worker created it at the same moment
            await session.rollback()
            return False
    log.info("first administrator %r created from ADMIN_USERNAME/ADMIN_PASSWORD",
             store_users.normalize_username(settings.admin_username))
    return True


async def bootstrap_first_admin(app: web.Application) -> None:
    """Start-up hook of ``python -m bot serve``: the first administrator, if none exists."""
    try:
        await ensure_first_admin(app)
    except Exception as exc:  # database not reachable or not migrated yet: login retries it
        log.warning("first administrator not checked at start-up (%s)", type(exc).__name__)


async def _login_page(request: web.Request, *, error: str | None = None, username: str = "",
                      status: int = 200, next_: str | None = None) -> web.Response:
    response = web.Response(status=status, content_type="text/html", charset="utf-8")
    token = login_csrf(request, response)
    return await render(request, "console/login.html", {
        "error": error,
        "username": username,
        "next": safe_next(next_ or request.query.get("next")),
        "login_csrf": token,
    }, response=response)


async def login_page(request: web.Request) -> web.StreamResponse:
    if await authenticate(request) is not None:
        raise redirect(request, safe_next(request.query.get("next")))
    return await _login_page(request)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await form_data(request)
    username = (form.get("username") or "").strip()[:64]
    password = form.get("password") or ""
    if not login_csrf_ok(request, form.get("csrf_token", "")):
        return await _login_page(request, error="页面已过期，请重新登录。", username=username,
                                 status=403, next_=form.get("next"))
    if not username or not password:
        return await _login_page(request, error="请输入用户名和密码。", username=username,
                                 status=400, next_=form.get("next"))
    app = request.app
    settings = app[SETTINGS]
    now = app[CLOCK]()
    window = timedelta(minutes=settings.login_lockout_minutes)
    remote = client_address(request)
    await ensure_first_admin(app)
    # Per client address: counted before the password is checked, given back on success.
    limiter, ip_limit = app[LIMITER], login_ip_limit(settings)
    ip_state = await limiter.hit(ip_limit, remote)
    if ip_state.count > ip_limit.max_hits:
        log.info("login refused: too many failures from %s", remote)
        return await _login_page(request, error=address_limited_message(_minutes(ip_state.reset_in)),
                                 username=username, status=429, next_=form.get("next"))
    # Per user name: the check and the count are one serialised transaction, committed before
    # the (slow) password check, so parallel guesses cannot all get past the lock-out.
    async with app[SESSIONMAKER]() as session:
        attempt, state = await store_users.reserve_attempt(
            session, username, remote=remote, now=now,
            max_failures=settings.login_max_failures, window=window,
        )
        attempt_id = attempt.id if attempt is not None else None
        await session.commit()
    if attempt_id is None:
        minutes = _minutes((state.unlocks_at - now).total_seconds())
        log.info("login refused: account locked (from %s)", remote)
        return await _login_page(request, error=locked_message(minutes), username=username,
                                 status=429, next_=form.get("next"))
    async with app[SESSIONMAKER]() as session:
        user = await store_users.get_user_by_name(session, username)
        usable = user is not None and user.active
        ok = await store_users.verify_password_async(user.password_hash if usable else None, password)
        if not ok:
            # The user name is not logged: people sometimes type their password into it.
            log.info("login failed (from %s)", remote)
            if state.locked:
                return await _login_page(request, error=locked_message(settings.login_lockout_minutes),
                                         username=username, status=429, next_=form.get("next"))
            return await _login_page(request, error=BAD_LOGIN, username=username, status=401,
                                     next_=form.get("next"))
        await limiter.release(ip_limit, remote)
        if store_users.needs_rehash(user.password_hash):
            user.password_hash = await store_users.hash_password_async(password)
        user.last_login_at = now
        await store_users.mark_success(session, attempt_id)
        await store_users.prune_sessions(session, now, timedelta(minutes=settings.console_session_idle_minutes))
        token, _ = await store_users.open_session(
            session,
            user,
            secret=settings.session_secret,
            now=now,
            max_age=timedelta(hours=settings.console_session_max_hours),
            remote=remote,
            user_agent=request.headers.get("User-Agent"),
        )
        await add_audit(session, actor=user.username, action="login", case_id=None,
                        detail={"remote": remote}, now=now)
        await session.commit()
    response = redirect(request, safe_next(form.get("next")))
    # A fresh session token at every login (no session fixation).
    set_session_cookie(response, request, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    raise response


async def logout(request: web.Request, principal: Principal) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    token = request.cookies.get(session_cookie_name(request), "")
    async with request.app[SESSIONMAKER]() as session:
        await store_users.close_session(session, secret=settings.session_secret, token=token)
        await add_audit(session, actor=principal.name, action="logout", case_id=None,
                        detail=None, now=request.app[CLOCK]())
        await session.commit()
    response = web.HTTPSeeOther(LOGIN_PATH)
    clear_session_cookie(response, request)
    add_security_headers(response)
    raise response


async def account_page(request: web.Request, principal: Principal, *, error: str | None = None,
                       status: int = 200) -> web.Response:
    return await render(request, "console/account.html", {"error": error},
                        principal=principal, status=status)


async def account_password(request: web.Request, principal: Principal) -> web.StreamResponse:
    form = await form_data(request)
    current, new, again = form.get("current", ""), form.get("new", ""), form.get("again", "")
    now = request.app[CLOCK]()
    settings = request.app[SETTINGS]
    # Counted before the current password is checked, given back when it was right: a stolen
    # session cannot guess the password through this form faster than through the login.
    limiter, limit = request.app[LIMITER], password_change_limit(settings)
    key = f"user:{principal.user_id}"
    counted = await limiter.hit(limit, key)
    if counted.count > limit.max_hits:
        log.info("password change refused: too many wrong current passwords")
        return await account_page(request, principal,
                                  error=password_change_limited_message(_minutes(counted.reset_in)),
                                  status=429)
    async with request.app[SESSIONMAKER]() as session:
        user = await store_users.get_user(session, principal.user_id)
        if not await store_users.verify_password_async(user.password_hash, current):
            return await account_page(request, principal, error="当前密码不正确。", status=422)
        await limiter.release(limit, key)
        if new != again:
            return await account_page(request, principal, error="两次输入的新密码不一致。", status=422)
        try:
            await store_users.set_password(session, user, new, now)
        except store_users.AccountError as exc:
            await session.rollback()
            return await account_page(request, principal, error=exc.message, status=422)
        # Changing the password ended every session; this browser gets a new one.
        token, _ = await store_users.open_session(
            session, user, secret=settings.session_secret, now=now,
            max_age=timedelta(hours=settings.console_session_max_hours),
            remote=client_address(request), user_agent=request.headers.get("User-Agent"),
        )
        await add_audit(session, actor=principal.name, action="password_change", case_id=None,
                        detail=None, now=now)
        await session.commit()
    request.pop(STAFF, None)
    response = redirect(request, "/console/account", "密码已修改，其他设备上的登录已退出。")
    set_session_cookie(response, request, token)
    raise response

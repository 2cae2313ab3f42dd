"""The staff console of the back office (server-rendered, Chinese UI).

``setup_console(app)`` adds everything to the application built by ``bot.app.init_app``:
the session authenticator (after the service token), the console routes with their
permissions, the static files, the console's error
pages and security headers, and the resources it needs (read-only engine on Rasa's tracker
store, HTTP client of Rasa, notification delivery with retries).

The first administrator is created from ADMIN_USERNAME/ADMIN_PASSWORD when ``python -m bot
serve`` starts with no account at all (``bootstrap_first_admin``), again at a login attempt
while there is none, and on demand by ``python -m bot create-admin``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.console.keys import JINJA, RASA, TRACKER_ENGINE
from bot.console.notifier import NOTIFIER, Notifier
from bot.console.rasa import RasaClient
from bot.console.render import make_environment, static_url
from bot.console.security import (
    add_security_headers,
    is_console,
    login_redirect,
    staff_session_authenticator,
)
from bot.console.views import admin, auth, cases, conversations, handoffs, reception, stats, warnings
from bot.store.transcripts import make_tracker_engine
from bot.rules.roles import Permission
from bot.web.errors import ApiError, Handler
from bot.web.keys import AUTHENTICATORS, CLOCK, SESSIONMAKER, SETTINGS
from bot.web.routes import add

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "console"
ERROR_TITLES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持该操作",
    409: "操作冲突",
    413: "提交内容过长",
    500: "系统错误",
    502: "外部服务不可用",
}


async def error_page(request: web.Request, status: int, message: str | None = None) -> web.Response:
    template = request.app[JINJA].get_template("console/error.html")
    response = web.Response(
        status=status,
        content_type="text/html",
        charset="utf-8",
        text=template.render(
            status=status,
            title=ERROR_TITLES.get(status, "出错了"),
            message=message or "",
            principal=None, user=None, csrf_token="", flash=None, waiting_handoffs=0,
            path=request.path, static=lambda name: static_url(request.app, name),
        ),
    )
    add_security_headers(response)
    return response


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console pages: a login redirect instead of 401, HTML error pages, security headers."""
    if not is_console(request):
        return await handler(request)
    try:
        response = await handler(request)
    except ApiError as exc:
        if exc.status == 401:
            redirect = login_redirect(request)
            add_security_headers(redirect)
            raise redirect from None
        return await error_page(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            add_security_headers(exc)
            raise
        text = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
        return await error_page(request, exc.status, text)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await error_page(request, 500, "系统暂时无法处理该请求，请稍后再试。")
    add_security_headers(response)
    return response


async def console_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    tracker = make_tracker_engine(settings.tracker_db_url, settings.tracker_db_schema,
                                  settings.tracker_encryption_keys)
    http = aiohttp.ClientSession()
    app[TRACKER_ENGINE] = tracker
    app[RASA] = RasaClient(settings.rasa_url, settings.rasa_token, http)
    notifier = Notifier(app)
    app[NOTIFIER] = notifier
    notifier.start()
    sweeper = asyncio.create_task(idle_handoff_sweep(app), name="idle-handoff-sweep")
    reminders = asyncio.create_task(reception_reminder_sweep(app), name="reception-reminders")
    try:
        yield
    finally:
        for task in (sweeper, reminders):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await notifier.close()
        await http.close()
        await tracker.dispose()


IDLE_SWEEP_SECONDS = 60


async def idle_handoff_sweep(app: web.Application, every: float = IDLE_SWEEP_SECONDS) -> None:
    """Return idle taken conversations to the assistant in the background, so a citizen whose
    officer went quiet gets the assistant back even when nobody opens the console."""
    while True:
        await asyncio.sleep(every)
        try:
            returned = await handoffs.return_idle_conversations(app)
        except Exception as exc:  # the database or Rasa may be down for a while
            log.warning("idle handoff sweep failed: %s", type(exc).__name__)
            continue
        if returned:
            log.info("returned %d idle conversation(s) to the assistant", returned)


REMINDER_SWEEP_SECONDS = 600


async def reception_reminder_sweep(app: web.Application, every: float = REMINDER_SWEEP_SECONDS) -> None:
    """Queue the reminders of tomorrow's reception-day bookings (once each); the notifier's
    retry loop delivers them into the citizens' conversations."""
    while True:
        await asyncio.sleep(every)
        try:
            now = app[CLOCK]()
            async with app[SESSIONMAKER]() as session:
                queued = await reception.queue_reminders_for(session, now)
                await session.commit()
        except Exception as exc:  # the database may be down for a while
            log.warning("reception reminder sweep failed: %s", type(exc).__name__)
            continue
        if queued:
            log.info("queued %d reception reminder(s)", queued)


def setup_console(app: web.Application) -> None:
    app[JINJA] = make_environment()
    app[AUTHENTICATORS].append(staff_session_authenticator)
    add(app, "GET", "/console/login", auth.login_page, None)
    add(app, "POST", "/console/login", auth.login_submit, None)
    add(app, "POST", "/console/logout", auth.logout, Permission.CONSOLE)
    add(app, "GET", "/console/account", auth.account_page, Permission.CONSOLE)
    add(app, "POST", "/console/account/password", auth.account_password, Permission.CONSOLE)
    for module in (cases, conversations, handoffs, stats, warnings, reception, admin):
        module.setup(app, add)
    app.router.add_static("/static/console/", STATIC_DIR, name="console_static")
    app.middlewares.append(console_middleware)
    app.cleanup_ctx.append(console_ctx)

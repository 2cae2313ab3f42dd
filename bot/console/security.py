"""Console sessions, CSRF protection, security headers and the console's error pages.

- Session cookie: a random token (``secrets.token_urlsafe(32)``), HttpOnly, SameSite=Strict,
  Path=/, Secure in production (and then named with the ``__Host-`` prefix). The database
  holds only an HMAC of it. Sessions end after ``CONSOLE_SESSION_IDLE_MINUTES`` without a
  request and after ``CONSOLE_SESSION_MAX_HOURS`` in any case, and at logout.
- CSRF: every session has its own random token; every state-changing request authenticated
  by the session cookie must carry it (form field ``csrf_token`` or header ``X-CSRF-Token``)
  and, when the browser sends an Origin header, come from this host. The login form, which
  has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from bot.console.keys import STAFF
from bot.store import users as store_users
from bot.rules.roles import Principal, ROLE_PERMISSIONS
from bot.web.errors import ApiError
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_CSRF_COOKIE = "xf_login_csrf"
FLASH_COOKIE = "xf_flash"
CONSOLE_PREFIX = "/console"
LOGIN_PATH = "/console/login"
# last_seen_at is written at most this often (not on every request).
TOUCH_INTERVAL = timedelta(seconds=60)

CSRF_MESSAGE = "页面已过期或请求来源无法确认，请刷新页面后重试。"


def session_cookie_name(request: web.Request) -> str:
    return "__Host-xf_session" if request.app[SETTINGS].is_production else "xf_session"


def _cookie_options(request: web.Request, *, path: str = "/") -> dict:
    return {
        "httponly": True,
        "samesite": "Strict",
        "secure": request.app[SETTINGS].is_production,
        "path": path,
    }


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(
        session_cookie_name(request),
        token,
        max_age=settings.console_session_max_hours * 3600,
        **_cookie_options(request),
    )


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    # A __Host- cookie is only replaced by one with the same attributes (Secure, Path=/).
    response.del_cookie(session_cookie_name(request), path="/", secure=request.app[SETTINGS].is_production,
                        httponly=True, samesite="Strict")


# --- flash messages (one-time notices after a redirect) ------------------------------------


def flash(response: web.StreamResponse, request: web.Request, message: str) -> None:
    response.set_cookie(FLASH_COOKIE, quote(message[:300]), max_age=60,
                        **_cookie_options(request, path=CONSOLE_PREFIX))


def pop_flash(request: web.Request, response: web.StreamResponse) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    response.del_cookie(FLASH_COOKIE, path=CONSOLE_PREFIX)
    return unquote(raw)[:300]


# --- the session authenticator -------------------------------------------------------------


async def _submitted_csrf(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def same_origin(request: web.Request) -> bool:
    """False when the browser says the request came from another site."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


async def check_csrf(request: web.Request, expected: str) -> None:
    if not same_origin(request):
        raise ApiError(403, "csrf_failed", CSRF_MESSAGE)
    given = await _submitted_csrf(request)
    if not given or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        log.info("CSRF check failed: %s %s", request.method, request.path)
        raise ApiError(403, "csrf_failed", CSRF_MESSAGE)


async def staff_session_authenticator(request: web.Request) -> Principal | None:
    """The member of staff whose session cookie came with the request, or None.

    A state-changing request must also pass the CSRF check (403 otherwise).
    """
    token = request.cookies.get(session_cookie_name(request))
    if not token or len(token) > 200:
        return None
    settings = request.app[SETTINGS]
    now = request.app[CLOCK]()
    idle = timedelta(minutes=settings.console_session_idle_minutes)
    async with request.app[SESSIONMAKER]() as session:
        found = await store_users.find_session(
            session, secret=settings.session_secret, token=token, now=now, idle=idle
        )
        if found is None:
            return None
        staff_session, user = found
        if now - staff_session.last_seen_at >= TOUCH_INTERVAL:
            staff_session.last_seen_at = now
            await session.commit()
    request[STAFF] = (staff_session, user)
    if request.method not in SAFE_METHODS:
        await check_csrf(request, staff_session.csrf_token)
    return Principal(
        kind="staff",
        name=user.username,
        permissions=ROLE_PERMISSIONS.get(user.role, frozenset()),
        role=user.role,
        user_id=user.id,
        unit=store_users.scope_unit(user),
    )


def csrf_token_of(request: web.Request) -> str:
    staff = request.get(STAFF)
    return staff[0].csrf_token if staff else ""


# --- login CSRF (double-submit cookie: there is no session yet) ---------------------------


def login_csrf(request: web.Request, response: web.StreamResponse) -> str:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if len(token) < 20 or len(token) > 100:
        token = secrets.token_urlsafe(24)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600,
                        **_cookie_options(request, path=LOGIN_PATH))
    return token


def login_csrf_ok(request: web.Request, submitted: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    return bool(cookie) and bool(submitted) and same_origin(request) and hmac.compare_digest(
        cookie.encode("utf-8"), submitted.encode("utf-8")
    )


# --- headers and error pages ---------------------------------------------------------------

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def is_console(request: web.Request) -> bool:
    return request.path == CONSOLE_PREFIX or request.path.startswith(CONSOLE_PREFIX + "/")


def add_security_headers(response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    # Pages carry personal data: never kept by the browser or a proxy.
    headers.setdefault("Cache-Control", "no-store")


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    target = request.path_qs if request.method == "GET" else ""
    location = LOGIN_PATH + (f"?next={quote(target, safe='')}" if target else "")
    return web.HTTPSeeOther(location)


def safe_next(target: str | None) -> str:
    """Only a path of this console may be the destination after login."""
    if not target:
        return "/console/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/console") or "\\" in target:
        return "/console/"
    return target

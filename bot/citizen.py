"""The citizen pages of the back office: the chat page at ``/`` and the personal-information
statement (个人信息处理说明) at ``/privacy``.

The chat page talks to the Rasa server's socket.io channel (``connectors/webchat.py``) at
``CHAT_SOCKET_URL``; its script (``bot/static/chat/chat.js``) and the socket.io client
(npm ``socket.io-client``, installed under ``frontend/``) are served from here, so the page
loads nothing from any other host. Both pages are filled from the jurisdiction configuration
(agency, hotline, reception place and hours, retention period), the same file the assistant's
own notice uses. A Content-Security-Policy allows scripts, styles and images from this origin
only and connections only to this origin and the socket.io server.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from bot.rules.jurisdiction import load_jurisdiction
from bot.settings import Settings
from bot.web.keys import SETTINGS
from bot.web.vendor import NODE_MODULES

log = logging.getLogger(__name__)

BOT_DIR = Path(__file__).resolve().parent
TEMPLATES = BOT_DIR / "templates"
STATIC_DIR = BOT_DIR / "static" / "chat"
SOCKET_IO_DIR = NODE_MODULES / "socket.io-client" / "dist"
SOCKET_IO_SCRIPT = "socket.io.min.js"

STATIC_PREFIX = "/static/chat/"
VENDOR_PREFIX = "/static/chat/vendor/socket.io/"
# What the chat page keeps in the browser (sessionStorage: gone when the tab is closed).
STORAGE_KEY = "xinfang-chat"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=16)
def _version(path: Path) -> str:
    """A short content hash, appended to static URLs so a changed file is fetched again."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def asset_url(name: str) -> str:
    return f"{STATIC_PREFIX}{name}?v={_version(STATIC_DIR / name)}"


def socket_io_url() -> str:
    return f"{VENDOR_PREFIX}{SOCKET_IO_SCRIPT}?v={_version(SOCKET_IO_DIR / SOCKET_IO_SCRIPT)}"


def socket_origins(settings: Settings) -> tuple[str, str]:
    """The socket.io server's origin and its websocket form (for connect-src)."""
    parts = urlsplit(settings.chat_socket_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws_scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    http_origin, ws_origin = socket_origins(settings)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {http_origin} {ws_origin}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def agency_fields() -> dict[str, str]:
    return load_jurisdiction().public_facts()


def _page(request: web.Request, template: str, **values: object) -> web.Response:
    settings = request.app[SETTINGS]
    html = _environment().get_template(template).render(
        **agency_fields(), asset_url=asset_url, **values
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = content_security_policy(settings)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return response


async def chat_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    config = {
        "socketUrl": settings.chat_socket_url,
        "socketPath": settings.chat_socket_path,
        "storageKey": STORAGE_KEY,
        "initialPayload": "/greet",
    }
    return _page(request, "citizen/index.html", chat_config=config, socket_io_url=socket_io_url())


async def privacy_page(request: web.Request) -> web.Response:
    return _page(request, "citizen/privacy.html")


def setup_citizen_routes(app: web.Application) -> None:
    """``/`` (chat page), ``/privacy`` and their static files."""
    app.router.add_get("/", chat_page, name="citizen_chat")
    app.router.add_get("/privacy", privacy_page, name="citizen_privacy")
    # The longer prefix first: a static route answers 404 rather than passing a path on.
    if SOCKET_IO_DIR.is_dir():
        app.router.add_static(VENDOR_PREFIX, SOCKET_IO_DIR, name="citizen_socket_io")
    else:
        log.warning("socket.io client missing at %s: run `make setup`", SOCKET_IO_DIR)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, name="citizen_static")

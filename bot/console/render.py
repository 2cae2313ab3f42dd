"""Rendering of console pages (Jinja2, autoescaped) and small helpers shared by the views."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.console.keys import JINJA, STAFF
from bot.console.refs import conversation_ref, conversation_tag, conversation_url
from bot.console.security import add_security_headers, csrf_token_of, flash, pop_flash
from bot.rules.cn_dates import cn_date
from bot.rules.deadlines import TZ, calendar_gaps, local_date
from bot.rules.documents import id_type_label
from bot.rules.fields import REVIEW_STAGES
from bot.rules.fields import label as field_label
from bot.rules.masking import mask_numbers_in_text
from bot.rules.phone import CONTACT_TYPES
from bot.rules.roles import ROLE_LABELS, Permission, Principal
from bot.rules.statuses import CASE_STATUS_LABELS
from bot.store import handoffs as store_handoffs
from bot.store import visibility
from bot.store.models import Handoff
from bot.store.reporting import channel_label
from bot.web.keys import CLOCK, SESSIONMAKER

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static" / "console"



def attachment(body: bytes, content_type: str, filename: str,
               charset: str | None = "utf-8") -> web.Response:
    """A download (CSV, YAML, Word) that no cache keeps and no browser sniffs into something
    else; ``charset`` None for a binary file."""
    return web.Response(
        body=body,
        content_type=content_type,
        charset=charset,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


mask_numbers = mask_numbers_in_text


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(TZ).strftime(fmt)




def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        dt=local_dt,
        cn_date=cn_date,
        id_type_label=id_type_label,
        contact_label=lambda k: CONTACT_TYPES.get(k, k),
        review_stage_label=lambda s: REVIEW_STAGES.get(s, s or "—"),
        status_label=lambda s: CASE_STATUS_LABELS.get(s, s),
        channel_label=channel_label,
        mask_numbers=mask_numbers,
        role_label=lambda r: ROLE_LABELS.get(r, r),
    )
    env.globals.update(P=Permission, label=field_label)
    return env


async def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal | None = None,
    status: int = 200,
    response: web.Response | None = None,
) -> web.Response:
    if response is None:
        response = web.Response(status=status, content_type="text/html", charset="utf-8")
    staff = request.get(STAFF)
    waiting = 0
    if principal is not None and principal.can(Permission.HANDOFF):
        async with request.app[SESSIONMAKER]() as session:
            waiting = await store_handoffs.count_waiting(
                session, scope=visibility.conversation_scope(principal, Handoff.conversation_id))
    base = {
        "principal": principal,
        "user": staff[1] if staff and principal is not None else None,
        "csrf_token": csrf_token_of(request),
        "flash": pop_flash(request, response),
        "waiting_handoffs": waiting,
        # Years of the coming 90 days without official holidays: a banner on every page.
        "calendar_gaps": calendar_gaps(local_date(request.app[CLOCK]())) if principal else [],
        "path": request.path,
        "static": lambda name: static_url(request.app, name),
        # Conversation ids are never shown (bot/console/refs.py): a tag, or a reference.
        "conversation_tag": lambda cid: conversation_tag(request.app, cid),
        "conversation_ref": lambda cid: conversation_ref(request.app, cid),
        "conversation_url": lambda cid: conversation_url(request.app, cid),
    }
    response.text = request.app[JINJA].get_template(template).render(**base, **context)
    add_security_headers(response)
    return response


def static_url(app: web.Application, name: str) -> str:
    """URL of a console static file with a content hash (browsers cache it safely)."""
    return str(app.router["console_static"].url_for(filename=name).with_query(v=_file_version(name)))


@lru_cache(maxsize=64)
def _file_version(name: str) -> str:
    path = STATIC / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def redirect(request: web.Request, location: str, message: str | None = None) -> web.HTTPSeeOther:
    """303 to ``location`` (Post/Redirect/Get), with a one-time notice."""
    response = web.HTTPSeeOther(location)
    if message:
        flash(response, request, message)
    add_security_headers(response)
    return response


async def form_data(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}

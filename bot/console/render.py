"""Rendering of console pages (Jinja2, autoescaped) and small helpers shared by the views."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.console.keys import JINJA, STAFF
from bot.console.security import add_security_headers, csrf_token_of, flash, pop_flash
from bot.rules.deadlines import TZ
from bot.rules.masking import mask_id_number, mask_phone
from bot.store import handoffs as store_handoffs
from bot.store.models import STATUS_LABELS
from bot.store.reporting import channel_label
from bot.web.auth import ROLE_LABELS, Permission, Principal
from bot.web.keys import SESSIONMAKER

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static" / "console"

# Personal numbers inside free text (transcripts): resident ID numbers and mobile numbers
# (with +86 and spaces or dashes), masked the way the case page masks them.
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?![0-9])")


# The citizen's query code (in the filing confirmation): a secret of theirs, not for staff.
QUERY_CODE_IN_TEXT = re.compile(r"(查询码\s*[：:]?\s*)\d{6}")


def attachment(body: bytes, content_type: str, filename: str) -> web.Response:
    """A download (CSV, YAML) that no cache keeps and no browser sniffs into something else."""
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def mask_numbers(text: str | None) -> str:
    text = QUERY_CODE_IN_TEXT.sub(r"\1******", text or "")
    text = ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    return MOBILE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))[-11:]), text)


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(TZ).strftime(fmt)


def cn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(TZ).date()
    return f"{value.year}年{value.month}月{value.day}日"


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
        status_label=lambda s: STATUS_LABELS.get(s, s),
        channel_label=channel_label,
        mask_numbers=mask_numbers,
        role_label=lambda r: ROLE_LABELS.get(r, r),
    )
    env.globals.update(P=Permission)
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
            waiting = await store_handoffs.count_waiting(session)
    base = {
        "principal": principal,
        "user": staff[1] if staff and principal is not None else None,
        "csrf_token": csrf_token_of(request),
        "flash": pop_flash(request, response),
        "waiting_handoffs": waiting,
        "path": request.path,
        "static": lambda name: static_url(request.app, name),
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

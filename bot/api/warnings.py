"""``GET /api/v1/warnings`` — the early-warning alerts of today (排查预警): each cluster with its
case numbers, reasons, people involved, units and daily trend; no personal data. For 信访局
accounts only (a cluster crosses units)."""

from __future__ import annotations

from aiohttp import web

from bot.api.common import API_PREFIX
from bot.rules.deadlines import local_date
from bot.rules.roles import Permission, Principal
from bot.store import visibility
from bot.store import warnings as store
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER
from bot.web.routes import add


async def list_warnings(request: web.Request, principal: Principal) -> web.Response:
    if not visibility.sees_all_units(principal):
        raise ApiError(403, "forbidden", "排查预警只向信访局账户提供。")
    today = local_date(request.app[CLOCK]())
    async with request.app[SESSIONMAKER]() as session:
        alerts = await store.clusters(session, today, visibility.case_scope(principal))
        entries = await store.entries_by_cluster(session, [a.key for a in alerts])
    return json_response({
        "date": today.isoformat(),
        "warnings": [
            {**store.cluster_json(a), "ledger_entry": entries[a.key].id if a.key in entries else None}
            for a in alerts
        ],
    })


def setup(app: web.Application) -> None:
    add(app, "GET", f"{API_PREFIX}/warnings", list_warnings, Permission.EARLY_WARNING)

"""``GET /api/v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`` — the statistics of a period exactly
as the console's charts show them (every table: title, columns, rows)."""

from __future__ import annotations

from aiohttp import web

from bot.api.common import API_PREFIX
from bot.rules.deadlines import local_date
from bot.rules.roles import Permission, Principal
from bot.store import reporting, visibility
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS
from bot.web.routes import add


async def period_report(request: web.Request, principal: Principal) -> web.Response:
    today = local_date(request.app[CLOCK]())
    period = reporting.parse_period(request.query.get("from"), request.query.get("to"), today)
    if period.malformed:
        raise ApiError(400, "invalid_period", period.problem)
    async with request.app[SESSIONMAKER]() as session:
        report = await reporting.period_report(
            session, period.start, period.end, today=today,
            due_soon_days=request.app[SETTINGS].due_soon_days,
            scope=visibility.case_scope(principal),
        )
    return json_response(reporting.report_json(report))


def setup(app: web.Application) -> None:
    add(app, "GET", f"{API_PREFIX}/reports", period_report, Permission.STATS_READ)

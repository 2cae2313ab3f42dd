"""Statistics of a chosen period: charts (ECharts, served locally) and the CSV of each table."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from bot.console.render import attachment, render
from bot.rules.deadlines import local_date
from bot.rules.roles import Permission, Principal
from bot.store import cases as store_cases
from bot.store import monthly_report, reporting, visibility
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS


def period_of(request: web.Request) -> reporting.Period:
    """The period asked for in the query string (``from``, ``to``)."""
    today = local_date(request.app[CLOCK]())
    return reporting.parse_period(request.query.get("from"), request.query.get("to"), today)


async def build_report(
    request: web.Request, start: date, end: date, principal: Principal
) -> reporting.Report:
    """The figures of the cases ``principal`` may see (their unit; the 信访局: all)."""
    async with request.app[SESSIONMAKER]() as session:
        return await reporting.period_report(
            session, start, end, today=local_date(request.app[CLOCK]()),
            due_soon_days=request.app[SETTINGS].due_soon_days,
            scope=visibility.case_scope(principal),
        )


async def stats_page(request: web.Request, principal: Principal) -> web.Response:
    period = period_of(request)
    start, end, error = period.start, period.end, period.problem
    report = await build_report(request, start, end, principal)
    today = local_date(request.app[CLOCK]())
    presets = {
        "本月": (today.replace(day=1), today),
        "近30日": (today - timedelta(days=29), today),
        "本年": (today.replace(month=1, day=1), today),
    }
    return await render(request, "console/stats.html", {
        "report": report,
        "error": error,
        "period_query": f"from={start.isoformat()}&to={end.isoformat()}",
        "data_json": json.dumps(reporting.report_json(report), ensure_ascii=False).replace("</", "<\\/"),
        "presets": presets,
        "report_month": report.end.isoformat()[:7],
        "max_month": today.isoformat()[:7],
        "unit_report": not visibility.sees_all_units(principal),
    }, principal=principal)


async def stats_csv(request: web.Request, principal: Principal) -> web.StreamResponse:
    key = request.match_info["table"]
    period = period_of(request)
    start, end = period.start, period.end
    report = await build_report(request, start, end, principal)
    table = report.tables.get(key)
    if table is None:
        raise web.HTTPNotFound(text="没有这张统计表。")
    async with request.app[SESSIONMAKER]() as session:
        await store_cases.add_audit(
            session, actor=principal.name, action="stats_export", case_id=None,
            detail={"table": key, "from": start.isoformat(), "to": end.isoformat()},
            now=request.app[CLOCK](),
        )
        await session.commit()
    # UTF-8 with a byte-order mark, so that spreadsheet programs read the Chinese correctly.
    body = ("\ufeff" + reporting.table_csv(table)).encode("utf-8")
    filename = f"xinfang-{key}-{start.isoformat()}-{end.isoformat()}.csv"
    return attachment(body, "text/csv", filename)


async def monthly_report_docx(request: web.Request, principal: Principal) -> web.Response:
    """The month's 信访形势分析 (Word). A unit account's report covers its unit's cases only
    and leaves out the early-warning clusters (they cross units)."""
    from bot.rules.jurisdiction import load_jurisdiction

    now = request.app[CLOCK]()
    today = local_date(now)
    try:
        first = monthly_report.parse_month(request.query.get("month"), today)
    except monthly_report.MonthError as exc:
        raise web.HTTPBadRequest(text=exc.message) from None
    jurisdiction = load_jurisdiction()
    unit = None if visibility.sees_all_units(principal) else principal.unit
    async with request.app[SESSIONMAKER]() as session:
        _, body = await monthly_report.build(
            session, first, today=today, region=jurisdiction.short_name,
            agency=jurisdiction.agency, unit=unit, scope=visibility.case_scope(principal),
            due_soon_days=request.app[SETTINGS].due_soon_days,
        )
        await store_cases.add_audit(
            session, actor=principal.name, action="monthly_report_export", case_id=None,
            detail={"month": first.isoformat()[:7], "unit": unit}, now=now,
        )
        await session.commit()
    filename = monthly_report.default_filename(first, "unit" if unit else "")
    return attachment(body, monthly_report.DOCX_CONTENT_TYPE, filename, charset=None)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/stats", stats_page, Permission.STATS_READ)
    add(app, "GET", "/console/stats/monthly-report.docx", monthly_report_docx, Permission.STATS_READ)
    add(app, "GET", "/console/stats/{table}.csv", stats_csv, Permission.STATS_READ)

"""Statistics of a chosen period: charts (ECharts, served locally) and the CSV of each table."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from bot.console.render import attachment, render
from bot.rules.deadlines import local_date
from bot.store import cases as store_cases
from bot.store import reporting
from bot.web.auth import Permission, Principal
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS

MAX_PERIOD_DAYS = 366 * 3
# Cells starting with these would be formulas in a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def period_of(request: web.Request) -> tuple[date, date, str | None]:
    """The period asked for (default: this month up to today) and a problem, if any."""
    today = local_date(request.app[CLOCK]())
    error = None

    def parse(key: str) -> date | None:
        nonlocal error
        raw = (request.query.get(key) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            error = "日期格式不正确，应为 年-月-日。"
            return None

    start = parse("from") or today.replace(day=1)
    end = parse("to") or today
    if end < start:
        start, end = end, start
        error = error or "开始日期晚于结束日期，已自动交换。"
    if (end - start).days > MAX_PERIOD_DAYS:
        start = end - timedelta(days=MAX_PERIOD_DAYS)
        error = error or "统计期间最长3年，已按结束日期截取。"
    return start, end, error


async def build_report(request: web.Request, start: date, end: date) -> reporting.Report:
    async with request.app[SESSIONMAKER]() as session:
        return await reporting.period_report(
            session, start, end, today=local_date(request.app[CLOCK]()),
            due_soon_days=request.app[SETTINGS].due_soon_days,
        )


async def stats_page(request: web.Request, principal: Principal) -> web.Response:
    start, end, error = period_of(request)
    report = await build_report(request, start, end)
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
    }, principal=principal)


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_csv(table: reporting.Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


async def stats_csv(request: web.Request, principal: Principal) -> web.StreamResponse:
    key = request.match_info["table"]
    start, end, _ = period_of(request)
    report = await build_report(request, start, end)
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
    body = ("\ufeff" + table_csv(table)).encode("utf-8")
    filename = f"xinfang-{key}-{start.isoformat()}-{end.isoformat()}.csv"
    return attachment(body, "text/csv", filename)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/stats", stats_page, Permission.STATS_READ)
    add(app, "GET", "/console/stats/{table}.csv", stats_csv, Permission.STATS_READ)

"""Early warning (排查预警) and the 矛盾台账 in the console: the alerts, one cluster with its
cases and trend, ledger entries made from an alert or a case, their steps (督办 when overdue),
the CSV export and the printable page. 信访局 accounts only (a cluster crosses units)."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from aiohttp import web

from bot.console.render import attachment, form_data, redirect, render
from bot.rules.deadlines import local_date
from bot.rules.ledger import EXPORT_COLUMNS, LEDGER_STATUSES, OVERDUE_LABEL, RISK_LEVELS
from bot.rules.roles import Permission, Principal
from bot.store import cases as store_cases
from bot.store import visibility
from bot.store import warnings as store
from bot.store.models import LedgerEntry
from bot.web.errors import ApiError
from bot.web.keys import CLOCK, SESSIONMAKER

log = logging.getLogger(__name__)

AGENCY_ONLY = "排查预警和矛盾台账只向信访局账户显示。"
ENTRY_NOT_FOUND = "未找到该台账条目。"
CLUSTER_GONE = "该预警已不在当前排查范围内（可能已超出统计时段）。"


def require_agency(principal: Principal) -> None:
    if not visibility.sees_all_units(principal):
        raise ApiError(403, "forbidden", AGENCY_ONLY)


def today_of(request: web.Request) -> date:
    return local_date(request.app[CLOCK]())


async def alerts_for(request: web.Request, principal: Principal, session) -> list[Any]:
    return await store.clusters(session, today_of(request), visibility.case_scope(principal))


async def warnings_page(request: web.Request, principal: Principal) -> web.Response:
    require_agency(principal)
    async with request.app[SESSIONMAKER]() as session:
        alerts = await alerts_for(request, principal, session)
        entries = await store.entries_by_cluster(session, [a.key for a in alerts])
    config = store.warning_config()
    return await render(request, "console/warnings.html", {
        "alerts": alerts, "entries": entries, "config": config,
        "data_json": json.dumps([store.cluster_json(a) for a in alerts], ensure_ascii=False),
    }, principal=principal)


async def warning_page(request: web.Request, principal: Principal, *, error: str | None = None,
                       form: dict[str, str] | None = None, status: int = 200) -> web.Response:
    require_agency(principal)
    key = request.match_info["key"].strip().upper()
    async with request.app[SESSIONMAKER]() as session:
        cluster = await store.cluster_by_key(session, key, today_of(request), visibility.case_scope(principal))
        if cluster is None:
            raise web.HTTPNotFound(text=CLUSTER_GONE)
        cases = await store.cases_by_ids(session, list(cluster.case_ids))
        entry = (await store.entries_by_cluster(session, [cluster.key])).get(cluster.key)
    return await render(request, "console/warning.html", {
        "cluster": cluster, "cases": cases, "entry": entry, "error": error, "form": form or {},
        "risk_levels": RISK_LEVELS,
        "data_json": json.dumps(store.cluster_json(cluster), ensure_ascii=False),
        "default_title": f"{cluster.label}（{len(cases)}件）",
        "default_unit": cluster.units[0] if cluster.units else "",
    }, principal=principal, status=status)


async def ledger_create(request: web.Request, principal: Principal) -> web.StreamResponse:
    """Create a ledger entry from an alert (``cluster``) or from one case (``case_no``)."""
    require_agency(principal)
    form = await form_data(request)
    form.pop("csrf_token", None)
    now = request.app[CLOCK]()
    today = local_date(now)
    scope = visibility.case_scope(principal)
    async with request.app[SESSIONMAKER]() as session:
        cluster_key = (form.get("cluster") or "").strip().upper() or None
        if cluster_key:
            cluster = await store.cluster_by_key(session, cluster_key, today, scope)
            if cluster is None:
                raise web.HTTPNotFound(text=CLUSTER_GONE)
            case_ids = list(cluster.case_ids)
        else:
            case = await store_cases.get_case(session, (form.get("case_no") or "").strip().upper())
            if case is None or not visibility.can_see_case(principal, case):
                raise web.HTTPNotFound(text="未找到该信访件。")
            case_ids = [case.id]
        try:
            due = date.fromisoformat(form["first_step_due"]) if form.get("first_step_due") else None
        except ValueError:
            due = None
        try:
            entry = await store.create_entry(
                session, title=form.get("title", ""), leader=form.get("leader", ""),
                unit=form.get("unit", ""), risk=form.get("risk", ""), summary=form.get("summary"),
                case_ids=case_ids, cluster_key=cluster_key, first_step=(form.get("first_step") or "").strip() or None,
                first_step_due=due, actor=principal.name, now=now,
            )
        except store.LedgerError as exc:
            await session.rollback()
            if cluster_key:
                request.match_info["key"] = cluster_key
                return await warning_page(request, principal, error=exc.message, form=form, status=422)
            raise web.HTTPUnprocessableEntity(text=exc.message) from None
        await store_cases.add_audit(session, actor=principal.name, action=store.AUDIT_LEDGER, case_id=None,
                                    detail={"entry": entry.id, "change": "create", "cluster": cluster_key,
                                            "cases": len(case_ids)}, now=now)
        await session.commit()
        entry_id = entry.id
    raise redirect(request, f"/console/ledger/{entry_id}", "已建立矛盾台账。")


async def _entry(session, request: web.Request) -> LedgerEntry:
    try:
        entry_id = int(request.match_info["entry_id"])
    except ValueError:
        raise web.HTTPNotFound(text=ENTRY_NOT_FOUND) from None
    entry = await session.get(LedgerEntry, entry_id)
    if entry is None:
        raise web.HTTPNotFound(text=ENTRY_NOT_FOUND)
    return entry


async def ledger_page(request: web.Request, principal: Principal) -> web.Response:
    require_agency(principal)
    status = request.query.get("status") or None
    if status not in LEDGER_STATUSES:
        status = None
    today = today_of(request)
    async with request.app[SESSIONMAKER]() as session:
        rows = await store.ledger_rows(session, today, status)
    return await render(request, "console/ledger.html", {
        "rows": rows, "status": status, "statuses": LEDGER_STATUSES, "risk_levels": RISK_LEVELS,
        "overdue_label": OVERDUE_LABEL,
    }, principal=principal)


async def ledger_entry_page(request: web.Request, principal: Principal, *, error: str | None = None,
                            status: int = 200) -> web.Response:
    require_agency(principal)
    today = today_of(request)
    async with request.app[SESSIONMAKER]() as session:
        entry = await _entry(session, request)
        row = await store.entry_row(session, entry, today)
    return await render(request, "console/ledger_entry.html", {
        "row": row, "entry": row.entry, "statuses": LEDGER_STATUSES, "risk_levels": RISK_LEVELS,
        "overdue_ids": {s.id for s in row.overdue}, "overdue_label": OVERDUE_LABEL, "error": error,
        "today": today,
    }, principal=principal, status=status)


async def _ledger_change(request: web.Request, principal: Principal, change: str) -> web.StreamResponse:
    require_agency(principal)
    form = await form_data(request)
    now = request.app[CLOCK]()
    today = local_date(now)
    async with request.app[SESSIONMAKER]() as session:
        entry = await _entry(session, request)
        try:
            if change == "step":
                try:
                    due = date.fromisoformat(form["due_on"]) if form.get("due_on") else None
                except ValueError:
                    raise store.LedgerError("期限日期格式不正确。") from None
                await store.add_step(session, entry, form.get("description", ""), due, actor=principal.name, now=now)
                message = "已添加化解措施。"
            elif change == "done":
                try:
                    step_id = int(request.match_info["step_id"])
                except ValueError:
                    raise web.HTTPNotFound() from None
                await store.complete_step(session, entry, step_id, today, now)
                message = "已记录措施完成。"
            else:
                await store.set_status(session, entry, form.get("status", ""), now)
                message = f"状态已改为「{LEDGER_STATUSES[entry.status]}」。"
        except store.LedgerError as exc:
            await session.rollback()
            return await ledger_entry_page(request, principal, error=exc.message, status=422)
        await store_cases.add_audit(session, actor=principal.name, action=store.AUDIT_LEDGER, case_id=None,
                                    detail={"entry": entry.id, "change": change}, now=now)
        await session.commit()
        entry_id = entry.id
    raise redirect(request, f"/console/ledger/{entry_id}", message)


async def ledger_step(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _ledger_change(request, principal, "step")


async def ledger_step_done(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _ledger_change(request, principal, "done")


async def ledger_status(request: web.Request, principal: Principal) -> web.StreamResponse:
    return await _ledger_change(request, principal, "status")


async def ledger_csv(request: web.Request, principal: Principal) -> web.StreamResponse:
    require_agency(principal)
    today = today_of(request)
    async with request.app[SESSIONMAKER]() as session:
        rows = await store.ledger_rows(session, today)
    return attachment(store.export_csv(rows, today), "text/csv", f"maodun-taizhang-{today.isoformat()}.csv")


async def ledger_print(request: web.Request, principal: Principal) -> web.Response:
    require_agency(principal)
    today = today_of(request)
    async with request.app[SESSIONMAKER]() as session:
        rows = await store.ledger_rows(session, today)
    return await render(request, "console/ledger_print.html", {
        "columns": EXPORT_COLUMNS, "rows": store.export_rows(rows, today), "today": today,
    }, principal=principal)


def setup(app: web.Application, add: Any) -> None:
    add(app, "GET", "/console/warnings", warnings_page, Permission.EARLY_WARNING)
    add(app, "GET", "/console/warnings/{key}", warning_page, Permission.EARLY_WARNING)
    add(app, "GET", "/console/ledger", ledger_page, Permission.EARLY_WARNING)
    add(app, "POST", "/console/ledger", ledger_create, Permission.LEDGER)
    add(app, "GET", "/console/ledger.csv", ledger_csv, Permission.EARLY_WARNING)
    add(app, "GET", "/console/ledger/print", ledger_print, Permission.EARLY_WARNING)
    add(app, "GET", "/console/ledger/{entry_id}", ledger_entry_page, Permission.EARLY_WARNING)
    add(app, "POST", "/console/ledger/{entry_id}/steps", ledger_step, Permission.LEDGER)
    add(app, "POST", "/console/ledger/{entry_id}/steps/{step_id}/done", ledger_step_done, Permission.LEDGER)
    add(app, "POST", "/console/ledger/{entry_id}/status", ledger_status, Permission.LEDGER)


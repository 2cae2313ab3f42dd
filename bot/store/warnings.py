"""Early warning (排查预警) from the stored cases, and the 矛盾台账 kept by staff.

Clusters are computed when asked for (the dashboard, the warnings page, the API) from the
cases of the last ``lookback_days`` that the caller may see, with the thresholds of
``bot/config/early_warning.yml`` (bot/rules/early_warning.py holds the rule). Only a 信访局
account (not scoped to one unit) sees them: a cluster crosses units.

A ledger entry (``LedgerEntry``) is made from an alert or from any case: its cases, the
responsible leader (包案领导) and unit, the risk level, the status and the steps with their due
dates; a step not done by its due date is 督办.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import early_warning
from bot.rules.text import form_text
from bot.rules.deadlines import TZ
from bot.rules.ledger import (
    EXPORT_COLUMNS,
    LEDGER_STATUSES,
    NAME_MAX,
    OVERDUE_LABEL,
    RESOLVING,
    RISK_LEVELS,
    TEXT_MAX,
    TITLE_MAX,
    UNIT_MAX,
)
from bot.store.models import Case, LedgerCase, LedgerEntry, LedgerStep

AUDIT_LEDGER = "ledger_change"


@lru_cache(maxsize=1)
def warning_config() -> early_warning.WarningConfig:
    return early_warning.load_warning_config()


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ)


def person_key(case: Case) -> str:
    """An opaque key of the petitioner (blind indexes only), to count distinct people."""
    if case.id_number_hmac:
        return f"id:{case.id_number_hmac}"
    if case.phone_hmac:
        return f"phone:{case.phone_hmac}:{case.petitioner_name}"
    return f"case:{case.id}"


def lite(case: Case) -> early_warning.CaseLite:
    return early_warning.CaseLite(
        id=case.id,
        case_no=case.case_no,
        created_on=case.created_at.astimezone(TZ).date(),
        category=case.category,
        respondent=case.respondent,
        location_division=case.location_division,
        location_text=case.location_text,
        facts=case.facts,
        request=case.request,
        group_size=case.group_size,
        responsible_unit=case.responsible_unit,
        person_key=person_key(case),
    )


async def clusters(
    session: AsyncSession,
    today: date,
    scope: Sequence[Any] = (),
    config: early_warning.WarningConfig | None = None,
) -> list[early_warning.Cluster]:
    """The alerting clusters on ``today`` among the cases in ``scope``."""
    config = config or warning_config()
    since = _start_of(today - timedelta(days=config.lookback_days - 1))
    until = _start_of(today + timedelta(days=1))
    cases = list(await session.scalars(
        select(Case).where(Case.created_at >= since, Case.created_at < until,
                           Case.anonymised_at.is_(None), *scope)
        .order_by(Case.created_at, Case.id)
    ))
    return early_warning.find_clusters([lite(c) for c in cases], today, config)


def cluster_json(cluster: Any) -> dict[str, Any]:
    """An alert as JSON (API and the page's chart): case numbers, no personal data."""
    return {
        "key": cluster.key,
        "label": cluster.label,
        "reasons": list(cluster.reasons),
        "case_nos": list(cluster.case_nos),
        "first_on": cluster.first_on.isoformat(),
        "last_on": cluster.last_on.isoformat(),
        "cases_in_window": cluster.cases_in_window,
        "people": cluster.people,
        "persons": cluster.persons,
        "units": list(cluster.units),
        "trend": [[day.isoformat(), n] for day, n in cluster.trend],
    }


async def cluster_by_key(
    session: AsyncSession, key: str, today: date, scope: Sequence[Any] = ()
) -> early_warning.Cluster | None:
    for cluster in await clusters(session, today, scope):
        if cluster.key == key:
            return cluster
    return None


async def cases_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Case]:
    if not ids:
        return []
    found = {c.id: c for c in await session.scalars(select(Case).where(Case.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


# --- the ledger -----------------------------------------------------------------------


class LedgerError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LedgerRow:
    entry: LedgerEntry
    cases: list[Case]
    steps: list[LedgerStep]
    overdue: list[LedgerStep]


def overdue_steps(steps: Sequence[LedgerStep], today: date) -> list[LedgerStep]:
    return [s for s in steps if s.done_on is None and s.due_on is not None and s.due_on < today]


def _check_choice(value: str, choices: dict[str, str], label: str) -> str:
    if value not in choices:
        raise LedgerError(f"请选择{label}。")
    return value


def _check_text(value: str | None, label: str, limit: int, *, required: bool = True) -> str | None:
    return form_text(value, label, limit, required=required, error=LedgerError)


async def create_entry(
    session: AsyncSession,
    *,
    title: str,
    leader: str,
    unit: str,
    risk: str,
    summary: str | None,
    case_ids: Sequence[int],
    cluster_key: str | None,
    first_step: str | None,
    first_step_due: date | None,
    actor: str,
    now: datetime,
) -> LedgerEntry:
    entry = LedgerEntry(
        title=_check_text(title, "名称", TITLE_MAX),
        leader=_check_text(leader, "包案领导", NAME_MAX),
        unit=_check_text(unit, "责任单位", UNIT_MAX),
        risk=_check_choice(risk, RISK_LEVELS, "风险等级"),
        status=RESOLVING,
        summary=_check_text(summary, "情况摘要", TEXT_MAX, required=False),
        cluster_key=cluster_key,
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    if not case_ids:
        raise LedgerError("台账至少要包括一件信访件。")
    session.add(entry)
    await session.flush()
    for case_id in dict.fromkeys(case_ids):
        session.add(LedgerCase(entry_id=entry.id, case_id=case_id))
    if first_step:
        await add_step(session, entry, first_step, first_step_due, actor=actor, now=now)
    await session.flush()
    return entry


async def add_step(
    session: AsyncSession, entry: LedgerEntry, description: str, due_on: date | None, *, actor: str,
    now: datetime,
) -> LedgerStep:
    step = LedgerStep(entry_id=entry.id, description=_check_text(description, "化解措施", TEXT_MAX),
                      due_on=due_on, created_at=now, created_by=actor)
    session.add(step)
    entry.updated_at = now
    await session.flush()
    return step


async def complete_step(session: AsyncSession, entry: LedgerEntry, step_id: int, done_on: date,
                        now: datetime) -> LedgerStep:
    step = await session.get(LedgerStep, step_id)
    if step is None or step.entry_id != entry.id:
        raise LedgerError("未找到该措施。")
    if step.done_on is not None:
        raise LedgerError("该措施已经完成。")
    step.done_on = done_on
    entry.updated_at = now
    await session.flush()
    return step


async def set_status(session: AsyncSession, entry: LedgerEntry, status: str, now: datetime) -> None:
    entry.status = _check_choice(status, LEDGER_STATUSES, "状态")
    entry.updated_at = now
    await session.flush()


async def entry_row(session: AsyncSession, entry: LedgerEntry, today: date) -> LedgerRow:
    case_ids = list(await session.scalars(
        select(LedgerCase.case_id).where(LedgerCase.entry_id == entry.id)
    ))
    cases = sorted(await cases_by_ids(session, case_ids), key=lambda c: (c.created_at, c.id))
    steps = list(await session.scalars(
        select(LedgerStep).where(LedgerStep.entry_id == entry.id).order_by(LedgerStep.id)
    ))
    return LedgerRow(entry, cases, steps, overdue_steps(steps, today))


async def ledger_rows(session: AsyncSession, today: date, status: str | None = None) -> list[LedgerRow]:
    query = select(LedgerEntry).order_by(LedgerEntry.updated_at.desc(), LedgerEntry.id.desc())
    if status:
        query = query.where(LedgerEntry.status == status)
    return [await entry_row(session, e, today) for e in await session.scalars(query)]


async def entries_by_cluster(session: AsyncSession, keys: Sequence[str]) -> dict[str, LedgerEntry]:
    if not keys:
        return {}
    rows = await session.scalars(select(LedgerEntry).where(LedgerEntry.cluster_key.in_(list(keys))))
    return {e.cluster_key: e for e in rows if e.cluster_key}


async def count_overdue(session: AsyncSession, today: date) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(LedgerStep)
        .where(LedgerStep.done_on.is_(None), LedgerStep.due_on < today)
    ) or 0)


def export_rows(rows: Sequence[LedgerRow], today: date) -> list[list[str]]:
    """The ledger as the rows of EXPORT_COLUMNS (CSV and printable page)."""
    out = []
    for row in rows:
        e = row.entry
        steps = "；".join(
            f"{s.description}（{'已完成 ' + s.done_on.isoformat() if s.done_on else ('期限 ' + s.due_on.isoformat() if s.due_on else '无期限')}）"
            for s in row.steps
        )
        overdue = "；".join(f"{s.description}（逾期，期限 {s.due_on.isoformat()}）" for s in row.overdue)
        out.append([
            str(e.id), e.title, e.leader, e.unit, RISK_LEVELS.get(e.risk, e.risk),
            LEDGER_STATUSES.get(e.status, e.status), "、".join(c.case_no for c in row.cases), steps,
            f"{OVERDUE_LABEL}：{overdue}" if overdue else "", e.created_by,
            e.created_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
            e.updated_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
        ])
    return out


def export_csv(rows: Sequence[LedgerRow], today: date) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_rows(rows, today))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")

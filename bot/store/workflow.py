"""The staff workflow of a case, applied to the database.

The rules are the state machine in ``bot/rules/workflow.py`` (statuses, transitions, the
deadlines each step sets, the history note and which notification the citizen gets); this
module loads the case for update, has the machine check and compute the step, writes the new
values to the row, and records the case history (``case_events``), the audit log and the queued
notification of the citizen in the same transaction. Functions take the caller's session;
none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.deadlines import local_date
from bot.rules.roles import Principal
from bot.rules.time_limits import NextDue
from bot.rules.time_limits import next_due as _next_due
from bot.rules.workflow import (  # noqa: F401  (re-exported for the store's other users)
    OPEN_STATUSES,
    TRANSITIONS,
    CaseSnapshot,
    Outcome,
    WorkflowError,
    take,
)
from bot.store.cases import add_audit
from bot.store.due import owed_next
from bot.store.models import Case, CaseEvent, Notification
from bot.store.notifications import RATING_REQUEST, compose_notification, queue_notification
from bot.store.ratings import needs_rating_request


def next_due(case: Case, today: date, due_soon_days: int) -> NextDue | None:
    """What the agency owes next for ``case`` and by when (None when nothing is owed)."""
    return _next_due(owed_next(case), today, due_soon_days)


@dataclass
class StepResult:
    case: Case
    outcome: Outcome
    notification: Notification | None
    # The invitation to rate (第二十一条) queued by this step, delivered after its message.
    invitation: Notification | None = None


async def load_for_update(session: AsyncSession, case_no: str) -> Case | None:
    """The case, locked until the transaction ends (PostgreSQL; SQLite locks on write)."""
    return await session.scalar(
        select(Case).where(Case.case_no == case_no).with_for_update()
    )


async def perform(
    session: AsyncSession,
    case: Case,
    action: str,
    inputs: Any,
    *,
    actor: Principal,
    now: datetime,
    expected_status: str | None = None,
    remote: str | None = None,
) -> StepResult:
    """Take the step ``action`` on ``case`` with its typed ``inputs``: ``WorkflowError`` when it
    cannot be taken, ``PermissionError`` when ``actor`` may not. ``expected_status``, when
    given, must equal the current status (bot.rules.workflow.check). Flushes, no commit."""
    outcome = take(action, CaseSnapshot.of(case), inputs, principal=actor, now=now,
                   expected_status=expected_status)
    for column, value in outcome.changes.items():
        setattr(case, column, value)
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.name,
            action=action,
            from_status=outcome.from_status,
            to_status=outcome.to_status,
            note=outcome.note,
        )
    )
    await add_audit(
        session,
        actor=actor.name,
        action=f"case_{action}",
        case_id=case.id,
        detail={"from": outcome.from_status, "to": outcome.to_status, "remote": remote,
                **outcome.detail},
        now=now,
    )
    notification = None
    if outcome.notify:
        text = compose_notification(outcome.notify, case, local_date(now))
        notification = await queue_notification(
            session, case, outcome.notify, text, actor=actor.name, now=now
        )
    await session.flush()
    # Closed with its reply delivered: the citizen is invited to rate it (第二十一条), once;
    # the notifier's retry loop delivers it after the step's own message.
    invitation = None
    if await needs_rating_request(session, case):
        invitation = await queue_notification(session, case, RATING_REQUEST,
                                              compose_notification(RATING_REQUEST, case, local_date(now)),
                                              actor=actor.name, now=now)
        await session.flush()
    return StepResult(case, outcome, notification, invitation)


async def mark_read(session: AsyncSession, case: Case, actor: str, now: datetime) -> bool:
    """Record the first time a member of staff read the case (阅办). Flushes."""
    if case.first_read_at is not None:
        return False
    case.first_read_at = now
    case.first_read_by = actor
    session.add(
        CaseEvent(case_id=case.id, at=now, actor=actor, action="read",
                  from_status=case.status, to_status=case.status, note="首次阅办")
    )
    await session.flush()
    return True

"""Which cases, conversations and handoffs a caller may see (staff units, 第30条).

- A member of staff of a unit (责任单位) sees the cases assigned to that unit; a 信访局
  account (``Principal.unit`` None) sees every unit's cases. The service token of the action
  server is not unit-scoped.
- A 检举控告 matter (purpose ``CONFIDENTIAL_PURPOSE``) is seen only with
  ``Permission.CASE_CONFIDENTIAL`` (信访工作条例 第30条), whatever the unit.
- A conversation (its transcript, its handoff) is seen when the caller sees every case filed
  from it; a conversation without any case is seen by 信访局 accounts only.
- Lists and counts apply ``case_scope`` inside the query. A request for one thing the caller
  may not see is answered exactly like an unknown one (404) and recorded with
  ``record_refusal``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.roles import CONFIDENTIAL_PURPOSE, Permission, Principal
from bot.store.cases import add_audit
from bot.store.models import Case

REFUSAL_ACTION = "out_of_scope_access"


def is_staff(principal: Principal) -> bool:
    return principal.kind == "staff"


def sees_all_units(principal: Principal) -> bool:
    """A 信访局 account (or the service token): not limited to one unit's cases."""
    return principal.unit is None


def case_scope(principal: Principal) -> list[Any]:
    """SQL conditions on ``Case`` limiting a query to what ``principal`` may see."""
    if not is_staff(principal):
        return []
    conditions: list[Any] = []
    if principal.unit is not None:
        conditions.append(Case.responsible_unit == principal.unit)
    if not principal.can(Permission.CASE_CONFIDENTIAL):
        conditions.append(or_(Case.purpose.is_(None), Case.purpose != CONFIDENTIAL_PURPOSE))
    return conditions


def can_see_case(principal: Principal, case: Case) -> bool:
    if not is_staff(principal):
        return True
    if principal.unit is not None and case.responsible_unit != principal.unit:
        return False
    return case.purpose != CONFIDENTIAL_PURPOSE or principal.can(Permission.CASE_CONFIDENTIAL)


def can_see_conversation(principal: Principal, cases: Iterable[Case]) -> bool:
    """A conversation with these cases: every case visible; none at all -> 信访局 only."""
    cases = list(cases)
    if not is_staff(principal):
        return True
    if not cases:
        return principal.unit is None
    return all(can_see_case(principal, case) for case in cases)


def conversation_scope(principal: Principal, conversation_id: Any) -> list[Any]:
    """SQL conditions on a conversation id column (e.g. ``Handoff.conversation_id``): the
    same rule as ``can_see_conversation``, inside the query."""
    if not is_staff(principal):
        return []
    conditions: list[Any] = []
    case_conditions = case_scope(principal)
    if case_conditions:
        conditions.append(not_(exists(
            select(Case.id).where(Case.conversation_id == conversation_id,
                                  not_(and_(*case_conditions)))
        )))
    if principal.unit is not None:
        conditions.append(exists(select(Case.id).where(Case.conversation_id == conversation_id)))
    return conditions


async def record_refusal(
    session: AsyncSession,
    principal: Principal,
    *,
    route: str,
    now: datetime,
    case: Case | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a request for something outside the caller's scope (the caller sees a 404)."""
    await add_audit(
        session, actor=principal.name, action=REFUSAL_ACTION,
        case_id=case.id if case is not None else None,
        detail={"route": route, "case_no": case.case_no if case is not None else None,
                "unit": principal.unit, **(detail or {})},
        now=now,
    )

"""Human handoff: conversations in which the citizen asked for a person.

    waiting ──take──► active ──release──► closed
       └──────────────close──────────────────┘

At most one open (waiting or active) handoff per conversation: a second request while one is
open returns the open one (``open_conversation`` is unique and NULL once closed).

Taking is one conditional UPDATE, so of two officers taking at once exactly one wins and the
other is told who has it. The officer who took a conversation, or a supervisor, may hand it
back. A taken conversation without staff activity (take, reply) for ``HANDOFF_IDLE_MINUTES``
is closed by ``claim_idle`` and goes back to the assistant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Handoff

WAITING = "waiting"
ACTIVE = "active"
CLOSED = "closed"
OPEN = (WAITING, ACTIVE)
HANDOFF_STATUS_LABELS = {WAITING: "等待人工接入", ACTIVE: "人工服务中", CLOSED: "已结束"}
REASON_MAX = 500
# ``closed_by`` of a conversation returned to the assistant after the idle time.
IDLE_CLOSER = "system:idle"


class HandoffError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


async def open_handoff(session: AsyncSession, conversation_id: str) -> Handoff | None:
    return await session.scalar(
        select(Handoff).where(Handoff.open_conversation == conversation_id)
    )


async def request_handoff(
    session: AsyncSession, *, conversation_id: str, channel: str, reason: str | None, now: datetime
) -> tuple[Handoff, bool]:
    """The open handoff of the conversation, created if there is none; (row, created).

    Commits (a concurrent request for the same conversation is resolved by the unique key).
    """
    existing = await open_handoff(session, conversation_id)
    if existing is not None:
        return existing, False
    row = Handoff(
        conversation_id=conversation_id,
        open_conversation=conversation_id,
        channel=channel,
        reason=(reason or "").strip()[:REASON_MAX] or None,
        status=WAITING,
        requested_at=now,
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        existing = await open_handoff(session, conversation_id)
        if existing is None:
            raise
        return existing, False
    return row, True


async def get_handoff(session: AsyncSession, handoff_id: int) -> Handoff | None:
    return await session.get(Handoff, handoff_id)


async def list_handoffs(session: AsyncSession, *, include_closed: bool = False, limit: int = 200,
                        scope: Sequence[Any] = ()):
    """``scope``: the caller's conditions (bot/store/visibility.conversation_scope)."""
    query = select(Handoff).where(*scope)
    if not include_closed:
        query = query.where(Handoff.status.in_(OPEN))
    query = query.order_by(Handoff.status.desc(), Handoff.requested_at).limit(limit)
    return list(await session.scalars(query))


async def count_waiting(session: AsyncSession, *, scope: Sequence[Any] = ()) -> int:
    """Handoffs waiting for staff that the caller may see (``scope`` as in ``list_handoffs``)."""
    return int(
        await session.scalar(
            select(func.count()).select_from(Handoff).where(Handoff.status == WAITING, *scope)
        )
        or 0
    )


async def take(session: AsyncSession, handoff: Handoff, actor: str, now: datetime) -> None:
    """Take ``handoff`` for ``actor``, atomically: when two officers take it at once, the
    second gets ``HandoffError`` naming the first. The caller commits."""
    result = await session.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff.id,
            or_(Handoff.status == WAITING, (Handoff.status == ACTIVE) & (Handoff.taken_by == actor)),
        )
        .values(status=ACTIVE, taken_by=actor,
                taken_at=func.coalesce(Handoff.taken_at, now), last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(handoff)
    if result.rowcount != 1:
        if handoff.status == CLOSED:
            raise HandoffError("该人工服务请求已结束。")
        raise HandoffError(f"该对话已由{handoff.taken_by}接入，您无需重复接入。")


def ensure_active(handoff: Handoff, actor: str) -> None:
    if handoff.status != ACTIVE:
        raise HandoffError("请先接入该对话，再回复信访人。")
    if handoff.taken_by != actor:
        raise HandoffError(f"该对话由{handoff.taken_by}负责，不能由您回复。")


def ensure_may_release(handoff: Handoff, actor: str, *, supervisor: bool) -> None:
    """The officer who took the conversation, or a supervisor, may hand it back."""
    if handoff.status != ACTIVE:
        raise HandoffError("该对话当前未由工作人员接入。")
    if handoff.taken_by != actor and not supervisor:
        raise HandoffError(f"该对话由{handoff.taken_by}负责，只有其本人或负责人可以交还智能助手。")


def touch(handoff: Handoff, now: datetime) -> None:
    """Staff activity in a taken conversation (postpones its idle return)."""
    handoff.last_activity_at = now


async def claim_idle(session: AsyncSession, handoff_id: int, now: datetime,
                     idle: timedelta) -> Handoff | None:
    """Close the handoff if it is taken and idle for ``idle``; None when it is not (or another
    request closed it first). The caller hands the conversation back and commits."""
    result = await session.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id,
            Handoff.status == ACTIVE,
            func.coalesce(Handoff.last_activity_at, Handoff.taken_at) <= now - idle,
        )
        .values(status=CLOSED, open_conversation=None, closed_at=now, closed_by=IDLE_CLOSER)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return await session.get(Handoff, handoff_id, populate_existing=True)


async def idle_handoffs(session: AsyncSession, now: datetime, idle: timedelta) -> list[int]:
    """Ids of the taken conversations without staff activity for ``idle``."""
    return list(await session.scalars(
        select(Handoff.id).where(
            Handoff.status == ACTIVE,
            func.coalesce(Handoff.last_activity_at, Handoff.taken_at) <= now - idle,
        )
    ))


def close(handoff: Handoff, actor: str, now: datetime) -> None:
    if handoff.status == CLOSED:
        raise HandoffError("该人工服务请求已结束。")
    handoff.status = CLOSED
    handoff.open_conversation = None
    handoff.closed_at = now
    handoff.closed_by = actor

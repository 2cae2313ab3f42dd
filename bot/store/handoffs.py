"""Human handoff: conversations in which the citizen asked for a person.

    waiting ──take──► active ──release──► closed
       └──────────────close──────────────────┘

At most one open (waiting or active) handoff per conversation: a second request while one is
open returns the open one (``open_conversation`` is unique and NULL once closed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Handoff

WAITING = "waiting"
ACTIVE = "active"
CLOSED = "closed"
OPEN = (WAITING, ACTIVE)
HANDOFF_STATUS_LABELS = {WAITING: "等待人工接入", ACTIVE: "人工服务中", CLOSED: "已结束"}
REASON_MAX = 500


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


async def list_handoffs(session: AsyncSession, *, include_closed: bool = False, limit: int = 200):
    query = select(Handoff)
    if not include_closed:
        query = query.where(Handoff.status.in_(OPEN))
    query = query.order_by(Handoff.status.desc(), Handoff.requested_at).limit(limit)
    return list(await session.scalars(query))


async def count_waiting(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Handoff).where(Handoff.status == WAITING)
        )
        or 0
    )


def take(handoff: Handoff, actor: str, now: datetime) -> None:
    if handoff.status == CLOSED:
        raise HandoffError("该人工服务请求已结束。")
    if handoff.status == ACTIVE and handoff.taken_by != actor:
        raise HandoffError(f"该对话已由{handoff.taken_by}接入。")
    handoff.status = ACTIVE
    handoff.taken_by = actor
    handoff.taken_at = handoff.taken_at or now


def ensure_active(handoff: Handoff, actor: str) -> None:
    if handoff.status != ACTIVE:
        raise HandoffError("请先接入该对话，再回复信访人。")
    if handoff.taken_by != actor:
        raise HandoffError(f"该对话由{handoff.taken_by}负责，不能由您回复。")


def close(handoff: Handoff, actor: str, now: datetime) -> None:
    if handoff.status == CLOSED:
        raise HandoffError("该人工服务请求已结束。")
    handoff.status = CLOSED
    handoff.open_conversation = None
    handoff.closed_at = now
    handoff.closed_by = actor

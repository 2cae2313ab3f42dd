"""Leader reception days (领导接访日), bookings from the chat, the reminder the day before, and
包案 (a leader taking a case personally).

Staff publish a day (leader, date, time, place, topics, capacity) in the console. A citizen
who has filed books a place from their chat for a case of that conversation; a day takes
``capacity`` bookings and a case one booking per day. The day before, ``queue_reminders``
queues a notification into the booking's conversation (delivered like every case update).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.text import form_text
from bot.rules.cn_dates import cn_date
from bot.rules.reception import (
    LEADER_MAX,
    MAX_CAPACITY,
    NOTE_MAX,
    PLACE_MAX,
    REMINDER_KIND,
    TIME_RE,
    TOPICS_MAX,
    WHAT_TO_BRING,
    representatives_for,
)
from bot.rules.workflow import OPEN_STATUSES
from bot.store.cases import add_audit
from bot.store.models import Case, CaseEvent, ReceptionBooking, ReceptionDay
from bot.store.notifications import queue_notification

log = logging.getLogger(__name__)

AUDIT_PUBLISH = "reception_publish"
AUDIT_LEAD = "case_lead"


class ReceptionError(ValueError):
    """Something that cannot be done; ``message`` is Chinese, for the citizen or staff."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _text(value: str | None, label: str, limit: int, *, required: bool = True) -> str | None:
    return form_text(value, label, limit, required=required, error=ReceptionError)


async def publish_day(
    session: AsyncSession, *, leader: str, day: date, start: str, end: str, place: str,
    topics: str | None, capacity: int, actor: str, now: datetime, today: date,
) -> ReceptionDay:
    if day < today:
        raise ReceptionError("接访日期不能早于今天。")
    if not TIME_RE.match(start or "") or not TIME_RE.match(end or "") or start >= end:
        raise ReceptionError("请按“09:00”的格式填写开始和结束时间，结束时间应晚于开始时间。")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ReceptionError(f"可预约人数应在1到{MAX_CAPACITY}之间。")
    row = ReceptionDay(
        leader=_text(leader, "接访领导", LEADER_MAX), day=day, start_time=start, end_time=end,
        place=_text(place, "接访地点", PLACE_MAX), topics=_text(topics, "接访事项", TOPICS_MAX, required=False),
        capacity=capacity, created_at=now, created_by=actor,
    )
    session.add(row)
    await session.flush()
    await add_audit(session, actor=actor, action=AUDIT_PUBLISH, case_id=None,
                    detail={"day": day.isoformat(), "leader": row.leader}, now=now)
    return row


@dataclass(frozen=True)
class DayView:
    day: ReceptionDay
    booked: int

    @property
    def left(self) -> int:
        return max(0, self.day.capacity - self.booked)


async def _booked_counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(ReceptionBooking.day_id, func.count()).where(ReceptionBooking.day_id.in_(list(ids)))
        .group_by(ReceptionBooking.day_id)
    )
    return {day_id: int(n) for day_id, n in rows}


async def upcoming_days(session: AsyncSession, today: date, limit: int | None = None) -> list[DayView]:
    query = select(ReceptionDay).where(ReceptionDay.day >= today).order_by(ReceptionDay.day, ReceptionDay.start_time)
    if limit:
        query = query.limit(limit)
    days = list(await session.scalars(query))
    counts = await _booked_counts(session, [d.id for d in days])
    return [DayView(d, counts.get(d.id, 0)) for d in days]


async def recent_days(session: AsyncSession, today: date, days_back: int = 30) -> list[DayView]:
    days = list(await session.scalars(
        select(ReceptionDay).where(ReceptionDay.day >= today - timedelta(days=days_back))
        .order_by(ReceptionDay.day.desc(), ReceptionDay.start_time)
    ))
    counts = await _booked_counts(session, [d.id for d in days])
    return [DayView(d, counts.get(d.id, 0)) for d in days]


async def bookings_of(session: AsyncSession, day_id: int) -> list[tuple[ReceptionBooking, Case]]:
    rows = await session.execute(
        select(ReceptionBooking, Case).join(Case, Case.id == ReceptionBooking.case_id)
        .where(ReceptionBooking.day_id == day_id).order_by(ReceptionBooking.created_at, ReceptionBooking.id)
    )
    return [(b, c) for b, c in rows]


async def bookable_case(session: AsyncSession, conversation_id: str) -> Case | None:
    """The newest case filed from the conversation that is still being handled."""
    return await session.scalar(
        select(Case).where(Case.conversation_id == conversation_id, Case.anonymised_at.is_(None),
                           Case.status.in_(OPEN_STATUSES))
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(1)
    )


async def bookable_case_by_id(session: AsyncSession, case_id: int) -> Case | None:
    """The case, if it is still being handled (a booking made with its number and query code)."""
    return await session.scalar(
        select(Case).where(Case.id == case_id, Case.anonymised_at.is_(None), Case.status.in_(OPEN_STATUSES))
    )


async def book(
    session: AsyncSession, *, day_id: int, case: Case, conversation_id: str, channel: str,
    now: datetime, today: date,
) -> ReceptionBooking:
    """Book ``case`` on the reception day (row-locked, so two citizens never take the last
    place twice). ReceptionError: unknown or past day, full, already booked."""
    day = await session.scalar(select(ReceptionDay).where(ReceptionDay.id == day_id).with_for_update())
    if day is None or day.day < today:
        raise ReceptionError("该接访日不存在或已经过去，请说「领导接访日」查看最近的安排。", "not_found")
    existing = await session.scalar(select(ReceptionBooking).where(
        ReceptionBooking.day_id == day.id, ReceptionBooking.case_id == case.id))
    if existing is not None:
        raise ReceptionError(f"信访件{case.case_no}已经预约了{cn_date(day.day)}的领导接访，无需重复预约。", "duplicate")
    booked = (await _booked_counts(session, [day.id])).get(day.id, 0)
    if booked >= day.capacity:
        raise ReceptionError(f"{cn_date(day.day)}的领导接访已经约满，请选择其他日期。", "full")
    booking = ReceptionBooking(day_id=day.id, case_id=case.id, conversation_id=conversation_id, channel=channel,
                               representatives=representatives_for(case.group_size), created_at=now)
    try:
        async with session.begin_nested():
            session.add(booking)
            await session.flush()
    except IntegrityError:
        raise ReceptionError(f"信访件{case.case_no}已经预约了{cn_date(day.day)}的领导接访，无需重复预约。", "duplicate") from None
    session.add(CaseEvent(case_id=case.id, at=now, actor=f"citizen:{channel}", action="reception_booked",
                          from_status=case.status, to_status=case.status,
                          note=f"{day.day.isoformat()} {day.start_time} {day.leader}"))
    await session.flush()
    return booking


def reminder_text(day: ReceptionDay, case: Case, booking: ReceptionBooking) -> str:
    group = (f"多人反映同一事项的，请推选不超过5名代表（本次登记{booking.representatives}人，《信访工作条例》第二十条）；"
             if booking.representatives > 1 else "")
    return (
        f"【领导接访提醒】您好！您预约的领导接访在明天（{cn_date(day.day)}）{day.start_time}—{day.end_time}，"
        f"地点：{day.place}，接访领导：{day.leader}。事项：信访件{case.case_no}。{group}"
        f"请携带{WHAT_TO_BRING}，按时到达。不能前来的，可以随时在这里反映或查询办理进度。"
    )


async def queue_reminders(session: AsyncSession, today: date, now: datetime) -> int:
    """Queue the reminder of every booking of tomorrow's reception days, once. Flushes."""
    tomorrow = today + timedelta(days=1)
    rows = await session.execute(
        select(ReceptionBooking, ReceptionDay, Case)
        .join(ReceptionDay, ReceptionDay.id == ReceptionBooking.day_id)
        .join(Case, Case.id == ReceptionBooking.case_id)
        .where(ReceptionDay.day == tomorrow, ReceptionBooking.reminded_at.is_(None))
    )
    queued = 0
    for booking, day, case in rows:
        notification = await queue_notification(session, case, REMINDER_KIND, reminder_text(day, case, booking),
                                                actor="system", now=now)
        notification.conversation_id = booking.conversation_id
        booking.reminded_at = now
        queued += 1
    await session.flush()
    if queued:
        log.info("reception reminders queued: %d for %s", queued, tomorrow.isoformat())
    return queued


async def assign_lead(session: AsyncSession, case: Case, *, leader: str, note: str | None, actor: str,
                      now: datetime) -> None:
    """包案: a leader takes the case personally (shown on the case and the dashboard)."""
    case.lead_official = _text(leader, "包案领导", LEADER_MAX)
    case.lead_note = _text(note, "包案说明", NOTE_MAX, required=False)
    case.lead_assigned_at = now
    case.lead_assigned_by = actor
    session.add(CaseEvent(case_id=case.id, at=now, actor=actor, action="lead_assigned",
                          from_status=case.status, to_status=case.status, note=case.lead_official))
    await add_audit(session, actor=actor, action=AUDIT_LEAD, case_id=case.id,
                    detail={"leader": case.lead_official}, now=now)
    await session.flush()


async def led_cases(session: AsyncSession, scope: Sequence = ()) -> list[Case]:
    return list(await session.scalars(
        select(Case).where(Case.lead_official.is_not(None), *scope)
        .order_by(Case.lead_assigned_at.desc(), Case.id.desc()).limit(50)
    ))

"""The citizen's rating of the handling of a case (信访工作条例 第二十一条).

``record_rating`` is the only writer: one rating per case, and only once the case has been
answered (a written reply, or the case closed). No console route changes a rating; the case
page shows it read-only. Retention clears the comment with the rest of the personal data
(bot/store/retention.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.deadlines import local_date
from bot.rules.ratings import COMMENT_MAX, RATING_REQUEST_KIND, rating_period_days, RATINGS, rating_label
from bot.rules.statuses import CLOSED
from bot.store.cases import add_audit
from bot.store.models import Case, CaseRating, Notification

AUDIT_ACTION = "case_rated"


class RatingError(ValueError):
    """A rating that cannot be recorded; ``message`` is Chinese (for the citizen or staff)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_answered(case: Case) -> bool:
    """The case may be rated: it has had its written reply, or it is closed."""
    return case.replied_at is not None or case.status == CLOSED or case.closed_at is not None


async def rating_of(session: AsyncSession, case_id: int) -> CaseRating | None:
    return await session.scalar(select(CaseRating).where(CaseRating.case_id == case_id))


async def record_rating(
    session: AsyncSession,
    case: Case,
    rating: str,
    comment: str | None,
    channel: str,
    conversation_id: str,
    now: datetime,
) -> CaseRating:
    """Record the citizen's rating of ``case``; ``RatingError`` for an unknown value, a case not
    answered yet, or a case already rated. Flushes, no commit."""
    if rating not in RATINGS:
        raise RatingError("评价应为“满意”“基本满意”或“不满意”之一。")
    if not is_answered(case):
        raise RatingError(f"信访件{case.case_no}尚未书面答复，暂不能评价。")
    if await rating_of(session, case.id) is not None:
        raise RatingError(f"信访件{case.case_no}已经评价过，评价结果不能更改。")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise RatingError(f"评价意见不能超过{COMMENT_MAX}个字。")
    record = CaseRating(case_id=case.id, rating=rating, comment=comment, rated_at=now,
                        channel=channel, conversation_id=conversation_id)
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:  # rated at the same moment from another conversation
        raise RatingError(f"信访件{case.case_no}已经评价过，评价结果不能更改。") from None
    await add_audit(session, actor=f"citizen:{channel}", action=AUDIT_ACTION, case_id=case.id,
                    detail={"rating": rating, "label": rating_label(rating)}, now=now)
    await session.flush()
    return record


def answered_on(case: Case) -> date | None:
    """The day the rating period starts: the written reply delivered (as the 复查 window of
    第三十五条), else the day the case was closed."""
    if case.reply_delivered_on is not None:
        return case.reply_delivered_on
    if case.closed_at is not None:
        return local_date(case.closed_at)
    return None


def rating_due(case: Case) -> date | None:
    """The last day the citizen is asked to rate ``case`` (``rating_period_days`` after the reply)."""
    start = answered_on(case)
    return start + timedelta(days=rating_period_days()) if start is not None else None


def is_open(case: Case, rating: CaseRating | None, today: date) -> bool:
    """The citizen may rate ``case`` today: answered, not rated yet, within the period."""
    due = rating_due(case)
    return is_answered(case) and rating is None and due is not None and today <= due


async def needs_rating_request(session: AsyncSession, case: Case) -> bool:
    """Closed with its reply delivered, not rated, and not invited before."""
    if case.status != CLOSED or case.reply_delivered_on is None:
        return False
    if await rating_of(session, case.id) is not None:
        return False
    invited = await session.scalar(
        select(Notification.id).where(Notification.case_id == case.id, Notification.kind == RATING_REQUEST_KIND)
    )
    return invited is None


async def ratings_of_conversation(
    session: AsyncSession, conversation_id: str, today: date
) -> list[tuple[Case, CaseRating | None, bool]]:
    """The answered cases filed from a conversation (newest first), each with its rating and
    whether it can be rated today."""
    cases = list(await session.scalars(
        select(Case).where(Case.conversation_id == conversation_id).order_by(Case.created_at.desc(), Case.id.desc())
    ))
    out = []
    for case in cases:
        if not is_answered(case):
            continue
        rating = await rating_of(session, case.id)
        out.append((case, rating, is_open(case, rating, today)))
    return out


async def rating_state(session: AsyncSession, case: Case, today: date) -> dict[str, Any] | None:
    """The rating part of the citizen's status lookup: ``None`` before the case is answered;
    else the rating given (label or ``None``), whether it can be rated today and until when —
    so a lookup from another chat or device offers the rating too (第二十一条)."""
    if not is_answered(case):
        return None
    rating = await rating_of(session, case.id)
    due = rating_due(case)
    return {
        "rating": rating_label(rating.rating) if rating else None,
        "open": is_open(case, rating, today),
        "due": due.isoformat() if due else None,
    }


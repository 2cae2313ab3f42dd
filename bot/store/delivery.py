"""When the citizen received the written reply and the 复查 opinion.

The 30-day windows to request 复查 (第35条) and 复核 (第36条) run from the day the citizen
received the document, never from the day staff recorded it; a window ending on a day off runs
to the next working day (bot.rules.deadlines.review_request_due). Staff record the delivery
(method and date) with the reply or later (a letter arrives days after); a reply or opinion
shown to the citizen in the chat counts as delivered on the day it is shown.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.cn_dates import cn_date
from bot.rules.deadlines import local_date, review_request_due
from bot.store.models import Case, CaseEvent, Notification

# Notification kinds that carry a document whose delivery starts the citizen's window.
REPLY_KIND = "replied"
REVIEW_OPINION_KIND = "reviewed"
CHAT_DELIVERY_ACTION = "chat_delivery"


def set_reply_delivered(case: Case, delivered_on: date) -> date:
    """Record the day the written reply was received; returns the last day to request 复查."""
    case.reply_delivered_on = delivered_on
    case.review_request_due = review_request_due(delivered_on)
    return case.review_request_due


def set_review_opinion_delivered(case: Case, delivered_on: date) -> date:
    """Record the day the 复查 opinion was received; returns the last day to request 复核."""
    case.review_opinion_delivered_on = delivered_on
    case.recheck_request_due = review_request_due(delivered_on)
    return case.recheck_request_due


async def record_chat_delivery(
    session: AsyncSession, notification: Notification, case: Case, *, now: datetime, whole: bool
) -> date | None:
    """The reply / 复查 opinion of ``notification`` was shown to the citizen in the chat.

    Sets the delivery date (today) when none is recorded yet and the message carried the
    whole document (``whole``); returns the new request deadline, or None when nothing
    changed. Records the delivery in the case history. Flushes, no commit.
    """
    today = local_date(now)
    if notification.kind == REPLY_KIND:
        if case.reply_delivered_on is not None or case.review_requested_on is not None or not whole:
            return None
        due = set_reply_delivered(case, today)
        note = f"书面答复已在线对话中送达信访人（{cn_date(today)}），复查请求期限至{cn_date(due)}"
    elif notification.kind == REVIEW_OPINION_KIND:
        if (case.review_opinion_delivered_on is not None or case.recheck_requested_on is not None
                or not whole):
            return None
        due = set_review_opinion_delivered(case, today)
        note = f"复查意见已在线对话中送达信访人（{cn_date(today)}），复核请求期限至{cn_date(due)}"
    else:
        return None
    case.updated_at = now
    session.add(
        CaseEvent(case_id=case.id, at=now, actor="system", action=CHAT_DELIVERY_ACTION,
                  from_status=case.status, to_status=case.status, note=note)
    )
    await session.flush()
    return due

"""Notifications of the citizen about their case: the text, and the delivery bookkeeping.

A workflow step queues its notification in the same transaction as the step itself, so a step
is never lost because a message could not be sent; delivery (bot/console/notifier.py) then
claims the row, sends it through Rasa and records the outcome. Failed deliveries are retried
with a growing delay and stay visible in the console until sent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.cn_dates import cn_date
from bot.rules.deadlines import review_request_due
from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.workflow import follows_own_procedure
from bot.store.delivery import REPLY_KIND, REVIEW_OPINION_KIND, record_chat_delivery
from bot.store.models import Case, Notification
from bot.rules.ratings import RATING_REQUEST_KIND
from bot.rules.reception import REMINDER_KIND
from bot.store.ratings import rating_due

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"

# The invitation to rate the handling (第二十一条), once the case is closed and its reply delivered.
RATING_REQUEST = RATING_REQUEST_KIND

VIA_ASSISTANT = "assistant"  # the assistant said it (trigger_intent -> action_notify_case_update)
VIA_BOT_EVENT = "bot_event"  # appended as a bot message (conversation paused or in a form)

KIND_LABELS = {
    "accepted": "受理告知",
    "not_accepted": "不予受理告知",
    "assigned": "交办告知",
    "extended": "延期告知",
    "replied": "书面答复",
    "closed": "办结告知",
    "review_requested": "复查请求登记告知",
    "reviewed": "复查意见",
    "recheck_requested": "复核请求登记告知",
    "rechecked": "复核意见",
    RATING_REQUEST: "评价邀请",
    REMINDER_KIND: "领导接访提醒",
}
DELIVERY_STATUS_LABELS = {PENDING: "待发送", SENDING: "发送中", SENT: "已送达", FAILED: "发送失败"}

# Chat messages stay readable; the full written reply is the official document.
CHAT_TEXT_MAX = 1500
MAX_RETRY_DELAY = timedelta(hours=1)
ERROR_MAX = 255


_cn = cn_date


def _excerpt(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) <= CHAT_TEXT_MAX:
        return text
    return text[:CHAT_TEXT_MAX] + "……（内容较长，以书面答复全文为准）"


# Documents whose delivery starts the citizen's 复查/复核 window, and what they are called.
DOCUMENT_KINDS = {REPLY_KIND: "书面答复", REVIEW_OPINION_KIND: "复查意见"}
ROLL_OVER = "期满日遇法定节假日或休息日的，顺延至其后的第一个工作日"


def carries_whole_document(kind: str, case: Case) -> bool:
    """Whether the chat message of ``kind`` holds the whole reply / 复查 opinion (a long one is
    cut, and then the message does not deliver it)."""
    text = case.reply_text if kind == REPLY_KIND else case.review_opinion
    return len((text or "").strip()) <= CHAT_TEXT_MAX


def _window(kind: str, case: Case, today: date | None) -> str:
    """When the 复查/复核 window of a reply / 复查 opinion ends, as the message can tell it."""
    document = DOCUMENT_KINDS[kind]
    action = "复查" if kind == REPLY_KIND else "复核"
    delivered = case.reply_delivered_on if kind == REPLY_KIND else case.review_opinion_delivered_on
    if delivered is not None:
        return f"您于{_cn(delivered)}收到{document}，请求{action}的期限至{_cn(review_request_due(delivered))}。"
    if today is not None and carries_whole_document(kind, case):
        return (
            f"本消息即向您送达{document}，请求{action}的期限自今天（{_cn(today)}）起算，"
            f"至{_cn(review_request_due(today))}。"
        )
    return f"{document}全文将另行送达，请求{action}的期限自您收到之日起计算。"


def compose_notification(kind: str, case: Case, today: date | None = None) -> str:
    """The polite Chinese message telling the citizen what happened, what comes next, by
    when, and under which article of 《信访工作条例》.

    ``today`` is the day the message is (to be) shown: a reply or 复查 opinion shown in the
    chat is delivered that day, and its request window is counted from it.
    """
    j = load_jurisdiction()
    head = f"【信访件办理进度】您好！您反映的事项（信访件编号：{case.case_no}）"
    lookup = "您可以随时说「查一下我的信访件」查询办理进度。"
    own = follows_own_procedure(case)
    if kind == "accepted" and own:
        return (
            f"{head}已于{_cn(case.accepted_at)}受理，正在办理。依据《信访工作条例》第二十三条，现告知"
            "接收情况以及处理途径和程序：该事项涉及诉讼、仲裁、行政复议等法定程序，依照相应法定程序"
            "处理（第二十二条、第三十一条），办理期限按该程序自身的规定，不适用第三十四条60日的"
            f"办结期限。请留意上诉、申请再审、申请仲裁、申请行政复议等法定期限，不要因为信访而耽误。{lookup}"
        )
    if kind == "accepted":
        return (
            f"{head}已于{_cn(case.accepted_at)}受理，正在办理。依据《信访工作条例》第二十三条，现告知"
            "接收情况以及处理途径和程序：该事项将调查核实后出具处理意见（第三十一条第（六）项）；"
            f"依据第三十四条，自受理之日起60日内，即{_cn(case.handling_due)}前办结并书面答复您；"
            f"情况复杂的，经本机关负责人批准可以延长，延长不超过30日，并会告知您延期理由。{lookup}"
        )
    if kind == "assigned" and own:
        return (
            f"{head}已交由{case.responsible_unit}办理（《信访工作条例》第二十二条），依照相应法定程序"
            f"的期限办理（第三十一条），不适用第三十四条60日的办结期限。{lookup}"
        )
    if kind == "assigned":
        return (
            f"{head}已交由{case.responsible_unit}办理（《信访工作条例》第二十二条）。"
            f"办结并书面答复的期限至{_cn(case.handling_due)}（第三十四条：受理之日起60日）。{lookup}"
        )
    if kind == "not_accepted":
        return (
            f"{head}经审查，不作为信访事项受理。理由：{case.not_accepted_reason}\n"
            f"依据《信访工作条例》第二十二条、第三十一条（诉访分离），该事项请通过以下渠道依法解决："
            f"{case.referred_to}。办理期限依照该程序自身的规定，不适用第三十四条60日的办结期限。"
            f"如有疑问，可拨打{j.hotline}咨询。"
        )
    if kind == "extended":
        return (
            f"{head}情况较为复杂，经本机关负责人批准，办理期限延长至{_cn(case.handling_due)}"
            f"（《信访工作条例》第三十四条，延长不超过30日）。延期理由：{case.extension_reason}"
        )
    if kind == "replied":
        return (
            f"{head}已作出书面答复：\n{_excerpt(case.reply_text)}\n"
            f"如您对处理意见不服，依据《信访工作条例》第三十五条，可以自收到书面答复之日起30日内"
            f"向原办理机关的上一级机关请求复查（{ROLL_OVER}）。{_window(kind, case, today)}"
        )
    if kind == "closed":
        return f"{head}已办结。感谢您对信访工作的理解和支持。{lookup}"
    if kind == "review_requested":
        return (
            f"{head}的复查请求已于{_cn(case.review_requested_on)}登记。依据《信访工作条例》第三十五条，"
            f"复查机关将自收到请求之日起30日内（{_cn(case.review_opinion_due)}前）提出复查意见。"
        )
    if kind == "reviewed":
        return (
            f"{head}的复查意见如下：\n{_excerpt(case.review_opinion)}\n"
            f"如您对复查意见不服，依据《信访工作条例》第三十六条，可以自收到复查意见之日起30日内"
            f"向复查机关的上一级机关请求复核（{ROLL_OVER}）。{_window(kind, case, today)}"
        )
    if kind == "recheck_requested":
        return (
            f"{head}的复核请求已于{_cn(case.recheck_requested_on)}登记。依据《信访工作条例》第三十六条，"
            f"复核机关将自收到请求之日起30日内（{_cn(case.recheck_opinion_due)}前）提出复核意见。"
        )
    if kind == "rechecked":
        return (
            f"{head}的复核意见如下：\n{_excerpt(case.recheck_opinion)}\n"
            "依据《信访工作条例》第三十六条，复核后信访人仍以同一事实和理由提出的，各级机关不再受理。"
            "如您确有困难，当地仍会提供政策咨询、矛盾调解和帮扶救助（第三十七条）。"
        )
    if kind == RATING_REQUEST:
        due = rating_due(case)
        return (
            f"{head}已办结。依据《信访工作条例》第二十一条，您可以对办理情况作出评价：满意、基本满意或不满意，"
            f"也可以附上具体意见。请点击下方按钮评价；没有看到按钮的，请回复「我要评价」。"
            + (f"评价请在{_cn(due)}前作出。" if due else "")
        )
    raise ValueError(f"unknown notification kind {kind!r}")


async def queue_notification(
    session: AsyncSession, case: Case, kind: str, text: str, *, actor: str, now: datetime
) -> Notification:
    row = Notification(
        case_id=case.id,
        kind=kind,
        text=text,
        conversation_id=case.conversation_id,
        status=PENDING,
        attempts=0,
        created_at=now,
        created_by=actor,
        next_attempt_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_notification(session: AsyncSession, notification_id: int) -> Notification | None:
    return await session.get(Notification, notification_id)


async def notifications_of(session: AsyncSession, case_id: int) -> list[Notification]:
    return list(
        await session.scalars(
            select(Notification).where(Notification.case_id == case_id).order_by(Notification.id)
        )
    )


async def claim(session: AsyncSession, notification_id: int, *, now: datetime, lease: timedelta) -> bool:
    """Take the notification for delivery; False when sent or held by another worker."""
    result = await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status.in_((PENDING, FAILED, SENDING)),
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .values(status=SENDING, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def refresh_for_delivery(notification: Notification, case: Case, today: date) -> bool:
    """Before a reply / 复查 opinion is sent: its request window is counted from the day it is
    shown, so the text is composed again for ``today``. True when the text changed."""
    if notification.kind not in DOCUMENT_KINDS:
        return False
    text = compose_notification(notification.kind, case, today)
    if text == notification.text:
        return False
    notification.text = text
    return True


async def mark_sent(session: AsyncSession, notification_id: int, *, via: str, now: datetime) -> None:
    """The notification reached the citizen's conversation; a reply or 复查 opinion it carried
    counts as delivered today (bot.store.delivery). Flushes, no commit."""
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(
            status=SENT,
            via=via,
            sent_at=now,
            attempts=Notification.attempts + 1,
            claimed_until=None,
            next_attempt_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    notification = await session.get(Notification, notification_id)
    if notification is not None and notification.kind in DOCUMENT_KINDS:
        case = await session.get(Case, notification.case_id)
        await record_chat_delivery(
            session, notification, case, now=now,
            whole=carries_whole_document(notification.kind, case),
        )


async def mark_failed(
    session: AsyncSession,
    notification: Notification,
    *,
    error: str,
    now: datetime,
    retry_delay: timedelta,
    max_attempts: int,
) -> None:
    """Record a failed attempt and when to try again (never again after ``max_attempts``)."""
    attempts = notification.attempts + 1
    delay = min(retry_delay * (2 ** (attempts - 1)), MAX_RETRY_DELAY)
    await session.execute(
        update(Notification)
        .where(Notification.id == notification.id)
        .values(
            status=FAILED,
            attempts=attempts,
            last_error=error[:ERROR_MAX],
            claimed_until=None,
            next_attempt_at=now + delay if attempts < max_attempts else None,
        )
        .execution_options(synchronize_session=False)
    )


async def due_for_delivery(session: AsyncSession, now: datetime, limit: int = 50) -> list[int]:
    """Notifications to (re)try now: pending/failed ones whose time has come, and ones a
    crashed worker left in "sending" after its lease ran out."""
    rows = await session.scalars(
        select(Notification.id)
        .where(
            or_(
                Notification.status.in_((PENDING, FAILED)) & (Notification.next_attempt_at <= now),
                (Notification.status == SENDING) & (Notification.claimed_until < now),
            )
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return list(rows)


async def request_resend(session: AsyncSession, notification: Notification, now: datetime) -> bool:
    """Staff asked to send a failed notification again (now)."""
    if notification.status not in (FAILED, PENDING):
        return False
    notification.status = PENDING
    notification.next_attempt_at = now
    await session.flush()
    return True


async def undelivered(session: AsyncSession, limit: int = 100) -> list[tuple[Notification, str]]:
    """Failed notifications with their case numbers (for the console's attention list)."""
    rows = await session.execute(
        select(Notification, Case.case_no)
        .join(Case, Case.id == Notification.case_id)
        .where(Notification.status == FAILED)
        .order_by(Notification.created_at.desc())
        .limit(limit)
    )
    return [(n, no) for n, no in rows]

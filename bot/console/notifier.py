"""Delivery of citizen notifications through Rasa, with retries.

A workflow step commits its notification row first; ``Notifier.schedule`` then delivers it
in the background (the console waits a moment so the officer usually sees the outcome), and
``run_retries`` picks up anything still pending or failed. A delivery failure is recorded on
the row, never raised into the workflow.

How a notification reaches the citizen:
1. If a member of staff has taken over the conversation, Rasa has paused it, or a form is in
   progress, it is appended as a bot message (delivered, and shown in the transcript) so the
   conversation's state is not disturbed.
2. Otherwise the external intent ``EXTERNAL_case_update`` is triggered: the assistant's rule
   runs ``action_notify_case_update``, which reads the text from the back office and says it.
3. If the assistant did not say it (e.g. the action server is down), it is appended as a bot
   message.

A written reply or 复查 opinion counts as delivered on the day its message reaches the
conversation: its text is composed again for that day before sending, and ``mark_sent``
records the delivery date from which the citizen's 复查/复核 window runs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.console.keys import RASA
from bot.console.rasa import RasaError, bot_event
from bot.rules.deadlines import local_date
from bot.store import handoffs as store_handoffs
from bot.store import notifications as store
from bot.store.models import Case, Notification
from bot.web.keys import CLOCK, SESSIONMAKER, SETTINGS

log = logging.getLogger(__name__)

EXTERNAL_INTENT = "EXTERNAL_case_update"
LEASE = timedelta(seconds=90)
# How long a console request waits for the delivery before answering the officer.
INLINE_WAIT_SECONDS = 4.0


def said_by_assistant(response: dict[str, Any], notification_id: int, text: str) -> bool:
    """Whether the tracker returned by trigger_intent shows the assistant saying the text
    after the external event of this notification."""
    events = ((response or {}).get("tracker") or {}).get("events") or []
    start = None
    for index, event in enumerate(events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") != EXTERNAL_INTENT:
            continue
        for entity in parse.get("entities") or []:
            if entity.get("entity") == "notification_id" and str(entity.get("value")) == str(notification_id):
                start = index
    if start is None:
        return False
    return any(
        e.get("event") == "bot" and (e.get("text") or "").strip() == text.strip()
        for e in events[start + 1:]
    )


class Notifier:
    def __init__(self, app: web.Application):
        self.app = app
        self.tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None

    # --- delivery ------------------------------------------------------------------------
    async def deliver(self, notification_id: int) -> str | None:
        """Try to deliver one notification now; returns its status afterwards."""
        app = self.app
        sessionmaker, clock = app[SESSIONMAKER], app[CLOCK]
        async with sessionmaker() as session:
            if not await store.claim(session, notification_id, now=clock(), lease=LEASE):
                await session.rollback()
                row = await session.get(Notification, notification_id)
                return row.status if row else None
            await session.commit()
            notification = await session.get(Notification, notification_id)
            case = await session.get(Case, notification.case_id)
            # A reply or 复查 opinion is delivered when shown: its window counts from today.
            store.refresh_for_delivery(notification, case, local_date(clock()))
            handoff = await store_handoffs.open_handoff(session, notification.conversation_id)
            taken_over = handoff is not None and handoff.status == store_handoffs.ACTIVE
            await session.commit()
        try:
            via = await self._send(notification, case.case_no, taken_over)
        except RasaError as exc:
            settings = app[SETTINGS]
            async with sessionmaker() as session:
                await store.mark_failed(
                    session,
                    notification,
                    error=str(exc),
                    now=clock(),
                    retry_delay=timedelta(seconds=settings.notify_retry_seconds),
                    max_attempts=settings.notify_max_attempts,
                )
                await session.commit()
            log.warning(
                "notification %s of case %s not delivered: %s", notification_id, case.case_no, exc
            )
            return store.FAILED
        async with sessionmaker() as session:
            await store.mark_sent(session, notification_id, via=via, now=clock())
            await session.commit()
        log.info("notification %s of case %s delivered (%s)", notification_id, case.case_no, via)
        return store.SENT

    async def _send(self, notification: Notification, case_no: str, taken_over: bool) -> str:
        rasa = self.app[RASA]
        conversation = notification.conversation_id
        metadata = {"notification_id": notification.id, "case_no": case_no, "source": "backoffice"}
        state = await rasa.tracker_state(conversation)
        in_form = bool((state.get("active_loop") or {}).get("name"))
        if taken_over or state.get("paused") or in_form:
            await rasa.append_events(conversation, [bot_event(notification.text, metadata)])
            return store.VIA_BOT_EVENT
        response = await rasa.trigger_intent(
            conversation,
            EXTERNAL_INTENT,
            {"case_no": case_no, "notification_id": str(notification.id)},
        )
        if said_by_assistant(response, notification.id, notification.text):
            return store.VIA_ASSISTANT
        log.info("notification %s: the assistant did not say it, appending it", notification.id)
        await rasa.append_events(conversation, [bot_event(notification.text, metadata)])
        return store.VIA_BOT_EVENT

    # --- scheduling ------------------------------------------------------------------------
    def schedule(self, notification_id: int) -> asyncio.Task:
        task = asyncio.create_task(self._guarded(notification_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _guarded(self, notification_id: int) -> str | None:
        try:
            return await self.deliver(notification_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # the retry loop will pick it up; never lose the workflow step
            log.exception("notification %s: delivery crashed", notification_id)
            return None

    async def deliver_soon(self, notification_id: int, wait: float = INLINE_WAIT_SECONDS) -> str | None:
        """Start the delivery and wait up to ``wait`` seconds for its outcome."""
        task = self.schedule(notification_id)
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait)
        except asyncio.TimeoutError:
            return store.SENDING

    async def retry_due(self) -> int:
        """Deliver every notification whose (re)try time has come; returns how many."""
        async with self.app[SESSIONMAKER]() as session:
            due = await store.due_for_delivery(session, self.app[CLOCK]())
        for notification_id in due:
            await self._guarded(notification_id)
        return len(due)

    async def _retry_loop(self) -> None:
        interval = max(5, min(60, self.app[SETTINGS].notify_retry_seconds))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.retry_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be down for a while
                log.warning("notification retry pass failed (%s)", type(exc).__name__)

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._retry_loop())

    async def close(self) -> None:
        tasks = list(self.tasks)
        if self._loop_task is not None:
            tasks.append(self._loop_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass


# The notifier of the running application (started and stopped with the console).
NOTIFIER = web.AppKey("notifier", Notifier)

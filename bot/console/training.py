"""Conversation review: an index of every conversation in the tracker store (with its fallback
and low-confidence turns), labels officers give to turns, and their export as Rasa NLU YAML.

The index lives in the case store and is brought up to date incrementally: ``sync_index``
reads the tracker's ``events`` rows after the last one it saw. The watermark is advanced with
a compare-and-set in the same transaction as the counts, so two workers syncing at once never
count an event twice. If the tracker store was emptied (its ids went back), the index is
rebuilt from scratch.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.rules.masking import anonymize_numbers_in_text
from bot.store.models import Case, ConversationIndex, NluAnnotation, TrackerSync
from bot.store.transcripts import (
    EVENTS,
    FALLBACK_ACTIONS,
    FALLBACK_INTENT,
    TrackerUnavailable,
    _at,
    _data,
    decrypted_rows,
    is_external,
    user_turn,
)

log = logging.getLogger(__name__)

SYNC_BATCH = 5000
# Seconds an event must be old before the index takes it (see sync_index).
SETTLE_SECONDS = 5.0
SYNC_ROW_ID = 1
INTENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z0-9_]+)?$")
# Shipped with the back office (generated from the Rasa project by `make intents`).
INTENTS_FILE = Path(__file__).with_name("intents.yml")


# --- intents an officer may choose --------------------------------------------------------


@lru_cache(maxsize=4)
def _intents_from(path: str) -> tuple[str, ...]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return tuple(str(name) for name in doc.get("intents") or ())


def intent_choices() -> tuple[str, ...]:
    """The intents of the assistant (domain.yml) and the retrieval sub-intents such as
    faq/time_limits, from the list shipped beside this module (never from domain.yml, which the
    back office's image does not contain)."""
    return _intents_from(str(INTENTS_FILE))


def valid_intent(name: str) -> bool:
    choices = intent_choices()
    if choices:
        return name in choices
    return bool(INTENT_RE.match(name))


# --- the index ------------------------------------------------------------------------------


@dataclass
class _Counts:
    channel: str | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    user_turns: int = 0
    fallback_turns: int = 0
    low_confidence_turns: int = 0
    last_event_id: int = 0


async def _tracker_rows(tracker: AsyncEngine, after: int) -> tuple[list[Any], int]:
    query = (
        select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp,
               EVENTS.c.intent_name, EVENTS.c.action_name, EVENTS.c.data)
        .where(
            EVENTS.c.id > after,
            or_(
                EVENTS.c.type_name.in_(("user", "bot")),
                (EVENTS.c.type_name == "action") & EVENTS.c.action_name.in_(FALLBACK_ACTIONS),
            ),
        )
        .order_by(EVENTS.c.id)
        .limit(SYNC_BATCH)
    )
    try:
        async with tracker.connect() as conn:
            rows = list((await conn.execute(query)).all())
            max_id = int((await conn.execute(select(func.max(EVENTS.c.id)))).scalar() or 0)
    except Exception as exc:
        log.warning("tracker store not readable (%s)", type(exc).__name__)
        raise TrackerUnavailable(type(exc).__name__) from None
    return decrypted_rows(tracker, rows), max_id


def _count(rows: list[Any]) -> dict[str, _Counts]:
    counts: dict[str, _Counts] = defaultdict(_Counts)
    for row in rows:
        c = counts[row.sender_id]
        at = _at(row.timestamp)
        c.first_at = at if c.first_at is None else min(c.first_at, at)
        c.last_at = at if c.last_at is None else max(c.last_at, at)
        c.last_event_id = max(c.last_event_id, row.id)
        if row.type_name == "action":
            c.fallback_turns += 1
            continue
        if row.type_name != "user":
            continue
        data = _data(row.data)
        if is_external(data, row.intent_name):
            continue
        turn = user_turn(row.id, row.timestamp, data)
        c.user_turns += 1
        c.channel = turn.channel or c.channel
        if turn.intent == FALLBACK_INTENT:
            c.fallback_turns += 1
        elif turn.low_confidence:
            c.low_confidence_turns += 1
    return counts


async def _watermark(session: AsyncSession) -> int:
    row = await session.get(TrackerSync, SYNC_ROW_ID)
    if row is None:
        session.add(TrackerSync(id=SYNC_ROW_ID, last_event_id=0))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        return 0
    return row.last_event_id


async def sync_index(session: AsyncSession, tracker: AsyncEngine, *, now: datetime,
                     settle_seconds: float = SETTLE_SECONDS, max_batches: int = 20) -> int:
    """Bring the conversation index up to date; returns the number of events read. Commits.

    Events younger than ``settle_seconds`` are left for the next sync: a concurrent Rasa
    worker may still commit an event with a smaller id, which would otherwise be skipped.
    """
    total = 0
    cutoff = now.timestamp() - settle_seconds
    for _ in range(max_batches):
        after = await _watermark(session)
        await session.commit()  # end the read transaction before reading the tracker
        rows, max_id = await _tracker_rows(tracker, after)
        if max_id < after:  # the tracker store was emptied: rebuild
            log.info("tracker store restarted (max id %s < %s): rebuilding the index", max_id, after)
            await session.execute(delete(ConversationIndex))
            await session.execute(
                update(TrackerSync).where(TrackerSync.id == SYNC_ROW_ID)
                .values(last_event_id=0, synced_at=now)
            )
            await session.commit()
            continue
        full_batch = len(rows) == SYNC_BATCH
        settled = []
        for row in rows:
            if (row.timestamp or 0) > cutoff:
                break
            settled.append(row)
        if not settled:
            return total
        new_mark = settled[-1].id
        # Compare-and-set first: a concurrent sync blocks here and then finds nothing to do.
        moved = await session.execute(
            update(TrackerSync)
            .where(TrackerSync.id == SYNC_ROW_ID, TrackerSync.last_event_id == after)
            .values(last_event_id=new_mark, synced_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            await session.rollback()
            continue
        counts = _count(settled)
        existing = {
            row.sender_id: row
            for row in await session.scalars(
                select(ConversationIndex).where(ConversationIndex.sender_id.in_(list(counts)))
            )
        }
        for sender, c in counts.items():
            row = existing.get(sender)
            if row is None:
                await session.execute(
                    insert(ConversationIndex).values(
                        sender_id=sender[:255], channel=c.channel, first_at=c.first_at,
                        last_at=c.last_at, user_turns=c.user_turns,
                        fallback_turns=c.fallback_turns,
                        low_confidence_turns=c.low_confidence_turns,
                        last_event_id=c.last_event_id,
                    )
                )
            else:
                row.channel = c.channel or row.channel
                row.first_at = min(row.first_at, c.first_at)
                row.last_at = max(row.last_at, c.last_at)
                row.user_turns += c.user_turns
                row.fallback_turns += c.fallback_turns
                row.low_confidence_turns += c.low_confidence_turns
                row.last_event_id = max(row.last_event_id, c.last_event_id)
        await session.commit()
        total += len(settled)
        if not full_batch or len(settled) < len(rows):
            return total
    return total


@dataclass
class ConversationRow:
    index: ConversationIndex
    case_nos: list[str]
    labelled: int


async def list_conversations(
    session: AsyncSession,
    *,
    needs_review: bool = False,
    with_case: str = "",
    query: str = "",
    page: int = 1,
    per_page: int = 50,
    scope: Sequence[Any] = (),
) -> tuple[list[ConversationRow], int]:
    """Conversations newest first, with the cases they filed; (rows, total). ``scope``: the
    caller's conditions on the sender id (bot/store/visibility.conversation_scope)."""
    conditions = list(scope)
    if needs_review:
        conditions.append(
            (ConversationIndex.fallback_turns > 0) | (ConversationIndex.low_confidence_turns > 0)
        )
    has_case = exists().where(Case.conversation_id == ConversationIndex.sender_id)
    if with_case == "yes":
        conditions.append(has_case)
    elif with_case == "no":
        conditions.append(~has_case)
    if query:
        like = f"%{_escape_like(query)}%"
        conditions.append(ConversationIndex.sender_id.like(like, escape="\\"))
    total = int(
        await session.scalar(select(func.count()).select_from(ConversationIndex).where(*conditions))
        or 0
    )
    rows = list(
        await session.scalars(
            select(ConversationIndex)
            .where(*conditions)
            .order_by(ConversationIndex.last_at.desc(), ConversationIndex.sender_id)
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page)
        )
    )
    senders = [r.sender_id for r in rows]
    cases: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, int] = {}
    if senders:
        for conv, case_no in await session.execute(
            select(Case.conversation_id, Case.case_no)
            .where(Case.conversation_id.in_(senders))
            .order_by(Case.id)
        ):
            cases[conv].append(case_no)
        for sender, count in await session.execute(
            select(NluAnnotation.sender_id, func.count())
            .where(NluAnnotation.sender_id.in_(senders))
            .group_by(NluAnnotation.sender_id)
        ):
            labels[sender] = int(count)
    return [ConversationRow(r, cases.get(r.sender_id, []), labels.get(r.sender_id, 0)) for r in rows], total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- labels ---------------------------------------------------------------------------------


async def labels_of(session: AsyncSession, sender_id: str) -> dict[int, NluAnnotation]:
    rows = await session.scalars(select(NluAnnotation).where(NluAnnotation.sender_id == sender_id))
    return {row.event_id: row for row in rows}


async def set_label(
    session: AsyncSession,
    *,
    sender_id: str,
    event_id: int,
    text: str,
    predicted_intent: str | None,
    confidence: float | None,
    intent: str,
    actor: str,
    now: datetime,
) -> NluAnnotation:
    """Label a user turn with the right intent (replaces an earlier label). Flushes."""
    row = await session.scalar(
        select(NluAnnotation).where(
            NluAnnotation.sender_id == sender_id, NluAnnotation.event_id == event_id
        )
    )
    if row is None:
        row = NluAnnotation(sender_id=sender_id, event_id=event_id)
        session.add(row)
    row.text = anonymize_numbers_in_text(text)  # never a citizen's real number
    row.predicted_intent = predicted_intent
    row.confidence = confidence
    row.intent = intent
    row.labelled_by = actor
    row.labelled_at = now
    await session.flush()
    return row


async def remove_label(session: AsyncSession, sender_id: str, event_id: int) -> bool:
    result = await session.execute(
        delete(NluAnnotation).where(
            NluAnnotation.sender_id == sender_id, NluAnnotation.event_id == event_id
        )
    )
    return result.rowcount > 0


async def all_labels(
    session: AsyncSession, *, scope: Sequence[Any] = (), limit: int = 5000
) -> list[NluAnnotation]:
    """Every labelled turn the caller may see (``scope``: conditions on the sender id, from
    bot/store/visibility.conversation_scope)."""
    return list(
        await session.scalars(
            select(NluAnnotation).where(*scope)
            .order_by(NluAnnotation.intent, NluAnnotation.id).limit(limit)
        )
    )


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def export_nlu_yaml(labels: list[NluAnnotation]) -> str:
    """Rasa 3.x NLU training data (``version: "3.1"``) with one block per intent.

    Each example is one line; duplicates (same intent, same text) are written once. The
    texts are citizens' words: review them for personal data before committing them.
    """
    by_intent: dict[str, list[str]] = defaultdict(list)
    for label in labels:
        text = _one_line(anonymize_numbers_in_text(label.text))
        if text and text not in by_intent[label.intent]:
            by_intent[label.intent].append(text)
    lines = [
        "# Turns of real conversations labelled by staff in the console (conversation review).",
        "# Check them for personal data before adding them to data/nlu/.",
        'version: "3.1"',
        "nlu:",
    ]
    for intent in sorted(by_intent):
        lines.append(f"  - intent: {intent}")
        lines.append("    examples: |")
        lines.extend(f"      - {text}" for text in by_intent[intent])
    return "\n".join(lines) + "\n"

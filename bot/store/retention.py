"""Retention: what is kept, for how long, and what happens after (``python -m bot purge``).

The citizen is told before collection (PIPL 第17条) how long personal information is kept; this
module keeps that promise. One run, at a given ``now``:

- A case whose matter ended (办结: ``closed_at``; a case not accepted: ``not_accepted_at``)
  longer ago than the jurisdiction file's ``data_retention_years`` is **anonymised**: the
  petitioner's name, ID number (encrypted, blind index, masked), phone, address, the free texts
  that can hold personal data (facts, request, new facts, staff notes, reply and opinions), the
  respondent and the place as typed are cleared or replaced by ``ANONYMISED``. What the archive
  and the statistics need stays: case number, category, purpose, the resolved 街道/镇, dates,
  status and unit. The conversation id (a WeChat openid is personal data) becomes
  ``anonymised:<case_no>``. Its conversation (Rasa's tracker rows), its conversation index and
  NLU review rows, its notifications, handoffs, idempotency keys, the material added to it
  (repeat petitions) and the notes of its history
  are deleted; the citizen's rating keeps its value (statistics) but loses its comment and
  conversation id. ``anonymised_at`` marks it: a second run does nothing more to it.
- A conversation that never became a case and has been silent for ``unfiled_days`` is
  **deleted**: its tracker rows, conversation index, NLU review rows and handoffs.
- One audit entry per run records the counts (never who or what).

A citizen may also ask in the chat to delete what an unfiled conversation holds (PIPL 第47条):
``erase_conversation`` overwrites the personal content of that conversation's tracker rows in
place (texts, entities, slot values, metadata; event types and times stay; rows encrypted by
the tracker store, ``connectors/tracker_store.py``, are decrypted and encrypted again with
``TRACKER_ENCRYPTION_KEYS``). Rasa appends a
turn's events after the number of rows it finds stored, so the rows are rewritten rather than
deleted while the conversation is going on: deleting them would make Rasa store the whole
session again from its memory.

The tracker store is another database (TRACKER_DB_URL); its rows are deleted by ``sender_id``
before the case store's transaction is committed, so a failed run leaves nothing half done that
the next run would not finish.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, inspect, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.rules.fields import PERSONAL_SLOTS
from bot.rules.statuses import NOT_ACCEPTED
from bot.settings import normalize_database_url
from bot.store.cases import add_audit
from bot.store.crypto import DecryptionError, FieldCipher
from bot.store.db import make_engine
from bot.store.models import (
    Case,
    CaseMaterial,
    ReceptionBooking,
    CaseEvent,
    CaseRating,
    ConversationIndex,
    Handoff,
    IdempotencyKey,
    NluAnnotation,
    Notification,
)
from bot.store.transcripts import EVENTS

log = logging.getLogger(__name__)

ANONYMISED = "已匿名化"
AUDIT_ACTOR = "system:retention"
AUDIT_ACTION = "retention_purge"
ERASE_ACTION = "conversation_erased"
ERASED_TEXT = "（内容已应本人要求删除）"
_BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    """Counts of one run (what the audit entry and the command print)."""

    case_cutoff: str
    conversation_cutoff: str
    cases_anonymised: int = 0
    conversations_deleted: int = 0
    tracker_events_deleted: int = 0
    nlu_rows_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def years_before(now: datetime, years: int) -> datetime:
    """``now`` moved back by whole calendar years (29 February becomes 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def make_tracker_writer(url: str, schema: str = "") -> AsyncEngine | None:
    """A writable engine on Rasa's tracker store, or None when its SQLite file does not exist
    (Rasa never ran here: nothing to delete, and no empty file is created behind its back)."""
    normalized = normalize_database_url(url)
    parsed = make_url(normalized)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or not os.path.exists(path):
            return None
    return make_engine(normalized, schema=schema)


async def _has_events(tracker: AsyncEngine) -> bool:
    async with tracker.connect() as conn:
        return await conn.run_sync(lambda sync: inspect(sync).has_table("events"))


def _anonymised_values(case: Case) -> dict[str, Any]:
    return {
        "petitioner_name": ANONYMISED,
        "id_number_enc": None,
        "id_number_hmac": None,
        "id_number_masked": None,
        "phone_enc": None,
        "phone_masked": None,
        "phone_hmac": None,
        "address": ANONYMISED,
        "location_text": case.location_division or ANONYMISED,
        "respondent": None,
        "facts": ANONYMISED,
        "request": ANONYMISED,
        "new_facts": None,
        "not_accepted_reason": None,
        "extension_reason": None,
        "reply_text": None,
        "review_opinion": None,
        "recheck_opinion": None,
        "lead_note": None,
        "first_read_by": None,
        "conversation_id": f"anonymised:{case.case_no}",
    }


async def _delete_conversations(
    session: AsyncSession, tracker: AsyncEngine | None, senders: list[str]
) -> tuple[int, int]:
    """Delete the given conversations everywhere; (tracker events, NLU rows) deleted."""
    events = nlu = 0
    for start in range(0, len(senders), _BATCH):
        batch = senders[start : start + _BATCH]
        nlu += (
            await session.execute(delete(NluAnnotation).where(NluAnnotation.sender_id.in_(batch)))
        ).rowcount or 0
        await session.execute(delete(ConversationIndex).where(ConversationIndex.sender_id.in_(batch)))
        await session.execute(delete(Handoff).where(Handoff.conversation_id.in_(batch)))
        if tracker is not None:
            async with tracker.begin() as conn:
                events += (
                    await conn.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(batch)))
                ).rowcount or 0
    return events, nlu


async def _stale_unfiled(
    session: AsyncSession, tracker: AsyncEngine | None, cutoff: datetime
) -> list[str]:
    """Conversations silent since before ``cutoff`` that no case refers to."""
    stale: set[str] = set()
    fresh: set[str] = set()
    if tracker is not None:
        last = func.max(EVENTS.c.timestamp)
        async with tracker.connect() as conn:
            rows = await conn.execute(select(EVENTS.c.sender_id, last).group_by(EVENTS.c.sender_id))
            for sender, at in rows:
                (stale if at is not None and at < cutoff.timestamp() else fresh).add(sender)
    for sender in (
        await session.scalars(
            select(ConversationIndex.sender_id).where(ConversationIndex.last_at < cutoff)
        )
    ).all():
        if sender not in fresh:
            stale.add(sender)
    candidates = sorted(stale)
    filed: set[str] = set()
    for start in range(0, len(candidates), _BATCH):
        batch = candidates[start : start + _BATCH]
        filed.update(
            (await session.scalars(select(Case.conversation_id).where(Case.conversation_id.in_(batch)))).all()
        )
    return [s for s in candidates if s not in filed]


async def purge(
    session: AsyncSession,
    tracker: AsyncEngine | None,
    *,
    now: datetime,
    retention_years: int,
    unfiled_days: int,
) -> PurgeReport:
    """Anonymise the cases past the retention period and delete the conversations that are no
    longer needed; writes one audit entry. The caller commits ``session``."""
    if retention_years < 1 or unfiled_days < 1:
        raise ValueError("retention periods must be at least one year / one day")
    if tracker is not None and not await _has_events(tracker):
        tracker = None
    case_cutoff = years_before(now, retention_years)
    conversation_cutoff = now - timedelta(days=unfiled_days)

    ended = or_(
        Case.closed_at < case_cutoff,
        (Case.status == NOT_ACCEPTED) & (Case.not_accepted_at < case_cutoff),
    )
    cases = (
        await session.scalars(
            select(Case).where(Case.anonymised_at.is_(None), ended).order_by(Case.id).with_for_update()
        )
    ).all()
    senders = sorted({c.conversation_id for c in cases})
    for case in cases:
        values = _anonymised_values(case)
        await session.execute(delete(Notification).where(Notification.case_id == case.id))
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.case_id == case.id))
        await session.execute(delete(CaseMaterial).where(CaseMaterial.case_id == case.id))
        await session.execute(delete(ReceptionBooking).where(ReceptionBooking.case_id == case.id))
        await session.execute(update(CaseEvent).where(CaseEvent.case_id == case.id).values(note=None))
        # The rating stays for the statistics; its free-text comment and the conversation go.
        await session.execute(update(CaseRating).where(CaseRating.case_id == case.id).values(
            comment=None, conversation_id=f"anonymised:{case.case_no}"))
        for name, value in values.items():
            setattr(case, name, value)
        case.anonymised_at = now
    await session.flush()
    # A conversation may hold a later case that is still kept: its transcript stays.
    kept = set(
        (
            await session.scalars(
                select(Case.conversation_id).where(
                    Case.conversation_id.in_(senders), Case.anonymised_at.is_(None)
                )
            )
        ).all()
    ) if senders else set()
    case_senders = [s for s in senders if s not in kept]
    events, nlu = await _delete_conversations(session, tracker, case_senders)

    unfiled = await _stale_unfiled(session, tracker, conversation_cutoff)
    more_events, more_nlu = await _delete_conversations(session, tracker, unfiled)

    report = PurgeReport(
        case_cutoff=case_cutoff.isoformat(),
        conversation_cutoff=conversation_cutoff.isoformat(),
        cases_anonymised=len(cases),
        conversations_deleted=len(case_senders) + len(unfiled),
        tracker_events_deleted=events + more_events,
        nlu_rows_deleted=nlu + more_nlu,
    )
    await add_audit(
        session, actor=AUDIT_ACTOR, action=AUDIT_ACTION, case_id=None, detail=report.as_dict(), now=now
    )
    log.info("retention purge: %s", report.as_dict())
    return report


class ErasureUnavailable(RuntimeError):
    """The tracker rows are not plain JSON events (e.g. stored encrypted): nothing was erased."""


def erased_event(raw: str | None) -> str | None:
    """The stored event ``raw`` (JSON) without personal content, or None to leave it as it is.
    Raises ErasureUnavailable for a row that is not a JSON event, rather than keeping it and
    telling the citizen it was erased."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        raise ErasureUnavailable("a tracker row is not a JSON event") from None
    if not isinstance(data, dict):
        raise ErasureUnavailable("a tracker row is not a JSON event")
    kind = data.get("event")
    kept = {key: data[key] for key in ("event", "timestamp", "input_channel", "message_id") if key in data}
    if kind == "user":
        intent = (data.get("parse_data") or {}).get("intent") or {}
        intent = {k: intent[k] for k in ("name", "confidence") if k in intent}
        kept.update(text=ERASED_TEXT, parse_data={"intent": intent, "entities": [], "text": ERASED_TEXT})
    elif kind == "bot":
        kept.update(text=ERASED_TEXT, data={}, metadata={})
    elif kind == "slot":
        if data.get("name") not in PERSONAL_SLOTS:
            return None
        kept.update(name=data["name"], value=None)
    elif "metadata" in data:
        kept = {**data, "metadata": {}}
    else:
        return None
    return json.dumps(kept, ensure_ascii=False) if kept != data else None


def _erased_row(stored: str | None, cipher: FieldCipher | None) -> str | None:
    """The new ``events.data`` of a stored row (encrypted by the tracker store's keys, or
    plain JSON as Rasa's own store writes it), or None to leave the row as it is."""
    encrypted = bool(stored) and not (stored or "").lstrip().startswith("{")
    if encrypted:
        if cipher is None:
            raise ErasureUnavailable("tracker events are encrypted and no keys were given")
        try:
            stored = cipher.decrypt(stored or "")
        except DecryptionError:
            raise ErasureUnavailable("a tracker event cannot be decrypted") from None
    new = erased_event(stored)
    if new is None:
        return None
    return cipher.encrypt(new) if cipher is not None else new


async def erase_conversation(
    session: AsyncSession,
    tracker: AsyncEngine | None,
    sender_id: str,
    *,
    now: datetime,
    keys: tuple[str, ...] = (),
) -> int | None:
    """Remove what an unfiled conversation holds: its tracker rows' personal content and its
    NLU review rows. None (nothing changed) when a case was filed from it: a filed case is
    kept as an archive (the retention period) and only staff handle requests about it."""
    filed = await session.scalar(select(Case.id).where(Case.conversation_id == sender_id).limit(1))
    if filed is not None:
        return None
    await session.execute(delete(NluAnnotation).where(NluAnnotation.sender_id == sender_id))
    await session.execute(update(Handoff).where(Handoff.conversation_id == sender_id).values(reason=None))
    changed = 0
    cipher = FieldCipher(keys) if keys else None
    if tracker is not None and await _has_events(tracker):
        async with tracker.begin() as conn:
            rows = await conn.execute(
                select(EVENTS.c.id, EVENTS.c.data).where(EVENTS.c.sender_id == sender_id).with_for_update()
            )
            for event_id, raw in rows.all():
                new = _erased_row(raw, cipher)
                if new is not None:
                    await conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(data=new))
                    changed += 1
    await add_audit(
        session, actor="service", action=ERASE_ACTION, case_id=None, detail={"events_erased": changed}, now=now
    )
    return changed

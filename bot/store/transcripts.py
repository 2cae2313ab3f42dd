"""Transcripts read from Rasa's SQL tracker store (read only, SQLAlchemy Core).

Rasa's ``SQLTrackerStore`` keeps one row per event in ``events`` (id, sender_id, type_name,
timestamp, intent_name, action_name, data JSON). User turns carry ``parse_data`` with the
recognised intent, its confidence and the ranking; bot turns carry the text, buttons and any
metadata (the console marks officer replies with ``metadata.officer``). Rasa is never asked:
the back office reads the table directly, so transcripts work while Rasa is down.

``data`` is encrypted with the tracker store's keys (``TRACKER_ENCRYPTION_KEYS``, written by
``connectors/tracker_store.py``): a Fernet token of the event's JSON; rows of plain JSON
(written before encryption was configured) are read as they are. The engine made by
``make_tracker_engine`` knows the keys; every reader decrypts with ``decrypted_rows``.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.settings import normalize_database_url
from bot.store.crypto import DecryptionError, FieldCipher

log = logging.getLogger(__name__)

# The events table as Rasa 3.6 creates it (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent).
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# A user turn below this confidence is shown for review (the FallbackClassifier itself
# answers "not understood" below 0.45, see config.yml).
LOW_CONFIDENCE = 0.7
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
EXTERNAL_PREFIX = "EXTERNAL_"
MAX_TRANSCRIPT_EVENTS = 5000
# Event types a transcript shows (actions only when they are a fallback).
SHOWN_TYPES = ("user", "bot", "session_started", "pause", "resume", "action")

MARKERS = {
    "session_started": "新的会话开始",
    "pause": "工作人员已接入，助手暂停应答",
    "resume": "人工服务结束，助手恢复应答",
}


class TrackerUnavailable(RuntimeError):
    """The tracker store cannot be read (not created yet, or the database is down)."""


# The tracker store's keys of each engine made by make_tracker_engine.
_CIPHERS: "weakref.WeakKeyDictionary[AsyncEngine, FieldCipher]" = weakref.WeakKeyDictionary()


def make_tracker_engine(url: str, schema: str = "", keys: Sequence[str] = ()) -> AsyncEngine:
    """A read-only async engine on the tracker store; ``keys`` decrypt its events.

    SQLite files are opened read-only (``mode=ro``): a missing file is an error rather than
    an empty database created behind Rasa's back.
    """
    normalized = normalize_database_url(url)
    parsed = make_url(normalized)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        path = parsed.database or ""
        normalized = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
        connect_args["timeout"] = 30
    elif backend == "postgresql" and schema:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(
        normalized, connect_args=connect_args, pool_pre_ping=True, hide_parameters=True
    )
    if keys:
        _CIPHERS[engine] = FieldCipher(keys)
    return engine


def decrypt_event_data(engine: AsyncEngine, stored: str | None) -> str:
    """The event's JSON from an ``events.data`` value ("{}" when it cannot be read)."""
    if not stored or stored.lstrip().startswith("{"):
        return stored or "{}"
    cipher = _CIPHERS.get(engine)
    if cipher is None:
        log.warning("tracker events are encrypted but no TRACKER_ENCRYPTION_KEYS were given")
        return "{}"
    try:
        return cipher.decrypt(stored)
    except DecryptionError:
        log.warning("a tracker event cannot be decrypted with TRACKER_ENCRYPTION_KEYS")
        return "{}"


def decrypted_rows(engine: AsyncEngine, rows: Sequence[Any]) -> list[Any]:
    """``rows`` of ``events`` with ``data`` decrypted (same attribute names)."""
    decrypted = []
    for row in rows:
        values = row._asdict()
        if "data" in values:
            values["data"] = decrypt_event_data(engine, values["data"])
        decrypted.append(SimpleNamespace(**values))
    return decrypted


def _at(timestamp: float | None) -> datetime:
    return datetime.fromtimestamp(float(timestamp or 0), tz=timezone.utc)


@dataclass
class Turn:
    """One line of a transcript."""

    event_id: int
    kind: str  # "user", "bot" or "marker"
    at: datetime
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    ranking: list[tuple[str, float]] = field(default_factory=list)
    fallback: bool = False
    low_confidence: bool = False
    buttons: list[str] = field(default_factory=list)
    officer: str | None = None
    notification: bool = False
    channel: str | None = None

    @property
    def needs_review(self) -> bool:
        return self.fallback or self.low_confidence

    @property
    def best_guess(self) -> tuple[str | None, float | None]:
        """The most likely real intent (behind a fallback, the first one of the ranking)."""
        if self.intent != FALLBACK_INTENT:
            return self.intent, self.confidence
        for name, confidence in self.ranking:
            if name != FALLBACK_INTENT:
                return name, confidence
        return None, None


def _data(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def is_external(data: dict[str, Any], intent: str | None) -> bool:
    metadata = data.get("metadata") or {}
    return bool(metadata.get("is_external")) or bool(intent and intent.startswith(EXTERNAL_PREFIX))


def user_turn(event_id: int, timestamp: float | None, data: dict[str, Any]) -> Turn:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = intent.get("name")
    confidence = intent.get("confidence")
    confidence = float(confidence) if isinstance(confidence, (int, float)) else None
    ranking = [
        (str(r.get("name")), float(r.get("confidence") or 0.0))
        for r in (parse.get("intent_ranking") or [])[:4]
        if isinstance(r, dict)
    ]
    fallback = name == FALLBACK_INTENT
    low = not fallback and confidence is not None and confidence < LOW_CONFIDENCE
    return Turn(
        event_id=event_id,
        kind="user",
        at=_at(timestamp),
        text=str(data.get("text") or parse.get("text") or ""),
        intent=name,
        confidence=confidence,
        ranking=ranking,
        fallback=fallback,
        low_confidence=low,
        channel=data.get("input_channel"),
    )


def to_turn(row: Any) -> Turn | None:
    data = _data(row.data)
    kind = row.type_name
    if kind == "user":
        if is_external(data, row.intent_name):
            return Turn(event_id=row.id, kind="marker", at=_at(row.timestamp),
                        text="后台发出办理进度通知", notification=True)
        return user_turn(row.id, row.timestamp, data)
    if kind == "bot":
        metadata = data.get("metadata") or {}
        buttons = [
            str(b.get("title") or b.get("payload") or "")
            for b in ((data.get("data") or {}).get("buttons") or [])
            if isinstance(b, dict)
        ]
        return Turn(
            event_id=row.id,
            kind="bot",
            at=_at(row.timestamp),
            text=str(data.get("text") or ""),
            buttons=buttons,
            officer=metadata.get("officer"),
            notification=bool(metadata.get("notification_id")),
        )
    if kind == "action":
        if row.action_name in FALLBACK_ACTIONS:
            return Turn(event_id=row.id, kind="marker", at=_at(row.timestamp),
                        text="助手未能理解，使用了兜底回复", fallback=True)
        return None
    if kind in MARKERS:
        return Turn(event_id=row.id, kind="marker", at=_at(row.timestamp), text=MARKERS[kind])
    return None


async def read_transcript(
    engine: AsyncEngine, sender_id: str, *, after_id: int = 0, limit: int = MAX_TRANSCRIPT_EVENTS
) -> list[Turn]:
    """The turns of one conversation in order (the last ``limit`` events after ``after_id``)."""
    query = (
        select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name,
               EVENTS.c.action_name, EVENTS.c.data)
        .where(EVENTS.c.sender_id == sender_id, EVENTS.c.id > after_id,
               EVENTS.c.type_name.in_(SHOWN_TYPES))
        .order_by(EVENTS.c.id.desc())
        .limit(limit)
    )
    try:
        async with engine.connect() as conn:
            rows = list((await conn.execute(query)).all())
    except Exception as exc:  # missing file/table, database down: the page says so
        log.warning("tracker store not readable (%s)", type(exc).__name__)
        raise TrackerUnavailable(str(type(exc).__name__)) from None
    turns = [to_turn(row) for row in reversed(decrypted_rows(engine, rows))]
    return [t for t in turns if t is not None]


async def read_user_event(engine: AsyncEngine, sender_id: str, event_id: int) -> Turn | None:
    """One user turn (for labelling), or None when it is not a user turn of that sender."""
    query = select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name,
                   EVENTS.c.action_name, EVENTS.c.data).where(
        EVENTS.c.id == event_id, EVENTS.c.sender_id == sender_id, EVENTS.c.type_name == "user"
    )
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(query)).first()
    except Exception as exc:
        log.warning("tracker store not readable (%s)", type(exc).__name__)
        raise TrackerUnavailable(str(type(exc).__name__)) from None
    if row is None:
        return None
    turn = to_turn(decrypted_rows(engine, [row])[0])
    return turn if turn is not None and turn.kind == "user" else None

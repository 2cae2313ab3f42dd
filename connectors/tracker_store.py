"""Rasa's SQL tracker store with every conversation event encrypted at rest.

Rasa's ``SQLTrackerStore`` keeps one row per event in ``events`` and the event itself, as
JSON, in the ``data`` column: every message the citizen typed (ID number, mobile number,
query code, name, address) and every ``SlotSet`` in clear. This store encrypts ``data``
with the tracker store's own Fernet keys (``TRACKER_ENCRYPTION_KEYS``,
``bot.settings.channels``: the Rasa server holds no key of the case store) and decrypts it
when Rasa reads a tracker back. The columns Rasa queries stay as they are: ``sender_id``,
``type_name``, ``timestamp``, ``intent_name`` (an intent name) and ``action_name`` (an
action or slot name, never a slot's value).

Row format of ``data``: a Fernet token (ASCII, begins with ``gAAAAA``) of the event's JSON.
A row written before this store was configured (plain JSON, begins with ``{``) is still
read, and is encrypted when the store starts. The back office reads the same rows
(``bot/store/transcripts.py``) with the same keys.

A citizen who declines the processing of personal information (``intake_status`` becomes
``declined`` or ``guardian_declined``) leaves nothing of what they typed: the texts and
entities of the session's user turns and the values of the form's slots are replaced, in
the rows already stored and in the ones being saved.

Each Rasa process keeps the trackers it saved last (``TRACKER_CACHE_SIZE``, default 256 per
process; 0 turns it off). The next message of such a conversation reads the conversation's
rows, proves the kept tracker current with them (their number, the last id and a digest of
every row's version: ``Stored``) and fetches and decrypts only the rows written since (by
another worker or replica); it is read whole again when anything else changed: rows removed
or rewritten (retention, an erasure, a declined consent), or a new session started
elsewhere. A row's version is PostgreSQL's ``xmin`` (the transaction that wrote this version
of the row: every UPDATE gives a new one), so the stored events of earlier turns are not
fetched again; on SQLite (development) it is the stored token itself (a Fernet token is new
each time a row is written). On PostgreSQL the INSERT of a message's events gives back their
ids and versions (``RETURNING``); on SQLite a query reads them back. A kept tracker is taken out while Rasa handles
a message and put back only when its events are stored, so a message that fails leaves
nothing half-done in memory. With ``TRACKER_CACHE_CHECK=1`` (the test suite) every kept
tracker is also compared with the one read whole, and a difference is logged as an error and
the stored one used. What is kept is in this process's memory only, as Rasa's own
tracker is while it handles a message; nothing of it is written anywhere.

Everything else is Rasa's: restarts, several Sanic workers and replicas (no state besides
the database), ``rasa export`` (``retrieve_full_tracker`` decrypts), deletion by
``sender_id`` (retention, ``bot/store/retention.py``).

Configured in endpoints.yml (SQLite, development) and deploy/endpoints.prod.yml
(PostgreSQL) as ``type: connectors.tracker_store.EncryptedSQLTrackerStore`` with the usual
``SQL`` keys.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from collections.abc import Iterable, Sequence
from typing import Any, List, Optional, Tuple

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, SlotSet, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.rules.personal import EXTRA_PERSONAL_SLOTS
from bot.settings.channels import channel_settings

log = logging.getLogger(__name__)

# intake_status values that mean "no consent": the session's personal data is removed.
DECLINED_STATUSES = frozenset({"declined", "guardian_declined"})
STATUS_SLOT = "intake_status"
# What a removed user message reads as (transcripts show it to staff).
REMOVED_TEXT = "［内容已删除：未同意处理个人信息］"
LEGACY_BATCH = 500
FIRST_ID = 1  # the events table's ids begin here
# Attribute of a tracker read from (or saved to) this store: how many of its events are stored.
STORED_EVENTS = "_stored_event_count"
# Attribute of such a tracker: what the database holds for the conversation (``Stored``).
STORED_STATE = "_stored_rows"
# Logged (an error) when TRACKER_CACHE_CHECK finds a kept tracker that differs from the stored one.
CACHE_DIFFERS = "tracker cache: the kept tracker differs from the stored one; read whole"


class EventCipher:
    """Encrypts and decrypts the ``data`` column: the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise ValueError("at least one tracker encryption key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encode(self, event: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).decode("ascii")

    def decode(self, stored: Optional[str]) -> dict[str, Any]:
        if not stored:
            return {}
        if stored.lstrip().startswith("{"):  # written before encryption was configured
            return json.loads(stored)
        try:
            return json.loads(self._fernet.decrypt(stored.encode("ascii")))
        except InvalidToken:
            raise ValueError(
                "a tracker event cannot be decrypted with TRACKER_ENCRYPTION_KEYS"
            ) from None


def anonymised_event(event: dict[str, Any], personal_slots: frozenset[str]) -> dict[str, Any]:
    """``event`` (as stored) without what the citizen typed: a user turn keeps its intent and
    loses its text and entities; a form slot's value is dropped."""
    event = dict(event)
    kind = event.get("event")
    if kind == "user":
        event["text"] = REMOVED_TEXT
        parse = dict(event.get("parse_data") or {})
        if parse:
            parse["text"] = REMOVED_TEXT
            parse["entities"] = []
            parse.pop("response_selector", None)
            event["parse_data"] = parse
    elif kind == "slot" and event.get("name") in personal_slots:
        event["value"] = None
    return event


def declines(events: Iterable[dict[str, Any]]) -> bool:
    """Whether these events record that the citizen declined consent."""
    return any(
        e.get("event") == "slot" and e.get("name") == STATUS_SLOT
        and e.get("value") in DECLINED_STATUSES
        for e in events
    )


@dataclass
class Stored:
    """What the database holds for a conversation, as this process last read or wrote it:
    the number of rows (every session), the id of the last, and a digest of every row's
    version in order (``xmin`` on PostgreSQL, the stored token elsewhere; see the module's
    docstring). A row rewritten by anyone (a declined consent, an erasure the citizen asked
    for) changes the digest even when the number of rows does not."""

    rows: int
    last_id: Optional[int]
    digest: Any  # hashlib.blake2b, to be continued with the rows written next

    @classmethod
    def of(cls, rows: Sequence[Tuple[int, str]]) -> "Stored":
        stored = cls(0, None, hashlib.blake2b(digest_size=16))
        for row_id, data in rows:
            stored.add(row_id, data)
        return stored

    def add(self, row_id: int, version: str) -> None:
        """One more row, written after the others."""
        self.digest.update(version.encode("ascii"))
        self.digest.update(b"\0")
        self.rows += 1
        self.last_id = row_id

    def same_as(self, other: "Stored") -> bool:
        return (self.rows, self.last_id, self.digest.digest()) == (other.rows, other.last_id, other.digest.digest())


@dataclass
class Kept:
    """A tracker this process saved, and what the database held for it then."""

    tracker: DialogueStateTracker
    stored: Stored


@dataclass(frozen=True)
class Statements:
    """The statements of every message, with their parameters bound at execution."""

    rows: Any  # (id, type_name, timestamp, version, data) of a conversation (:sender_id), data only above :after
    insert: Any  # the new rows
    written: Any  # (id, version) of the rows above :after
    insert_returning: Any  # the new rows, giving back their (id, version); None without RETURNING

    @classmethod
    def of(cls, table: Any, version: Any, returning: bool) -> "Statements":
        sender = table.c.sender_id == sa.bindparam("sender_id")
        after = table.c.id > sa.bindparam("after")
        columns = (table.c.id, table.c.type_name, table.c.timestamp, version)
        return cls(
            rows=sa.select(*columns, sa.case((after, table.c.data), else_=sa.null())).where(sender).order_by(table.c.id),
            insert=table.insert(),
            written=sa.select(table.c.id, version).where(sender, after).order_by(table.c.id),
            insert_returning=table.insert().returning(table.c.id, version) if returning else None,
        )


class TrackerCache:
    """The trackers this process saved last, least recently used first out."""

    def __init__(self, size: int, check: bool = False) -> None:
        self.size = size
        self.check = check  # compare every kept tracker with the stored one (the test suite)
        self._kept: "OrderedDict[str, Kept]" = OrderedDict()
        self.hits = self.misses = 0

    def take(self, sender_id: str) -> Optional[Kept]:
        return self._kept.pop(sender_id, None)

    def put(self, sender_id: str, kept: Kept) -> None:
        if self.size <= 0:
            return
        self._kept.pop(sender_id, None)
        self._kept[sender_id] = kept
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        self._kept.pop(sender_id, None)


# A row of the events table as this store reads it: (id, type_name, timestamp, version, data);
# ``data`` is None for the rows a kept tracker already holds (``_rows``).
Row = Tuple[int, str, Optional[float], str, Optional[str]]


def latest_session(rows: Sequence[Row]) -> List[str]:
    """The ``data`` of the rows Rasa's ``retrieve`` reads: from the latest SessionStarted on
    (by timestamp, as ``SQLTrackerStore._event_query`` selects them), or all rows if none."""
    starts = [row[2] for row in rows if row[1] == SessionStarted.type_name and row[2] is not None]
    if not starts:
        return [row[4] for row in rows]
    start = max(starts)
    return [row[4] for row in rows if row[2] is not None and row[2] >= start]


def state_of(tracker: DialogueStateTracker) -> dict[str, Any]:
    """The tracker's state as JSON gives it (what is stored and what the action server gets:
    a tuple of the message being handled is a list once read back)."""
    return json.loads(json.dumps(tracker.current_state(EventVerbosity.ALL)))


def cache_size(kwargs: dict[str, Any]) -> int:
    """``cache_size`` of the endpoint's configuration, else ``TRACKER_CACHE_SIZE``."""
    value = kwargs.pop("cache_size", None)
    if value is None:
        return channel_settings().tracker_cache_size
    return max(0, int(value))


def kept_sqlite_engine(engine: Any) -> Any:
    """The development profile's SQLite database with its connections kept open and in WAL mode.

    SQLAlchemy 1.4 opens a new connection to a SQLite file for every session (``NullPool``;
    2.0 keeps them in a ``QueuePool``, as here), and SQLite's default journal waits for the
    disk twice at every commit, which holds the one Rasa process of the development profile,
    with every message it is handling. In WAL mode with ``synchronous=NORMAL`` a commit
    appends to the write-ahead log and only checkpoints wait for the disk; readers in other
    processes (the back office's transcripts) are not blocked by the writer. A power failure
    may lose the last commits, never the database (the cases are in the back office's own
    store)."""
    url = engine.url
    engine.dispose()
    kept = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
    sa.event.listen(kept, "connect", _sqlite_wal)
    return kept


def _sqlite_wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``events.data`` is encrypted (see the module's docstring)."""

    def __init__(self, domain: Optional[Domain] = None, **kwargs: Any) -> None:
        keys = kwargs.pop("encryption_keys", None) or channel_settings().tracker_encryption_keys
        self.cipher = EventCipher(keys)
        self.cache = TrackerCache(cache_size(kwargs), check=channel_settings().tracker_cache_check)
        super().__init__(domain=domain, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self.engine = kept_sqlite_engine(self.engine)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # built once: SQLAlchemy works out a statement's cache key once per statement object
        self.statements = Statements.of(
            self.SQLEvent.__table__, self._version_column(),
            # SQLAlchemy 1.4 returns the rows of a many-row INSERT on PostgreSQL only
            returning=self.engine.dialect.name == "postgresql",
        )
        self.encrypt_legacy_rows()

    # --- Rasa's reads ----------------------------------------------------------------------
    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if not fetch_events_from_all_sessions:
            kept = self.cache.take(sender_id)
            tracker = self._brought_up_to_date(kept) if kept is not None else None
            if tracker is not None:
                self.cache.hits += 1
                return await self._checked(tracker) if self.cache.check else tracker
            self.cache.misses += 1
        return await self._read_whole(sender_id, fetch_events_from_all_sessions)

    async def _checked(self, tracker: DialogueStateTracker) -> Optional[DialogueStateTracker]:
        """``TRACKER_CACHE_CHECK``: the kept tracker if reading it whole gives the same, else
        the one read whole, and an error in the log naming what differed."""
        whole = await self._read_whole(tracker.sender_id, False)
        ours, stored = state_of(tracker), state_of(whole) if whole is not None else {}
        if ours == stored:
            return tracker
        differing = sorted(k for k in {*ours, *stored} if ours.get(k) != stored.get(k))
        log.error("%s (%s)", CACHE_DIFFERS, ", ".join(differing))
        return whole

    async def _read_whole(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:
            with self.session_scope() as session:
                # the data column alone: no ORM object per event (a conversation has hundreds)
                rows = self._event_query(
                    session, sender_id, fetch_events_from_all_sessions=True
                ).with_entities(self.SQLEvent.data).all()
            events = [self.cipher.decode(data) for (data,) in rows]
            if self.domain and events:
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            return None
        rows = self._rows(sender_id)
        events = [self.cipher.decode(data) for data in latest_session(rows)]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            setattr(tracker, STORED_EVENTS, len(events))
            setattr(tracker, STORED_STATE, Stored.of([(row[0], row[3]) for row in rows]))
            return tracker
        return None

    def _version_column(self) -> Any:
        """What tells one written version of a row from another (see the module's docstring)."""
        if self.engine.dialect.name == "postgresql":
            return sa.literal_column("xmin::text")
        return self.SQLEvent.__table__.c.data

    def _rows(self, sender_id: str, data_after: Optional[int] = None) -> List[Row]:
        """The conversation's rows in order: (id, type_name, timestamp, version, data), with
        ``data`` only of the rows with an id above ``data_after`` (every row's when None)."""
        params = {"sender_id": sender_id, "after": data_after if data_after is not None else FIRST_ID - 1}
        with self.session_scope() as session:
            return [tuple(row) for row in session.execute(self.statements.rows, params).all()]

    def _brought_up_to_date(self, kept: Kept) -> Optional[DialogueStateTracker]:
        """The kept tracker with the rows stored since it was saved, or ``None`` when it must
        be read whole (rows removed or rewritten, a new session, a declined consent)."""
        rows = self._rows(kept.tracker.sender_id, data_after=kept.stored.last_id)
        stored = Stored.of([(row[0], row[3]) for row in rows[: kept.stored.rows]])
        if not stored.same_as(kept.stored):
            return None
        newer = rows[kept.stored.rows:]
        if any(row[1] == SessionStarted.type_name for row in newer):
            return None
        new_events = [self.cipher.decode(row[4]) for row in newer]
        if declines(new_events):
            return None
        tracker = kept.tracker
        for event in deserialise_events(new_events):
            tracker.update(event)
        for row in newer:
            stored.add(row[0], row[3])
        setattr(tracker, STORED_EVENTS, getattr(tracker, STORED_EVENTS) + len(newer))
        setattr(tracker, STORED_STATE, stored)
        return tracker

    # --- Rasa's writes ---------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, encrypted (Rasa's ``save`` otherwise)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            new_events = [event.as_dict() for event in self._new_events(session, tracker)]
            declined = declines(new_events)
            if declined:
                personal = self._personal_slots()
                self._anonymise_stored(session, tracker.sender_id, personal)
                new_events = [anonymised_event(e, personal) for e in new_events]
            rows = [
                {
                    "sender_id": tracker.sender_id,
                    "type_name": data.get("event"),
                    "timestamp": data.get("timestamp"),
                    "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": self.cipher.encode(data),
                }
                for data in new_events
            ]
            stored: Optional[Stored] = getattr(tracker, STORED_STATE, None)
            keep = stored is not None and self.cache.size > 0 and not declined and self._keepable(tracker)
            if rows and keep:
                # the ids and versions the database gave the rows just written (the
                # conversation's lock keeps every other writer of new rows out)
                written = self._insert_and_read_back(session, tracker.sender_id, rows, stored)
                if len(written) == len(rows):
                    for row_id, version in written:
                        stored.add(row_id, version)
                else:  # someone else wrote rows meanwhile: read whole next time
                    keep = False
            elif rows:  # one INSERT of all the rows, in order (no ORM objects to flush and refetch)
                session.execute(self.statements.insert, rows)
            session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))
        if keep and stored.last_id is not None:
            self.cache.put(tracker.sender_id, Kept(tracker, stored))
        else:
            self.cache.forget(tracker.sender_id)
            if hasattr(tracker, STORED_STATE):
                delattr(tracker, STORED_STATE)
        if declined:
            log.info("consent declined: personal data of the session removed from the tracker")

    def _insert_and_read_back(
        self, session: Any, sender_id: str, rows: list[dict[str, Any]], stored: Stored
    ) -> List[Tuple[int, str]]:
        """Insert the rows (one INSERT of all of them, in order) and give the (id, version) of
        the rows written since ``stored``, in order: on PostgreSQL the INSERT returns them
        (``RETURNING``, through psycopg2's ``execute_values``), elsewhere a query reads them
        back, and also finds a row someone else wrote meanwhile."""
        statements = self.statements
        if statements.insert_returning is not None:
            return sorted(tuple(row) for row in session.execute(statements.insert_returning, rows).all())
        session.execute(statements.insert, rows)
        after = stored.last_id if stored.last_id is not None else FIRST_ID - 1
        return [tuple(row) for row in session.execute(statements.written, {"sender_id": sender_id, "after": after}).all()]

    @staticmethod
    def _keepable(tracker: DialogueStateTracker) -> bool:
        """Whether the tracker is what reading it back would give: one this store read, and
        no session started after its first event (a read gives the latest session only)."""
        if getattr(tracker, STORED_EVENTS, None) is None:
            return False
        return not any(isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, 1, None))

    def _new_events(self, session: Any, tracker: DialogueStateTracker) -> Iterable[Any]:
        """The tracker's events not stored yet. A tracker this store read (or saved) knows how
        many of its events are stored: the conversation's lock (the lock store) keeps every
        other writer out while Rasa handles a message, so they are still the stored ones and
        no count query is needed. Any other tracker: Rasa's count of the stored events."""
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None:
            return self._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    def _personal_slots(self) -> frozenset[str]:
        """The slots holding the citizen's answers: whatever the forms ask for, and the other
        personal slots (details held before consent included, ``bot/rules/personal.py``)."""
        slots: set[str] = set(EXTRA_PERSONAL_SLOTS)
        for form in (self.domain.forms if self.domain else {}).values():
            slots.update((form or {}).get("required_slots") or [])
        return frozenset(slots)

    def _anonymise_stored(self, session: Any, sender_id: str, personal: frozenset[str]) -> None:
        """Replace the user turns and form answers already stored in this session."""
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        for row in rows.filter(self.SQLEvent.type_name.in_(("user", SlotSet.type_name))).all():
            row.data = self.cipher.encode(anonymised_event(self.cipher.decode(row.data), personal))

    # --- rows written before encryption ----------------------------------------------------
    def encrypt_legacy_rows(self) -> int:
        """Encrypt the rows still in plain JSON (written before this store was configured).

        Safe with several workers starting at once: a row is rewritten only while it still
        holds plain JSON, in small transactions."""
        done = 0
        try:
            while True:
                with self.session_scope() as session:
                    rows = (
                        session.query(self.SQLEvent)
                        .filter(self.SQLEvent.data.like("{%"))
                        .order_by(self.SQLEvent.id)
                        .limit(LEGACY_BATCH)
                        .all()
                    )
                    if not rows:
                        break
                    for row in rows:
                        row.data = self.cipher.encode(json.loads(row.data))
                    session.commit()
                    done += len(rows)
        except Exception as exc:  # the server still starts; the next start tries again
            log.warning("could not encrypt older tracker events (%s)", type(exc).__name__)
        if done:
            log.info("encrypted %d tracker events written before encryption", done)
        return done

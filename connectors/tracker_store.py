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

Everything else is Rasa's: restarts, several Sanic workers and replicas (no state besides
the database), ``rasa export`` (``retrieve_full_tracker`` decrypts), deletion by
``sender_id`` (retention, ``bot/store/retention.py``).

Configured in endpoints.yml (SQLite, development) and deploy/endpoints.prod.yml
(PostgreSQL) as ``type: connectors.tracker_store.EncryptedSQLTrackerStore`` with the usual
``SQL`` keys.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
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


class EventCipher:
    """Encrypts and decrypts the ``data`` column: the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise ValueError("at least one tracker encryption key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encode(self, event: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(event).encode("utf-8")).decode("ascii")

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


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``events.data`` is encrypted (see the module's docstring)."""

    def __init__(self, domain: Optional[Domain] = None, **kwargs: Any) -> None:
        keys = kwargs.pop("encryption_keys", None) or channel_settings().tracker_encryption_keys
        self.cipher = EventCipher(keys)
        super().__init__(domain=domain, **kwargs)
        self.encrypt_legacy_rows()

    # --- Rasa's reads ----------------------------------------------------------------------
    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [self.cipher.decode(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    # --- Rasa's writes ---------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, encrypted (Rasa's ``save`` otherwise)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            new_events = [event.as_dict() for event in self._additional_events(session, tracker)]
            declined = declines(new_events)
            if declined:
                personal = self._personal_slots()
                self._anonymise_stored(session, tracker.sender_id, personal)
                new_events = [anonymised_event(e, personal) for e in new_events]
            for data in new_events:
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=data.get("event"),
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=self.cipher.encode(data),
                    )
                )
            session.commit()
        if declined:
            log.info("consent declined: personal data of the session removed from the tracker")

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

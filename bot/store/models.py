"""Tables of the case store (SQLAlchemy 2 declarative mapping).

The schema itself is created and changed by Alembic (``bot/migrations``); this module is the
model the code works with and what migrations are compared against.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Float,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.rules.statuses import REGISTERED

# Stable constraint names, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Workflow states of a case. The intake registers; staff move a case on in the console
# (bot/rules/workflow.py holds the transitions and their time limits).
STATUS_REGISTERED = REGISTERED


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as UTC and
    given back with ``tzinfo=UTC``. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Case(Base):
    """One petition (信访件). Personal numbers are only stored encrypted and masked."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(32), default=STATUS_REGISTERED, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Petitioner (信访人)
    petitioner_name: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    # 证件类型 (bot/rules/fields.py ID_TYPES); the number is encrypted whatever its type.
    id_type: Mapped[str] = mapped_column(String(32), default="resident_id", server_default="resident_id")
    # A mobile, a landline, or none (then the address is the contact, 条例 第19条).
    contact_type: Mapped[str] = mapped_column(String(16), default="mobile", server_default="mobile")
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    # Blind index of the phone number: finds the same petitioner's earlier cases (repeats).
    phone_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(255))

    # Where the problem arose (问题属地)
    location_text: Mapped[str] = mapped_column(String(255))
    location_division: Mapped[str | None] = mapped_column(String(64))
    location_division_code: Mapped[str | None] = mapped_column(String(32))
    location_status: Mapped[str] = mapped_column(String(32))

    # The matter
    category: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    respondent: Mapped[str | None] = mapped_column(String(255))
    facts: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text)
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    prior_body: Mapped[str | None] = mapped_column(String(255))
    prior_case_no: Mapped[str | None] = mapped_column(String(64))
    review_stage: Mapped[str | None] = mapped_column(String(32))
    group_size: Mapped[int] = mapped_column(Integer, default=1)
    litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    # After 复核 (第36条): True when the citizen insists on the same facts and reasons (flagged
    # for a written decision by staff); ``new_facts`` when they bring new facts or reasons.
    recheck_same_matter: Mapped[bool | None] = mapped_column(Boolean)
    new_facts: Mapped[str | None] = mapped_column(Text)

    # Routing and time limits
    responsible_unit: Mapped[str] = mapped_column(String(128), index=True)
    acceptance_notice_due: Mapped[date] = mapped_column(Date)
    handling_due: Mapped[date | None] = mapped_column(Date)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_days: Mapped[int] = mapped_column(Integer, default=0)

    query_code_enc: Mapped[str] = mapped_column(Text)

    # Staff handling (console workflow; all empty until the step happens)
    first_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_read_by: Mapped[str | None] = mapped_column(String(128))
    not_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_accepted_reason: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(String(255))
    # The assistant's routing proposal, kept when staff assign another unit.
    proposed_unit: Mapped[str | None] = mapped_column(String(128))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    objection_due: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(Text)
    review_request_due: Mapped[date | None] = mapped_column(Date)
    # The day the citizen received the written reply / the 复查 opinion: the 30-day 复查 and
    # 复核 windows run from these (第35条、第36条), never from when staff recorded them.
    reply_delivered_on: Mapped[date | None] = mapped_column(Date)
    review_opinion_delivered_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 复查 (第35条) and 复核 (第36条): dates the request / opinion were received or given.
    review_requested_on: Mapped[date | None] = mapped_column(Date)
    review_opinion_due: Mapped[date | None] = mapped_column(Date)
    review_opinion_on: Mapped[date | None] = mapped_column(Date)
    review_opinion: Mapped[str | None] = mapped_column(Text)
    recheck_request_due: Mapped[date | None] = mapped_column(Date)
    recheck_requested_on: Mapped[date | None] = mapped_column(Date)
    recheck_opinion_due: Mapped[date | None] = mapped_column(Date)
    recheck_opinion_on: Mapped[date | None] = mapped_column(Date)
    recheck_opinion: Mapped[str | None] = mapped_column(Text)

    # 包案: a leader takes the case personally (bot/store/reception.py assign_lead).
    lead_official: Mapped[str | None] = mapped_column(String(64))
    lead_note: Mapped[str | None] = mapped_column(Text)
    lead_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lead_assigned_by: Mapped[str | None] = mapped_column(String(128))

    # Retention (bot/store/retention.py): when the personal data was removed after the period.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class CaseSequence(Base):
    """Last case number handed out per year (case numbers are XF{year}{seq:06d})."""

    __tablename__ = "case_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class IdempotencyKey(Base):
    """A create request already handled: a replay returns its case instead of a new one."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    # SHA-256 of the request body (which names the conversation): the same petition sent again
    # under another key (the day in the chat's key changed at midnight) is found by it.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    # What the request did (bot/store/repeats.py OUTCOMES): a new case, or material added to
    # a matter still being handled; a replay answers the same.
    outcome: Mapped[str] = mapped_column(String(16), default="created", server_default="created")
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseEvent(Base):
    """History of a case: creation and every status change."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who did what to personal data (e.g. revealed an ID number), for accountability."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- staff console -----------------------------------------------------------------------


class StaffUser(Base):
    """A member of staff who logs in to the console (password stored as an argon2 hash)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    # 责任单位 of the account: it sees that unit's cases only; the 信访局 (agency) sees all.
    unit: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A logged-in browser. ``id`` is a keyed hash of the cookie's random token."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remote: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class LoginAttempt(Base):
    """A login outcome ("failure", "success", or an administrator's "unlock"), for lock-out."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(16))


class Notification(Base):
    """A message to the citizen about their case, delivered through Rasa (retried on failure)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    via: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Handoff(Base):
    """A conversation in which the citizen asked for a person (human handoff).

    ``open_conversation`` holds the conversation id while the handoff is open and is NULL once
    closed: its unique constraint allows one open handoff per conversation on every backend.
    """

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    open_conversation: Mapped[str | None] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_by: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(128))
    # Last take or reply by the officer; idle for HANDOFF_IDLE_MINUTES → back to the assistant.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConversationIndex(Base):
    """Per-conversation counts kept up to date from Rasa's tracker store (review list)."""

    __tablename__ = "conversation_index"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_turns: Mapped[int] = mapped_column(Integer, default=0)
    fallback_turns: Mapped[int] = mapped_column(Integer, default=0)
    low_confidence_turns: Mapped[int] = mapped_column(Integer, default=0)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)


class TrackerSync(Base):
    """How far the conversation index has read the tracker store's ``events`` table."""

    __tablename__ = "tracker_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NluAnnotation(Base):
    """A user turn an officer labelled with the right intent, for retraining."""

    __tablename__ = "nlu_annotations"
    __table_args__ = (UniqueConstraint("sender_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    predicted_intent: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    intent: Mapped[str] = mapped_column(String(128), index=True)
    labelled_by: Mapped[str] = mapped_column(String(128))
    labelled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- repeat petitions and early warning --------------------------------------------------


class CaseLink(Base):
    """An earlier case the same matter was brought in before (重复信访), or the case another is
    handled together with (合并办理). Found at filing (``origin`` "auto") or set by staff."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "earlier_case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    earlier_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class CaseRating(Base):
    """The citizen's rating of the handling of a case (第二十一条): one per case, never changed
    by staff (bot/store/ratings.py)."""

    __tablename__ = "case_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[str] = mapped_column(String(16))
    # Cleared when the case is anonymised (bot/store/retention.py).
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(128))


class CaseMaterial(Base):
    """What a petitioner brought again about a matter still being handled (条例第十九条: not
    accepted a second time): added to the earlier case for the officer to read."""

    __tablename__ = "case_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(128))
    facts: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerEntry(Base):
    """An entry of the 矛盾台账: a conflict with its responsible leader (包案领导) and unit."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    # The early-warning cluster it came from (its key: the case number of its first case).
    cluster_key: Mapped[str | None] = mapped_column(String(32), index=True)
    leader: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128), index=True)
    risk: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerCase(Base):
    """A case that belongs to a ledger entry."""

    __tablename__ = "ledger_cases"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LedgerStep(Base):
    """A step taken or to take (化解措施) with its due date; not done after it: 督办."""

    __tablename__ = "ledger_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


# --- leader reception days -------------------------------------------------------------


class ReceptionDay(Base):
    """A leader reception day (领导接访日) published by staff (bot/store/reception.py)."""

    __tablename__ = "reception_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leader: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    place: Mapped[str] = mapped_column(String(255))
    topics: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class ReceptionBooking(Base):
    """A case booked on a reception day from the citizen's chat; reminded the day before."""

    __tablename__ = "reception_bookings"
    __table_args__ = (UniqueConstraint("day_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("reception_days.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    representatives: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

"""Data functions of the case store. Each takes the caller's session and never commits."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.case_numbers import QUERY_CODE_DIGITS, format_case_no
from bot.rules.categories import infer_purpose
from bot.rules.deadlines import case_deadlines, local_date
from bot.rules.jurisdiction import resolve_place, responsible_unit
from bot.rules.masking import mask_id_number, mask_phone
from bot.store import repeats
from bot.store.crypto import Crypto
from bot.store.repeats import EarlierMatter
from bot.store.due import next_due_column
from bot.store.models import (
    STATUS_REGISTERED,
    AuditEntry,
    Case,
    CaseEvent,
    CaseSequence,
    IdempotencyKey,
)

log = logging.getLogger(__name__)

# Compared against when a case does not exist, so both failures take the same path.
_DUMMY_CODE = "0" * QUERY_CODE_DIGITS


@dataclass(frozen=True)
class PriorCase:
    body: str | None
    case_no: str | None
    review_stage: str
    # After 复核 (第36条): the same facts and reasons (flagged), or the new ones.
    same_matter_after_recheck: bool | None = None
    new_facts: str | None = None


@dataclass(frozen=True)
class CaseIntake:
    """A petition as validated from the intake conversation (plain, unencrypted values)."""

    conversation_id: str
    channel: str
    name: str
    id_type: str  # bot.rules.documents.ID_TYPES ("none": no 证件 given)
    id_number: str | None
    contact_type: str  # bot.rules.phone.CONTACT_TYPES ("none": by address)
    phone: str | None
    address: str
    location: str
    category: str
    purpose: str | None
    respondent: str | None
    facts: str
    request: str
    is_repeat: bool
    prior_case: PriorCase | None
    group_size: int
    litigation: bool


# INSERT ... ON CONFLICT DO UPDATE ... RETURNING, per backend.
_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def generate_query_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(QUERY_CODE_DIGITS))


async def allocate_case_no(session: AsyncSession, year: int) -> str:
    """Next case number of ``year``, safe under concurrency.

    One upsert both creates the year's counter and increments it; the row stays locked until
    the caller's transaction ends (PostgreSQL row lock, SQLite write lock), so two
    transactions never get the same number and a rolled-back one gives its number back.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERT:
        raise NotImplementedError(f"case numbers need PostgreSQL or SQLite, not {dialect}")
    stmt = _UPSERT[dialect](CaseSequence).values(year=year, last_number=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CaseSequence.year],
        set_={"last_number": CaseSequence.last_number + 1},
    ).returning(CaseSequence.last_number)
    number = (await session.execute(stmt)).scalar_one()
    return format_case_no(year, number)


def location_fields(place: Any) -> dict[str, Any]:
    """Columns describing where the problem arose, from a ``PlaceMatch``."""
    division = place.subdivision or place.outside_area or None
    return {
        "location_division": division,
        "location_division_code": place.subdivision_code or None,
        "location_status": place.status,
    }


async def create_case(
    session: AsyncSession,
    intake: CaseIntake,
    *,
    crypto: Crypto,
    now: datetime,
    idempotency_key: str,
    fingerprint: str,
    actor: str,
    earlier: EarlierMatter | None = None,
) -> tuple[Case, str]:
    """Register a new case; returns it with its (plain) query code. Flushes, no commit.

    ``earlier``: the petitioner's handled case of the same matter (bot/store/repeats.py): the
    new case is a 重复信访 linked to it, and after 复核 it is flagged as the same facts and
    reasons (第三十六条) unless the citizen brought new ones."""
    place = resolve_place(intake.location)
    unit = responsible_unit(intake.category, place)
    purpose = intake.purpose or infer_purpose(f"{intake.facts}\n{intake.request}")
    deadlines = case_deadlines(now)
    query_code = generate_query_code()
    prior = intake.prior_case if intake.is_repeat else None
    if earlier is not None:
        prior = PriorCase(
            body=(prior.body if prior and prior.body else None) or earlier.case.responsible_unit,
            case_no=(prior.case_no if prior and prior.case_no else None) or earlier.case.case_no,
            review_stage=(
                prior.review_stage if prior and prior.review_stage not in (None, "unknown")
                else repeats.review_stage_of(earlier.case)
            ),
            same_matter_after_recheck=(
                not (prior and prior.new_facts) if earlier.stage == repeats.AFTER_RECHECK
                else (prior.same_matter_after_recheck if prior else None)
            ),
            new_facts=prior.new_facts if prior else None,
        )

    case = Case(
        case_no=await allocate_case_no(session, local_date(now).year),
        status=STATUS_REGISTERED,
        channel=intake.channel,
        conversation_id=intake.conversation_id,
        created_at=now,
        updated_at=now,
        petitioner_name=intake.name,
        id_type=intake.id_type,
        id_number_enc=crypto.encrypt(intake.id_number) if intake.id_number else None,
        id_number_hmac=crypto.index(intake.id_number) if intake.id_number else None,
        id_number_masked=mask_id_number(intake.id_number) if intake.id_number else None,
        contact_type=intake.contact_type,
        phone_enc=crypto.encrypt(intake.phone) if intake.phone else None,
        phone_masked=mask_phone(intake.phone) if intake.phone else None,
        phone_hmac=crypto.index(intake.phone) if intake.phone else None,
        address=intake.address,
        location_text=intake.location,
        **location_fields(place),
        category=intake.category,
        purpose=purpose,
        respondent=intake.respondent,
        facts=intake.facts,
        request=intake.request,
        is_repeat=intake.is_repeat or earlier is not None,
        prior_body=prior.body if prior else None,
        prior_case_no=prior.case_no if prior else None,
        review_stage=prior.review_stage if prior else None,
        recheck_same_matter=prior.same_matter_after_recheck if prior else None,
        new_facts=prior.new_facts if prior else None,
        group_size=intake.group_size,
        litigation=intake.litigation,
        responsible_unit=unit,
        acceptance_notice_due=deadlines["acceptance_notice_due"],
        handling_due=deadlines.get("handling_due"),
        extension_days=0,
        query_code_enc=crypto.encrypt(query_code),
    )
    session.add(case)
    await session.flush()
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            action="create",
            from_status=None,
            to_status=STATUS_REGISTERED,
            note=f"channel={intake.channel}",
        )
    )
    session.add(
        IdempotencyKey(
            key=idempotency_key, fingerprint=fingerprint, case_id=case.id, created_at=now,
            outcome=repeats.REPEAT if earlier is not None else repeats.CREATED,
        )
    )
    await session.flush()
    if earlier is not None:
        await repeats.link(session, case, earlier.case, kind=repeats.LINK_REPEAT,
                           origin=repeats.ORIGIN_AUTO, actor=actor, now=now, score=earlier.score)
    log.info(
        "case %s registered (channel=%s, id=%s, phone=%s, unit=%s)",
        case.case_no,
        case.channel,
        case.id_number_masked,
        case.phone_masked,
        case.responsible_unit,
    )
    return case, query_code


@dataclass(frozen=True)
class Filing:
    """What a filing did (``outcome``: bot/store/repeats.py OUTCOMES), the case it concerns
    (the new one, or the earlier one the material was added to), the new case's query code
    (None when no case was created) and the earlier case of the same matter."""

    outcome: str
    case: Case
    query_code: str | None
    earlier: EarlierMatter | None


async def file_petition(
    session: AsyncSession,
    intake: CaseIntake,
    *,
    crypto: Crypto,
    now: datetime,
    idempotency_key: str,
    fingerprint: str,
    actor: str,
) -> Filing:
    """File a petition: material for the petitioner's matter still being handled (第十九条), or
    a new case (a linked 重复信访 when the same matter was handled before). Flushes."""
    place = resolve_place(intake.location)
    matter = repeats.matching.Matter(
        category=intake.category,
        respondent=intake.respondent,
        location_division=location_fields(place)["location_division"],
        location_text=intake.location,
        facts=intake.facts,
        request=intake.request,
    )
    earlier = await repeats.find_earlier(
        session, crypto, name=intake.name, id_number=intake.id_number, phone=intake.phone, matter=matter,
    )
    if earlier is not None and earlier.stage == repeats.HANDLING:
        await repeats.add_material(
            session, earlier, channel=intake.channel, conversation_id=intake.conversation_id,
            facts=intake.facts, request=intake.request, now=now,
            idempotency_key=idempotency_key, fingerprint=fingerprint, actor=actor,
        )
        return Filing(repeats.ADDED, earlier.case, None, earlier)
    case, query_code = await create_case(
        session, intake, crypto=crypto, now=now, idempotency_key=idempotency_key,
        fingerprint=fingerprint, actor=actor, earlier=earlier,
    )
    return Filing(repeats.REPEAT if earlier else repeats.CREATED, case, query_code, earlier)


SAME_FILING_WINDOW = timedelta(minutes=30)
"""The same body sent again under another key within this time is the same filing."""


async def find_same_filing(
    session: AsyncSession, fingerprint: str, now: datetime
) -> tuple[IdempotencyKey, Case] | None:
    """A filing of exactly this request (the fingerprint covers the conversation and every
    answer) made in the last ``SAME_FILING_WINDOW``: a confirmation resent after the chat lost
    its first answer, whose key changed because the day did (midnight between the two)."""
    row = (
        await session.execute(
            select(IdempotencyKey, Case)
            .join(Case, Case.id == IdempotencyKey.case_id)
            .where(IdempotencyKey.fingerprint == fingerprint, IdempotencyKey.created_at >= now - SAME_FILING_WINDOW)
            .order_by(IdempotencyKey.created_at.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def find_by_idempotency_key(
    session: AsyncSession, key: str
) -> tuple[IdempotencyKey, Case] | None:
    row = (
        await session.execute(
            select(IdempotencyKey, Case)
            .join(Case, Case.id == IdempotencyKey.case_id)
            .where(IdempotencyKey.key == key)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def get_case(session: AsyncSession, case_no: str) -> Case | None:
    return await session.scalar(select(Case).where(Case.case_no == case_no))


async def cases_by_conversation(session: AsyncSession, conversation_id: str) -> list[Case]:
    result = await session.scalars(
        select(Case)
        .where(Case.conversation_id == conversation_id)
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    return list(result)


def query_code_matches(crypto: Crypto, case: Case | None, code: str) -> bool:
    """Constant-time comparison of a given query code with the stored one.

    An unknown case goes through the same decryption and comparison, so a wrong code and
    an unknown case number cannot be told apart by timing either.
    """
    token = case.query_code_enc if case is not None else crypto.placeholder_token
    expected = crypto.decrypt(token) or _DUMMY_CODE
    same = hmac.compare_digest(expected.encode("ascii"), code.encode("utf-8"))
    return case is not None and same


def case_deadlines_of(case: Case) -> dict[str, Any]:
    """The time limits that apply to ``case`` now (computed from its dates): the two steps
    before the responsible body's notice, handling (第34条, or the own procedure of a
    litigation-related or referred matter) and the citizen's 复查/复核 windows from delivery."""
    return case_deadlines(
        case.created_at,
        accepted_at=case.accepted_at,
        extension_days=case.extension_days,
        own_procedure=bool(case.litigation),
        referred_to=case.referred_to,
        reply_delivered_on=case.reply_delivered_on,
        review_opinion_delivered_on=case.review_opinion_delivered_on,
    )


def reveal_numbers(crypto: Crypto, case: Case) -> dict[str, str | None]:
    return {
        "id_number": crypto.decrypt(case.id_number_enc) if case.id_number_enc else None,
        "phone": crypto.decrypt(case.phone_enc) if case.phone_enc else None,
    }


async def add_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    case_id: int | None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> AuditEntry:
    entry = AuditEntry(at=now, actor=actor, action=action, case_id=case_id, detail=detail)
    session.add(entry)
    await session.flush()
    return entry


async def _count_by(session: AsyncSession, column: Any, scope: Sequence[Any] = ()) -> dict[str, int]:
    rows = await session.execute(
        select(column, func.count()).where(*scope).group_by(column)
        .order_by(func.count().desc(), column)
    )
    return {str(key): int(count) for key, count in rows}


UNKNOWN_PLACE = "未明确"


async def statistics(session: AsyncSession, today: date, scope: Sequence[Any] = ()) -> dict[str, Any]:
    """Aggregates shown by the console charts, among the cases in ``scope`` (the caller's
    visibility conditions, bot/store/visibility.py)."""
    total = int(await session.scalar(select(func.count()).select_from(Case).where(*scope)) or 0)
    # 重复信访: linked to an earlier case (found at filing or by staff, bot/store/repeats.py) or
    # said by the citizen to have been raised before.
    repeat = int(
        await session.scalar(
            select(func.count()).select_from(Case).where(repeats.is_repeat_condition(), *scope))
        or 0
    )
    overdue = int(
        await session.scalar(
            select(func.count()).select_from(Case).where(next_due_column() < today, *scope))
        or 0
    )
    place = func.coalesce(Case.location_division, UNKNOWN_PLACE)
    return {
        "total": total,
        "first_time": total - repeat,
        "repeat": repeat,
        "by_channel": await _count_by(session, Case.channel, scope),
        "by_category": await _count_by(session, Case.category, scope),
        "by_responsible_unit": await _count_by(session, Case.responsible_unit, scope),
        "by_status": await _count_by(session, Case.status, scope),
        "by_place": await _count_by(session, place, scope),
        "overdue": overdue,
    }

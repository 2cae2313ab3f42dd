"""Repeat petitions recognised at filing, and the links staff keep between cases.

At filing the back office looks for earlier cases of the same petitioner (the blind index of
the ID number, or the same name with the blind index of the phone number) that are the same
matter (``bot.rules.matching``). What happens then depends on where the earlier case stands:

- still being handled (登记、受理、交办、复查中、复核中): 条例第十九条 — a matter being
  handled is not accepted again. No new case: the new message is added to the earlier case as
  material (``CaseMaterial``) and the citizen is told its number;
- handled (答复、办结、不予受理、复查意见): a new case, linked to the earlier one as
  重复信访; the citizen is reminded of the 复查 right (第三十五条);
- after 复核 (第三十六条): a new case, linked, flagged as the same facts and reasons after
  复核 (``recheck_same_matter``): registered (第二十二条), for staff to decide in writing.

Staff link, unlink and merge (合并办理) cases in the console; every change is audited.
初信初访 / 重复信访 in the statistics count these links and what the citizen said
(``is_repeat_condition``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import matching
from bot.rules.filing import (
    ADDED,
    AFTER_RECHECK,
    CREATED,
    HANDLED,
    HANDLING,
    LINK_LABELS,
    LINK_MERGED,
    LINK_REPEAT,
    ORIGIN_AUTO,
    OUTCOMES,
    REPEAT,
    review_stage_of as _review_stage_of_status,
    stage_of as _stage_of_status,
)
from bot.rules.statuses import status_label
from bot.store.crypto import Crypto
from bot.store.models import Case, CaseEvent, CaseLink, CaseMaterial, IdempotencyKey

log = logging.getLogger(__name__)

__all__ = ["ADDED", "AFTER_RECHECK", "CREATED", "HANDLED", "HANDLING", "LINK_LABELS", "LINK_MERGED",
           "LINK_REPEAT", "ORIGIN_AUTO", "OUTCOMES", "REPEAT"]

ORIGIN_LABELS = {ORIGIN_AUTO: "登记时自动识别"}


def stage_of(case: Case) -> str:
    return _stage_of_status(case.status, rechecked=case.recheck_opinion_on is not None)


def review_stage_of(case: Case) -> str:
    return _review_stage_of_status(case.status, reviewed=case.review_opinion_on is not None,
                                   rechecked=case.recheck_opinion_on is not None)


# Earlier cases of one petitioner compared at filing (newest first).
MAX_CANDIDATES = 50

# Audit actions of the console (labels in bot/console/views/cases.py).
AUDIT_LINK = "case_link"
AUDIT_UNLINK = "case_unlink"


class LinkError(ValueError):
    """A link staff asked for that cannot be made; ``message`` is shown to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class EarlierMatter:
    """The petitioner's earlier case of the same matter, and where it stands."""

    case: Case
    score: float
    stage: str


def matter_of(case: Case) -> matching.Matter:
    return matching.Matter(
        category=case.category,
        respondent=case.respondent,
        location_division=case.location_division,
        location_text=case.location_text,
        facts=case.facts,
        request=case.request,
    )


def person_conditions(crypto: Crypto, name: str, id_number: str | None, phone: str | None) -> list[Any]:
    """SQL conditions that find the same petitioner: the ID number, or name and phone."""
    conditions: list[Any] = []
    if id_number:
        conditions.append(Case.id_number_hmac == crypto.index(id_number))
    if phone:
        conditions.append((Case.phone_hmac == crypto.index(phone)) & (Case.petitioner_name == name))
    return conditions


async def find_earlier(
    session: AsyncSession,
    crypto: Crypto,
    *,
    name: str,
    id_number: str | None,
    phone: str | None,
    matter: matching.Matter,
) -> EarlierMatter | None:
    """The petitioner's earlier case of the same matter (None when there is none).

    Among several, a case still being handled wins (the material belongs there), then the
    most similar one."""
    conditions = person_conditions(crypto, name, id_number, phone)
    if not conditions:
        return None
    candidates = list(await session.scalars(
        select(Case)
        .where(or_(*conditions), Case.anonymised_at.is_(None))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(MAX_CANDIDATES)
    ))
    if not candidates:
        return None
    results = matching.match(matter, [matter_of(c) for c in candidates])
    found = [
        EarlierMatter(candidates[result.index], float(result.score), stage_of(candidates[result.index]))
        for result in results
        if result.same
    ]
    if not found:
        return None
    found.sort(key=lambda m: (m.stage != HANDLING, -m.score, -m.case.id))
    return found[0]


async def add_material(
    session: AsyncSession,
    earlier: EarlierMatter,
    *,
    channel: str,
    conversation_id: str,
    facts: str,
    request: str,
    now: datetime,
    idempotency_key: str,
    fingerprint: str,
    actor: str,
) -> CaseMaterial:
    """Add what the petitioner brought again to the case still being handled. Flushes."""
    case = earlier.case
    material = CaseMaterial(
        case_id=case.id, at=now, channel=channel, conversation_id=conversation_id,
        facts=facts, request=request, score=earlier.score,
    )
    session.add(material)
    session.add(CaseEvent(
        case_id=case.id, at=now, actor=actor, action="material_added",
        from_status=case.status, to_status=case.status,
        note=f"channel={channel}; similarity={earlier.score:.2f}",
    ))
    session.add(IdempotencyKey(
        key=idempotency_key, fingerprint=fingerprint, case_id=case.id, created_at=now,
        outcome=ADDED,
    ))
    case.updated_at = now
    await session.flush()
    log.info("case %s: the same matter brought again, added as material (similarity %.2f)",
             case.case_no, earlier.score)
    return material


async def link(
    session: AsyncSession,
    case: Case,
    earlier: Case,
    *,
    kind: str,
    origin: str,
    actor: str,
    now: datetime,
    score: float | None = None,
) -> CaseLink:
    """Link ``case`` to the ``earlier`` one (a repeat of it, or merged with it). Flushes."""
    if kind not in LINK_LABELS:
        raise LinkError("关联类型不正确。")
    if case.id == earlier.id:
        raise LinkError("不能把信访件与它自己关联。")
    if earlier.created_at > case.created_at or (
        earlier.created_at == case.created_at and earlier.id > case.id
    ):
        raise LinkError(f"{earlier.case_no} 登记在 {case.case_no} 之后，请在较晚的信访件上关联较早的信访件。")
    existing = await session.scalar(select(CaseLink).where(
        or_(
            (CaseLink.case_id == case.id) & (CaseLink.earlier_case_id == earlier.id),
            (CaseLink.case_id == earlier.id) & (CaseLink.earlier_case_id == case.id),
        )
    ))
    if existing is not None:
        if existing.kind == kind:
            raise LinkError(f"{case.case_no} 已与 {earlier.case_no} 关联。")
        existing.kind = kind
        existing.origin = origin
        existing.created_by = actor
        existing.created_at = now
        row = existing
    else:
        row = CaseLink(case_id=case.id, earlier_case_id=earlier.id, kind=kind, origin=origin,
                       score=score, created_at=now, created_by=actor)
        session.add(row)
    session.add(CaseEvent(
        case_id=case.id, at=now, actor=actor, action=f"link_{kind}",
        from_status=case.status, to_status=case.status, note=earlier.case_no,
    ))
    await session.flush()
    return row


async def unlink(session: AsyncSession, case: Case, other: Case, *, actor: str, now: datetime) -> bool:
    """Remove the link between two cases (either direction); False when there was none."""
    links = list(await session.scalars(select(CaseLink).where(
        or_(
            (CaseLink.case_id == case.id) & (CaseLink.earlier_case_id == other.id),
            (CaseLink.case_id == other.id) & (CaseLink.earlier_case_id == case.id),
        )
    )))
    if not links:
        return False
    for row in links:
        later, earlier = (case, other) if row.case_id == case.id else (other, case)
        if row.origin == ORIGIN_AUTO and later.prior_case_no == earlier.case_no:
            # The filing's inference is withdrawn: the case is what the citizen said it was.
            later.is_repeat = False
            later.prior_body = later.prior_case_no = later.review_stage = None
            later.recheck_same_matter = None
        await session.delete(row)
    session.add(CaseEvent(
        case_id=case.id, at=now, actor=actor, action="unlink",
        from_status=case.status, to_status=case.status, note=other.case_no,
    ))
    await session.flush()
    return True


@dataclass(frozen=True)
class LinkedCase:
    """A case linked to the one shown: ``direction`` "earlier" (this one repeats it or is
    merged into it) or "later"."""

    link: CaseLink
    case: Case
    direction: str


async def links_of(session: AsyncSession, case: Case) -> list[LinkedCase]:
    rows = await session.execute(
        select(CaseLink, Case).join(Case, Case.id == CaseLink.earlier_case_id)
        .where(CaseLink.case_id == case.id)
    )
    found = [LinkedCase(row[0], row[1], "earlier") for row in rows]
    rows = await session.execute(
        select(CaseLink, Case).join(Case, Case.id == CaseLink.case_id)
        .where(CaseLink.earlier_case_id == case.id)
    )
    found += [LinkedCase(row[0], row[1], "later") for row in rows]
    found.sort(key=lambda item: (item.case.created_at, item.case.id))
    return found


async def materials_of(session: AsyncSession, case_id: int) -> list[CaseMaterial]:
    return list(await session.scalars(
        select(CaseMaterial).where(CaseMaterial.case_id == case_id).order_by(CaseMaterial.at, CaseMaterial.id)
    ))


def is_repeat_condition() -> Any:
    """SQL condition on ``Case``: a 重复信访 — linked to an earlier case (found at filing or by
    staff: a repeat of it or merged with it), or the citizen said they raised it before."""
    return or_(Case.is_repeat.is_(True), exists(select(CaseLink.id).where(CaseLink.case_id == Case.id)))


async def backfill_phone_index(session: AsyncSession, crypto: Crypto, batch: int = 500) -> int:
    """Fill the phone number's blind index of cases filed before it existed. Flushes."""
    done = 0
    while True:
        cases = list(await session.scalars(
            select(Case).where(Case.phone_enc.is_not(None), Case.phone_hmac.is_(None)).limit(batch)
        ))
        if not cases:
            return done
        for case in cases:
            case.phone_hmac = crypto.index(crypto.decrypt(case.phone_enc))
        done += len(cases)
        await session.flush()


def related_json(earlier: EarlierMatter, deadlines: dict[str, Any]) -> dict[str, Any]:
    """What the filing's answer says about the earlier case (no personal data)."""
    due = deadlines.get("review_request_due")
    return {
        "case_no": earlier.case.case_no,
        "status": earlier.case.status,
        "status_label": status_label(earlier.case.status),
        "stage": earlier.stage,
        "responsible_unit": earlier.case.responsible_unit,
        "review_request_due": due.isoformat() if hasattr(due, "isoformat") else due,
        "similarity": round(earlier.score, 3),
    }


"""Cases in the JSON API: filing (``POST /cases``, idempotent), reading (``GET /cases``,
``GET /cases/{case_no}``, numbers revealed only with ``case:reveal`` and audited), the
citizen's status lookup (``GET /status/{case_no}?code=``, rate limited) and the counts of
``GET /stats``.

A response carrying a full personal number or a query code is sent with
``Cache-Control: no-store``, so no browser or proxy keeps a copy."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.api.common import API_PREFIX, read_json_object
from bot.api.schemas import case_json, status_json, validate_case_request
from bot.rules.case_numbers import is_case_no, is_query_code
from bot.rules.deadlines import local_date
from bot.rules.roles import Permission
from bot.store import cases as store
from bot.store import ratings, repeats, visibility
from bot.store.crypto import Crypto
from bot.store.models import Case, IdempotencyKey
from bot.store.ratelimit import Limit
from bot.web.auth import authenticate, authorize
from bot.web.client import client_address
from bot.web.errors import ApiError, json_response
from bot.web.keys import CLOCK, CRYPTO, LIMITER, SESSIONMAKER, SETTINGS, STATUS_LIMITS

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")

STATUS_NOT_FOUND = "未找到对应的信访件，请核对信访件编号和查询码。"
REVEAL_FORBIDDEN = "您无权查看完整的证件号码和手机号码。"
CASE_NOT_FOUND = "未找到该信访件。"

# Responses with a revealed number or a query code: never stored by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- helpers ---------------------------------------------------------------------------------


def request_fingerprint(body: dict[str, Any]) -> str:
    """SHA-256 of the body in canonical form (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalize_case_no(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


def wants_reveal(request: web.Request) -> bool:
    return request.query.get("reveal", "").strip().lower() in ("1", "true", "yes")


async def authorize_reveal(request: web.Request) -> None:
    try:
        await authorize(request, Permission.CASE_REVEAL)
    except ApiError as exc:
        if exc.status == 403:
            raise ApiError(403, "forbidden", REVEAL_FORBIDDEN) from None
        raise


async def reveal_and_audit(request: web.Request, session, case: Case, actor: str) -> dict[str, str]:
    """Decrypt a case's numbers and record who saw them (PIPL accountability)."""
    numbers = store.reveal_numbers(request.app[CRYPTO], case)
    await store.add_audit(
        session,
        actor=actor,
        action="reveal_personal_numbers",
        case_id=case.id,
        detail={"fields": sorted(numbers), "remote": request.remote, "path": request.path},
        now=request.app[CLOCK](),
    )
    log.info("case %s: personal numbers revealed to %s", case.case_no, actor)
    return numbers


def created_response(
    crypto: Crypto,
    case: Case,
    query_code: str | None = None,
    *,
    replayed: bool,
    outcome: str = repeats.CREATED,
    related: dict[str, Any] | None = None,
) -> web.Response:
    """The answer to a filing. ``outcome`` "added_to_case": no case was created, the material
    was added to ``case`` (the petitioner's earlier case) and no query code is given again;
    "repeat": a new case linked to the earlier one in ``related_case``."""
    if outcome == repeats.ADDED:
        code = None
    else:
        code = query_code if query_code is not None else crypto.decrypt(case.query_code_enc)
    created = outcome != repeats.ADDED and not replayed
    return json_response(
        {"case": case_json(case), "query_code": code, "outcome": outcome, "related_case": related},
        status=201 if created else 200,
        headers={**NO_STORE, "Idempotent-Replayed": "true"} if replayed else NO_STORE,
    )


async def replay(
    session, crypto: Crypto, found: tuple[IdempotencyKey, Case], fingerprint: str
) -> web.Response:
    record, case = found
    if not hmac.compare_digest(record.fingerprint, fingerprint):
        raise ApiError(409, "idempotency_conflict")
    log.info("case %s: idempotent replay", case.case_no)
    related = await related_of(session, record.outcome, case)
    return created_response(crypto, case, replayed=True, outcome=record.outcome, related=related)


async def related_of(session, outcome: str, case: Case) -> dict[str, Any] | None:
    """The earlier case of a replayed filing, as its first answer described it."""
    if outcome == repeats.ADDED:
        earlier = repeats.EarlierMatter(case, 1.0, repeats.HANDLING)
    elif outcome == repeats.REPEAT:
        linked = [item for item in await repeats.links_of(session, case) if item.direction == "earlier"]
        if not linked:
            return None
        item = linked[0]
        earlier = repeats.EarlierMatter(item.case, item.link.score or 0.0, repeats.stage_of(item.case))
    else:
        return None
    return repeats.related_json(earlier, store.case_deadlines_of(earlier.case))


# --- handlers --------------------------------------------------------------------------------


async def create_case(request: web.Request) -> web.Response:
    principal = await authorize(request, Permission.CASE_CREATE)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise ApiError(400, "idempotency_key_required")
    body = await read_json_object(request)
    fingerprint = request_fingerprint(body)
    crypto = request.app[CRYPTO]

    async with request.app[SESSIONMAKER]() as session:
        found = await store.find_by_idempotency_key(session, key)
        if found is None:
            found = await store.find_same_filing(session, fingerprint, request.app[CLOCK]())
        if found is not None:
            return await replay(session, crypto, found, fingerprint)
        intake = validate_case_request(body)
        try:
            filing = await store.file_petition(
                session,
                intake,
                crypto=crypto,
                now=request.app[CLOCK](),
                idempotency_key=key,
                fingerprint=fingerprint,
                actor=principal.name,
            )
            related = (
                repeats.related_json(filing.earlier, store.case_deadlines_of(filing.earlier.case))
                if filing.earlier is not None else None
            )
            await session.commit()
        except IntegrityError:
            # A concurrent request with the same key won; return what it created.
            await session.rollback()
            found = await store.find_by_idempotency_key(session, key)
            if found is None:
                raise
            return await replay(session, crypto, found, fingerprint)
        return created_response(
            crypto, filing.case, filing.query_code, replayed=False,
            outcome=filing.outcome, related=related,
        )


async def get_case(request: web.Request) -> web.Response:
    principal = await authorize(request, Permission.CASE_READ)
    reveal = wants_reveal(request)
    if reveal:
        await authorize_reveal(request)
    case_no = normalize_case_no(request.match_info["case_no"])
    async with request.app[SESSIONMAKER]() as session:
        case = await store.get_case(session, case_no) if is_case_no(case_no) else None
        if case is None:
            raise ApiError(404, "not_found", CASE_NOT_FOUND)
        if not visibility.can_see_case(principal, case):
            # Outside the caller's unit or confidential: recorded, answered like an unknown case.
            await visibility.record_refusal(session, principal, route=f"{request.method} {request.path}",
                                            case=case, now=request.app[CLOCK]())
            await session.commit()
            raise ApiError(404, "not_found", CASE_NOT_FOUND)
        numbers = None
        if reveal:
            numbers = await reveal_and_audit(request, session, case, principal.name)
            await session.commit()
    return json_response(case_json(case, revealed=numbers), headers=NO_STORE if reveal else None)


async def list_cases(request: web.Request) -> web.Response:
    principal = await authorize(request, Permission.CASE_READ)
    reveal = wants_reveal(request)
    if reveal:
        await authorize_reveal(request)
    conversation_id = request.query.get("conversation_id", "").strip()
    if not conversation_id:
        raise ApiError(400, "conversation_id_required", "请提供 conversation_id 参数。")
    async with request.app[SESSIONMAKER]() as session:
        found = [case for case in await store.cases_by_conversation(session, conversation_id)
                 if visibility.can_see_case(principal, case)]
        rendered = []
        for case in found:
            numbers = (
                await reveal_and_audit(request, session, case, principal.name) if reveal else None
            )
            rendered.append(case_json(case, revealed=numbers))
        if reveal and found:
            await session.commit()
    return json_response({"cases": rendered}, headers=NO_STORE if reveal else None)


async def requester_key(request: web.Request) -> str:
    """Who is looking up: the chat sender when the action server asks for one, else the
    client address (from ``X-Forwarded-For`` only behind a trusted proxy)."""
    principal = await authenticate(request)
    if principal is not None and principal.kind == "service":
        sender = request.headers.get("X-Requester", "").strip()
        if sender:
            return f"sender:{sender[:256]}"
    if principal is not None and principal.kind == "staff":
        return f"staff:{principal.name}"
    return f"ip:{client_address(request)}"


def _too_many(retry_after: float) -> ApiError:
    seconds = max(1, math.ceil(retry_after))
    minutes = max(1, math.ceil(seconds / 60))
    return ApiError(
        429,
        "rate_limited",
        f"查询失败次数过多，为保护您的信息安全，请 {minutes} 分钟后再试。",
        headers={"Retry-After": str(seconds)},
        retry_after=seconds,
    )


async def proven_case(request: web.Request, case_no: str, code: str) -> Case:
    """The case whose number and query code the citizen gave, for every path that takes
    them (status lookup, rating, reception booking from another device). Unknown case and
    wrong code look exactly the same (404); failed attempts are rate limited (429).

    Each attempt is counted first (atomically), so parallel guesses cannot slip past the
    limit, and given back when the code is right: only failed attempts use up the window.
    In order: the requester (all cases), the requester on this case, all requesters on this
    case. A requester refused at one step adds nothing to the next, so one requester adds
    at most ``per_case`` failures to the case's total and cannot lock the citizen out."""
    case_no = normalize_case_no(case_no)
    requester = await requester_key(request)
    limiter, limits = request.app[LIMITER], request.app[STATUS_LIMITS]
    well_formed = bool(is_case_no(case_no))
    case_key = case_no if well_formed else "malformed"  # bounded number of counters
    per_case_total = Limit(
        "status-case-all",
        request.app[SETTINGS].status_max_failures_per_case_total,
        limits.per_case.window_seconds,
    )
    steps = [
        (limits.per_requester, requester),
        (limits.per_case, f"{case_key}|{requester}"),
        (per_case_total, case_key),
    ]
    counted = []
    for limit, key in steps:
        state = await limiter.hit(limit, key)
        counted.append((limit, key))
        if state.count > limit.max_hits:
            log.info("query code check rate limited (case %s, %s)", case_key, limit.name)
            raise _too_many(state.reset_in)

    crypto = request.app[CRYPTO]
    async with request.app[SESSIONMAKER]() as session:
        case = await store.get_case(session, case_no) if well_formed else None
    valid_code = is_query_code(code)
    if not store.query_code_matches(crypto, case if valid_code else None, code) or case is None:
        log.info("query code check failed (case %s)", case_no if case is not None else "?")
        raise ApiError(404, "not_found", STATUS_NOT_FOUND)
    for limit, key in counted:
        await limiter.release(limit, key)
    return case


async def case_status(request: web.Request) -> web.Response:
    """The citizen's lookup: unknown case and wrong code look exactly the same."""
    code = request.query.get("code", "").strip()
    if not code:
        raise ApiError(400, "code_required", "请提供查询码。")
    case = await proven_case(request, request.match_info["case_no"], code)
    body = status_json(case)
    async with request.app[SESSIONMAKER]() as session:
        body["rating"] = await ratings.rating_state(session, case, local_date(request.app[CLOCK]()))
    return json_response(body)


async def stats(request: web.Request) -> web.Response:
    principal = await authorize(request, Permission.STATS_READ)
    today = local_date(request.app[CLOCK]())
    async with request.app[SESSIONMAKER]() as session:
        body = await store.statistics(session, today, visibility.case_scope(principal))
    body["as_of"] = today.isoformat()
    return json_response(body)


def setup(app: web.Application) -> None:
    app.router.add_post(f"{API_PREFIX}/cases", create_case)
    app.router.add_get(f"{API_PREFIX}/cases", list_cases)
    app.router.add_get(f"{API_PREFIX}/cases/{{case_no}}", get_case)
    app.router.add_get(f"{API_PREFIX}/status/{{case_no}}", case_status)
    app.router.add_get(f"{API_PREFIX}/stats", stats)

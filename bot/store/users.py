"""Staff accounts, console sessions and login lock-out. Data functions take the caller's
session and never commit.

- Passwords are stored as argon2id hashes (argon2-cffi, RFC 9106 parameters); a login with an
  unknown user name verifies against a dummy hash so both failures take the same time.
- A session is a random token in an HttpOnly cookie; the database keeps only a keyed hash of
  it (HMAC with BACKOFFICE_SESSION_SECRET), so a copy of the table logs nobody in.
- Lock-out: ``max_failures`` failed logins of one user name within ``window`` lock that name
  until the window has passed since the last failure (or an administrator unlocks it).
  Unknown user names are counted the same way, so the lock-out tells nothing about which
  names exist. ``reserve_attempt`` checks and counts an attempt in one serialised transaction
  *before* the password is verified, so parallel guesses cannot all pass the check; rows older
  than a day are deleted at the same time, so the table stays bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import LoginAttempt, StaffSession, StaffUser
from bot.rules.jurisdiction import load_jurisdiction
from bot.rules.roles import ROLE_PERMISSIONS

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")
DISPLAY_NAME_MAX = 64

OUTCOME_FAILURE = "failure"
OUTCOME_SUCCESS = "success"
OUTCOME_UNLOCK = "unlock"

# Login attempts are kept this long (or the lock-out window, if longer), then deleted.
ATTEMPTS_KEPT = timedelta(days=1)

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes, 4 lanes).
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user name is unknown (same cost as a real check)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# argon2 takes most of a second of CPU on purpose: off the event loop, so that one login does
# not hold up every other request.
async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


class AccountError(ValueError):
    """A request about an account that cannot be done; ``message`` is Chinese for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is not acceptable (Chinese), or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"密码至少需要{PASSWORD_MIN_LENGTH}个字符。"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"密码不能超过{PASSWORD_MAX_LENGTH}个字符。"
    if username and password.lower() == username.lower():
        return "密码不能与用户名相同。"
    if len(set(password)) < 4:
        return "密码过于简单，请使用更多不同的字符。"
    return None


def normalize_username(username: str) -> str:
    return username.strip().lower()


# --- accounts ----------------------------------------------------------------------------


def agency_unit() -> str:
    """The 信访局 itself: an account of this unit sees the cases of every unit."""
    return load_jurisdiction().agency


def unit_choices() -> list[str]:
    """Units an account may belong to: the 信访局 first, then the units cases are assigned to."""
    j = load_jurisdiction()
    return [j.agency, *(unit for unit in j.responsible_units() if unit != j.agency)]


def scope_unit(user: StaffUser) -> str | None:
    """The unit whose cases ``user`` sees, or None for every unit (a 信访局 account)."""
    return None if user.unit == agency_unit() else user.unit



async def get_user(session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def get_user_by_name(session: AsyncSession, username: str) -> StaffUser | None:
    return await session.scalar(
        select(StaffUser).where(StaffUser.username == normalize_username(username))
    )


async def list_users(session: AsyncSession) -> list[StaffUser]:
    return list(await session.scalars(select(StaffUser).order_by(StaffUser.username)))


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(StaffUser)) or 0)


async def count_active_admins(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.active.is_(True))
        )
        or 0
    )


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    now: datetime,
    display_name: str = "",
    unit: str | None = None,
) -> StaffUser:
    """A new account; ``AccountError`` when a value is not acceptable. Flushes.

    ``unit`` None: a 信访局 account."""
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError("用户名应为2至64个字符，只能包含英文字母、数字、点、下划线和连字符。")
    if role not in ROLE_PERMISSIONS:
        raise AccountError("请选择有效的角色。")
    unit = agency_unit() if unit is None else unit.strip()
    if unit not in unit_choices():
        raise AccountError("请选择有效的所属单位。")
    problem = password_problem(password, name)
    if problem:
        raise AccountError(problem)
    display = (display_name or "").strip()[:DISPLAY_NAME_MAX] or name
    if await get_user_by_name(session, name) is not None:
        raise AccountError("该用户名已存在。")
    user = StaffUser(
        username=name,
        display_name=display,
        role=role,
        unit=unit,
        password_hash=await hash_password_async(password),
        active=True,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, user: StaffUser, password: str, now: datetime) -> None:
    """Change the password and end every session of the user. Flushes."""
    problem = password_problem(password, user.username)
    if problem:
        raise AccountError(problem)
    user.password_hash = await hash_password_async(password)
    user.password_changed_at = now
    user.updated_at = now
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    await session.flush()


async def set_role(session: AsyncSession, user: StaffUser, role: str, now: datetime) -> None:
    if role not in ROLE_PERMISSIONS:
        raise AccountError("请选择有效的角色。")
    if user.role == "admin" and role != "admin" and await count_active_admins(session) <= 1:
        raise AccountError("不能降低唯一系统管理员的角色。")
    user.role = role
    user.updated_at = now
    await session.flush()


async def set_unit(session: AsyncSession, user: StaffUser, unit: str, now: datetime) -> None:
    """Move the account to another unit; its sessions end (what it may see changes)."""
    unit = (unit or "").strip()
    if unit not in unit_choices():
        raise AccountError("请选择有效的所属单位。")
    user.unit = unit
    user.updated_at = now
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    await session.flush()


async def set_active(session: AsyncSession, user: StaffUser, active: bool, now: datetime) -> None:
    if not active and user.role == "admin" and user.active and await count_active_admins(session) <= 1:
        raise AccountError("不能停用唯一的系统管理员。")
    user.active = active
    user.updated_at = now
    if not active:
        await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    await session.flush()


# --- lock-out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LockState:
    locked: bool
    failures: int
    unlocks_at: datetime | None


async def lock_state(
    session: AsyncSession, username: str, *, now: datetime, max_failures: int, window: timedelta
) -> LockState:
    """Failures of ``username`` since its last success/unlock within the window."""
    name = normalize_username(username)
    reset_at = await session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name,
            LoginAttempt.outcome.in_((OUTCOME_SUCCESS, OUTCOME_UNLOCK)),
        )
    )
    since = now - window
    if reset_at is not None and reset_at > since:
        since = reset_at
    rows = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                LoginAttempt.username == name,
                LoginAttempt.outcome == OUTCOME_FAILURE,
                LoginAttempt.at > since,
            )
        )
    ).one()
    failures, last = int(rows[0] or 0), rows[1]
    if failures >= max_failures and last is not None:
        return LockState(True, failures, last + window)
    return LockState(False, failures, None)


async def record_attempt(
    session: AsyncSession, username: str, outcome: str, *, remote: str | None, now: datetime
) -> None:
    session.add(
        LoginAttempt(
            username=normalize_username(username)[:64],
            remote=(remote or "")[:64] or None,
            at=now,
            outcome=outcome,
        )
    )
    await session.flush()


async def prune_attempts(session: AsyncSession, older_than: datetime) -> None:
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < older_than))


def _lock_key(name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory lock of one user name."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


async def reserve_attempt(
    session: AsyncSession,
    username: str,
    *,
    remote: str | None,
    now: datetime,
    max_failures: int,
    window: timedelta,
) -> tuple[LoginAttempt | None, LockState]:
    """Check the lock-out and count one attempt as a failure, atomically. Flushes.

    Returns (the attempt row, the state counting it), or (None, the locked state) when the
    name is locked and the password must not be checked. The caller commits at once, then
    verifies the password and, on success, calls ``mark_success`` on the row.

    Serialised per user name: PostgreSQL takes a transaction-scoped advisory lock on the name;
    SQLite's first statement is a write, which takes the database's single writer lock. Rows
    older than ``ATTEMPTS_KEPT`` (or the window, if longer) are deleted: they no longer affect
    any lock-out, and the table stays bounded however many names are tried.
    """
    name = normalize_username(username)[:64]
    prune = True
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)})
        # One pruner at a time: parallel deletes of the same old rows could deadlock.
        prune = bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                          {"key": _lock_key(" prune login attempts")}))
    if prune:
        await prune_attempts(session, now - max(window, ATTEMPTS_KEPT))
    state = await lock_state(session, name, now=now, max_failures=max_failures, window=window)
    if state.locked:
        return None, state
    row = LoginAttempt(username=name, remote=(remote or "")[:64] or None, at=now,
                       outcome=OUTCOME_FAILURE)
    session.add(row)
    await session.flush()
    failures = state.failures + 1
    if failures >= max_failures:
        return row, LockState(True, failures, now + window)
    return row, LockState(False, failures, None)


async def mark_success(session: AsyncSession, attempt_id: int) -> None:
    """The reserved attempt turned out to be a successful login (ends the failure count)."""
    await session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(outcome=OUTCOME_SUCCESS)
    )


# --- sessions ----------------------------------------------------------------------------


def session_id(secret: str, token: str) -> str:
    """The stored id of a session token (HMAC-SHA256, hex)."""
    return hmac.new(secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def open_session(
    session: AsyncSession,
    user: StaffUser,
    *,
    secret: str,
    now: datetime,
    max_age: timedelta,
    remote: str | None,
    user_agent: str | None,
) -> tuple[str, StaffSession]:
    """A new console session for ``user``; returns the cookie token and the row. Flushes."""
    token = new_token()
    row = StaffSession(
        id=session_id(secret, token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + max_age,
        remote=(remote or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(row)
    await session.flush()
    return token, row


async def find_session(
    session: AsyncSession, *, secret: str, token: str, now: datetime, idle: timedelta
) -> tuple[StaffSession, StaffUser] | None:
    """The live session of ``token`` and its (active) user, or None."""
    row = (
        await session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id == session_id(secret, token))
        )
    ).first()
    if row is None:
        return None
    staff_session, user = row
    if not user.active or staff_session.expires_at <= now or staff_session.last_seen_at + idle <= now:
        return None
    return staff_session, user


async def close_session(session: AsyncSession, *, secret: str, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id == session_id(secret, token)))


async def prune_sessions(session: AsyncSession, now: datetime, idle: timedelta) -> None:
    await session.execute(
        delete(StaffSession).where(
            (StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= now - idle)
        )
    )

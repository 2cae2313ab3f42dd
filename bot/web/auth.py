"""Who is calling, and may they do this?

``authorize(request, permission)`` is the single check every protected handler makes. The
caller is identified by the authenticators in ``app[AUTHENTICATORS]``, tried in order: the
service token of the action server is built in; the staff console adds one that reads its
session and returns a ``Principal`` with the permissions of the staff member's role
(``ROLE_PERMISSIONS``).
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass

from aiohttp import web

from bot.web.errors import ApiError
from bot.web.keys import AUTHENTICATORS, SETTINGS


class Permission(str, enum.Enum):
    CASE_CREATE = "case:create"
    CASE_READ = "case:read"
    # Seeing full ID and phone numbers (PIPL: sensitive personal information, audited).
    CASE_REVEAL = "case:reveal"
    STATS_READ = "stats:read"
    # Console workflow: accept / not accept / assign / reply / close, 复查 and 复核 requests.
    CASE_WORK = "case:work"
    # Decisions the head of the body approves: extension (第34条), 复查/复核 opinions.
    CASE_APPROVE = "case:approve"
    # Reading conversations (transcripts, review list) and labelling turns for retraining.
    CONVERSATION_READ = "conversation:read"
    NLU_LABEL = "nlu:label"
    NLU_EXPORT = "nlu:export"
    # Human handoff: take over a conversation, reply, hand back.
    HANDOFF = "handoff"
    # Filing a handoff request (the action server, for a citizen who asked for a person).
    HANDOFF_REQUEST = "handoff:request"
    AUDIT_READ = "audit:read"
    USER_MANAGE = "user:manage"
    # Being a logged-in member of staff (dashboard, own password).
    CONSOLE = "console"


@dataclass(frozen=True)
class Principal:
    kind: str  # "service" or "staff"
    name: str
    permissions: frozenset[Permission]
    role: str | None = None
    user_id: int | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SERVICE_PERMISSIONS = frozenset(
    {
        Permission.CASE_CREATE,
        Permission.CASE_READ,
        Permission.STATS_READ,
        Permission.HANDOFF_REQUEST,
    }
)
SERVICE_PRINCIPAL = Principal(kind="service", name="service", permissions=SERVICE_PERMISSIONS)

# Staff roles of the console. Officers work cases; supervisors (the head of the body) also
# approve extensions and review opinions, see personal numbers and read the audit log;
# administrators also manage accounts. No staff role files cases or handoff requests: those
# come from the conversation through the action server's token.
OFFICER = "officer"
SUPERVISOR = "supervisor"
ADMIN = "admin"
_OFFICER_PERMISSIONS = frozenset(
    {
        Permission.CONSOLE,
        Permission.CASE_READ,
        Permission.CASE_WORK,
        Permission.STATS_READ,
        Permission.CONVERSATION_READ,
        Permission.NLU_LABEL,
        Permission.HANDOFF,
    }
)
_SUPERVISOR_PERMISSIONS = _OFFICER_PERMISSIONS | {
    Permission.CASE_REVEAL,
    Permission.CASE_APPROVE,
    Permission.NLU_EXPORT,
    Permission.AUDIT_READ,
}
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    OFFICER: _OFFICER_PERMISSIONS,
    SUPERVISOR: _SUPERVISOR_PERMISSIONS,
    ADMIN: _SUPERVISOR_PERMISSIONS | {Permission.USER_MANAGE},
}
ROLE_LABELS: dict[str, str] = {OFFICER: "办理人员", SUPERVISOR: "负责人", ADMIN: "系统管理员"}

# Cached result of authenticate(); a request key so the lookup runs once per request.
_PRINCIPAL_KEY = web.RequestKey("principal", Principal | None)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def service_token_authenticator(request: web.Request) -> Principal | None:
    """The action server's bearer token. A wrong token is an error, not an anonymous call."""
    token = bearer_token(request)
    if token is None:
        if "Authorization" in request.headers:
            raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        return None
    expected = request.app[SETTINGS].service_token
    if hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
        return SERVICE_PRINCIPAL
    raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: web.Request) -> Principal | None:
    """The caller, or ``None`` for an anonymous request (cached on the request)."""
    if _PRINCIPAL_KEY in request:
        return request[_PRINCIPAL_KEY]
    principal: Principal | None = None
    for authenticator in request.app[AUTHENTICATORS]:
        principal = await authenticator(request)
        if principal is not None:
            break
    request[_PRINCIPAL_KEY] = principal
    return principal


async def authorize(request: web.Request, permission: Permission) -> Principal:
    """The caller if allowed ``permission``; 401 when anonymous, 403 when not allowed."""
    principal = await authenticate(request)
    if principal is None:
        raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    if not principal.can(permission):
        raise ApiError(403, "forbidden")
    return principal

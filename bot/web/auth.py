"""Who is calling, and may they do this?

``authorize(request, permission)`` is the single check every protected handler makes. The
caller is identified by the authenticators in ``app[AUTHENTICATORS]``, tried in order: the
service token of the action server is built in; the staff console adds one that reads its
session and returns a ``Principal`` with the permissions of the staff member's role
(``ROLE_PERMISSIONS``).
"""

from __future__ import annotations

import hmac

from aiohttp import web

from bot.rules.roles import SERVICE_PRINCIPAL, Permission, Principal
from bot.web.errors import ApiError
from bot.web.keys import AUTHENTICATORS, SETTINGS


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

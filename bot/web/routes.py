"""The route table of the console and the API: every route is declared with the permission it
needs.

``add(app, method, path, handler, permission)`` wraps the handler so that ``authorize`` runs
before it: a route cannot be registered without saying who may use it, and the access tests
enumerate ``ROUTE_PERMISSIONS`` against the application's router so that no route is
forgotten. ``permission=None`` marks the few public routes (the login page). Console pages
(``/console...``) are for staff sessions only, whatever the service token may do.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.rules.roles import Permission, Principal
from bot.web.auth import authorize
from bot.web.errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StaffHandler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]

# (method, path) -> the permission the route needs (None: public)
ROUTE_PERMISSIONS: dict[tuple[str, str], Permission | None] = {}


def add(
    app: web.Application,
    method: str,
    path: str,
    handler: StaffHandler | Handler,
    permission: Permission | None,
    *,
    name: str | None = None,
) -> None:
    staff_only = path.startswith("/console")
    if permission is None:
        wrapped = handler  # type: ignore[assignment]
    else:

        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            principal = await authorize(request, permission)
            if staff_only and principal.kind != "staff":
                # The action server's token is for the API; console pages need a staff login.
                raise ApiError(401, "unauthorized")
            return await handler(request, principal)  # type: ignore[call-arg]

    app.router.add_route(method, path, wrapped, name=name)
    ROUTE_PERMISSIONS[(method, path)] = permission

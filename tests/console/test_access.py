"""Access control over the whole router: every staff route refuses an anonymous request
(console pages redirect to the login page, the API answers 401) and a role without the
route's permission (403), and every state-changing console route needs the CSRF token.

The routes are enumerated from the application's router, so a route added later without a
declared permission fails ``test_every_route_is_declared``.
"""

from __future__ import annotations

import re

from bot.web.routes import ROUTE_PERMISSIONS
from bot.rules.roles import Permission, ROLE_PERMISSIONS
from tests.console.conftest import ROLES, file_case

# Routes of bot/api/cases.py (not registered through the console's table) and what they need.
API_ROUTES: dict[tuple[str, str], Permission | None] = {
    ("POST", "/api/v1/cases"): Permission.CASE_CREATE,
    ("GET", "/api/v1/cases"): Permission.CASE_READ,
    ("GET", "/api/v1/cases/{case_no}"): Permission.CASE_READ,
    ("GET", "/api/v1/status/{case_no}"): None,  # the citizen's lookup: query code, rate limited
    ("GET", "/api/v1/stats"): Permission.STATS_READ,
}
STAFF_PREFIXES = ("/console", "/api/")
SAFE = {"GET", "HEAD", "OPTIONS"}

PARAMS = {
    "case_no": "XF2026000001",
    "handoff_id": "1",
    "notification_id": "1",
    "user_id": "999",  # no such account: allowed roles get 404, nobody is changed
    "table": "channel",
    "conversation_id": "no-such-conversation",
    "key": "XF2026000001",  # an early-warning cluster that does not exist: 404
    "entry_id": "999",  # no such ledger entry
    "step_id": "1",
    "day_id": "999",  # no such reception day
}


def staff_routes(app) -> dict[tuple[str, str], Permission | None]:
    """Every (method, path) of the router under /console and /api/."""
    found = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        if path.startswith(STAFF_PREFIXES):
            found[(route.method, path)] = None
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: PARAMS[m.group(1)], path)


def declared(method: str, path: str) -> Permission | None:
    key = ("GET" if method == "HEAD" else method, path)  # HEAD runs the GET handler
    return ROUTE_PERMISSIONS[key] if key in ROUTE_PERMISSIONS else API_ROUTES[key]


async def test_every_route_is_declared(server):
    routes = staff_routes(server.app)
    undeclared = []
    for method, path in routes:
        key = ("GET" if method == "HEAD" else method, path)
        if key not in ROUTE_PERMISSIONS and key not in API_ROUTES:
            undeclared.append((method, path))
    assert undeclared == [], "routes without a declared permission"
    assert len(routes) > 40  # the console is really there
    # Every permission-carrying route lives under the two protected prefixes; what is outside
    # them (health checks, static files, the citizens' pages) is public by design.
    assert all(path.startswith(STAFF_PREFIXES) for _, path in ROUTE_PERMISSIONS)


async def test_anonymous_requests_are_refused(server, anonymous):
    public = {("GET", "/console/login"), ("POST", "/console/login"), ("GET", "/api/v1/status/{case_no}")}
    for method, path in staff_routes(server.app):
        if ("GET" if method == "HEAD" else method, path) in public:
            continue
        response = await anonymous.request(method, concrete(path), allow_redirects=False)
        if path.startswith("/console"):
            assert response.status == 303, (method, path, response.status)
            assert response.headers["Location"].startswith("/console/login"), (method, path)
        else:
            assert response.status == 401, (method, path, response.status)
            if method != "HEAD":
                assert (await response.json())["error"] == "unauthorized"


async def test_a_role_without_the_permission_gets_403(server, staff, anonymous):
    members = {role: await staff(role) for role in ROLES}
    await file_case(anonymous)
    checked = 0
    for method, path in sorted(staff_routes(server.app)):
        if method == "HEAD" or path == "/console/logout":  # logout is tested on its own
            continue
        permission = declared(method, path)
        if permission is None:
            continue
        allowed = [r for r in ROLES if permission in ROLE_PERMISSIONS[r]]
        for role in ROLES:
            member = members[role]
            # The right CSRF token: a 403 here is the role's, not a missing token's.
            headers = {"X-CSRF-Token": member.csrf}
            if method == "POST" and path.startswith("/api/"):
                headers["Content-Type"] = "application/json"
            response = await member.client.request(
                method, concrete(path), headers=headers, allow_redirects=False,
                data="{}" if path.startswith("/api/") and method == "POST" else None,
            )
            if role in allowed:
                assert response.status not in (401, 403), (role, method, path, response.status)
            else:
                assert response.status == 403, (role, method, path, response.status)
                checked += 1
    # officers lack reveal, approvals, export, audit and accounts; supervisors lack accounts;
    # no staff role files cases or handoff requests.
    assert checked >= 20


async def test_every_state_changing_console_route_needs_the_csrf_token(server, staff):
    admin = await staff("admin")
    posts = [p for m, p in staff_routes(server.app) if m not in SAFE and p.startswith("/console")
             and p != "/console/login"]
    assert len(posts) > 20
    for path in posts:
        for form in ({}, {"csrf_token": "wrong-token"}):
            response = await admin.post(concrete(path), form, csrf=False)
            assert response.status == 403, (path, form, response.status)
            assert "页面已过期" in await response.text()
    # The right token from another site is refused too (Origin checked).
    response = await admin.post("/console/logout", headers={"Origin": "https://evil.example"})
    assert response.status == 403
    # ... and from this site it works.
    response = await admin.post("/console/logout")
    assert response.status == 303


async def test_staff_api_writes_need_the_csrf_token_too(server, staff):
    admin = await staff("admin")
    response = await admin.client.post("/api/v1/handoffs", json={"conversation_id": "c1"})
    assert response.status == 403
    assert (await response.json())["error"] == "csrf_failed"


async def test_the_service_token_does_not_open_the_console(anonymous):
    response = await anonymous.get("/console/cases", headers={"Authorization": "Bearer test-service-token"},
                                   allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/login")


async def test_console_pages_carry_security_headers(staff):
    officer = await staff("officer")
    response = await officer.client.get("/console/cases")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

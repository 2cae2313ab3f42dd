"""GET /api/v1/cases/{case_no} and /api/v1/cases?conversation_id=...; revealing numbers."""

from __future__ import annotations

from bot.app import init_app
from bot.rules.roles import Principal, ROLE_PERMISSIONS
from bot.web.keys import AUTHENTICATORS
from tests.api.helpers import (
    ID_MASKED,
    ID_NUMBER,
    PHONE,
    PHONE_MASKED,
    auth,
    case_body,
    count_rows,
    create_case,
    fetch_rows,
    has_chinese,
)


async def test_get_case_requires_a_token(client):
    case_no = (await create_case(client))["case"]["case_no"]
    for headers in ({}, auth("wrong")):
        response = await client.get(f"/api/v1/cases/{case_no}", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"
    response = await client.get("/api/v1/cases?conversation_id=conv-0001")
    assert response.status == 401


async def test_get_case_returns_the_masked_case(client):
    created = await create_case(client)
    case_no = created["case"]["case_no"]
    response = await client.get(f"/api/v1/cases/{case_no}", headers=auth())
    assert response.status == 200
    case = await response.json()
    assert case == created["case"]
    assert case["petitioner"]["id_number"] == ID_MASKED
    assert case["petitioner"]["phone"] == PHONE_MASKED
    assert case["personal_numbers_revealed"] is False
    # Loosely typed case numbers are found too.
    response = await client.get(f"/api/v1/cases/{case_no.lower()}", headers=auth())
    assert response.status == 200


async def test_unknown_case_is_a_404(client):
    for case_no in ("XF2026999999", "nonsense"):
        response = await client.get(f"/api/v1/cases/{case_no}", headers=auth())
        assert response.status == 404
        body = await response.json()
        assert body["error"] == "not_found"
        assert has_chinese(body["message"])


async def test_cases_of_a_conversation_newest_first(client, clock):
    first = await create_case(client, case_body(conversation_id="conv-A"))
    second = await create_case(
        client,
        case_body(conversation_id="conv-A", facts="另一件事情：小区电梯经常故障，物业一直不修。"),
    )
    await create_case(client, case_body(conversation_id="conv-B"))
    response = await client.get("/api/v1/cases?conversation_id=conv-A", headers=auth())
    assert response.status == 200
    cases = (await response.json())["cases"]
    assert [c["case_no"] for c in cases] == [second["case"]["case_no"], first["case"]["case_no"]]
    response = await client.get("/api/v1/cases?conversation_id=nobody", headers=auth())
    assert (await response.json()) == {"cases": []}
    response = await client.get("/api/v1/cases", headers=auth())
    assert response.status == 400
    assert (await response.json())["error"] == "conversation_id_required"


async def test_service_token_may_not_reveal_numbers(client, raw_engine):
    case_no = (await create_case(client))["case"]["case_no"]
    for url in (
        f"/api/v1/cases/{case_no}?reveal=1",
        "/api/v1/cases?conversation_id=conv-0001&reveal=1",
    ):
        response = await client.get(url, headers=auth())
        assert response.status == 403
        body = await response.json()
        assert body["error"] == "forbidden"
        assert "证件号码" in body["message"]
        assert ID_NUMBER not in await response.text()
    assert await count_rows(raw_engine, "audit_log") == 0


def staff_authenticator(role_by_user: dict[str, str]):
    """Stands in for the staff console's session: X-Test-Staff names the user."""

    async def authenticate(request):
        user = request.headers.get("X-Test-Staff")
        if user is None:
            return None
        return Principal(kind="staff", name=user, permissions=ROLE_PERMISSIONS[role_by_user[user]])

    return authenticate


async def test_allowed_staff_role_reveals_and_is_audited(serve_app, settings, raw_engine, caplog):
    app = await init_app(settings)
    app[AUTHENTICATORS].append(staff_authenticator({"li": "supervisor", "wang": "officer"}))
    client = await serve_app(app)
    case_no = (await create_case(client))["case"]["case_no"]

    response = await client.get(
        f"/api/v1/cases/{case_no}?reveal=1", headers={"X-Test-Staff": "wang"}
    )
    assert response.status == 403  # an officer reads, but does not reveal
    response = await client.get(f"/api/v1/cases/{case_no}", headers={"X-Test-Staff": "wang"})
    assert response.status == 200
    assert (await response.json())["petitioner"]["id_number"] == ID_MASKED
    assert await count_rows(raw_engine, "audit_log") == 0

    response = await client.get(f"/api/v1/cases/{case_no}?reveal=1", headers={"X-Test-Staff": "li"})
    assert response.status == 200
    case = await response.json()
    assert case["petitioner"]["id_number"] == ID_NUMBER
    assert case["petitioner"]["phone"] == PHONE
    assert case["personal_numbers_revealed"] is True

    entries = await fetch_rows(
        raw_engine,
        "SELECT a.actor, a.action, c.case_no FROM audit_log a JOIN cases c ON c.id = a.case_id",
    )
    assert entries == [{"actor": "li", "action": "reveal_personal_numbers", "case_no": case_no}]
    assert ID_NUMBER not in caplog.text and PHONE not in caplog.text

"""POST /api/v1/cases: auth, idempotency, validation, storage, numbering, routing, deadlines."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.rules.categories import PURPOSES
from bot.rules.deadlines import case_deadlines, local_date
from bot.rules.jurisdiction import resolve_place, responsible_unit
from bot.store.crypto import Crypto
from tests.api.helpers import (
    BASE_CASE,
    DELETE,
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
    post_case,
)

# --- authentication and headers ----------------------------------------------------------------


async def test_create_requires_the_service_token(client, raw_engine):
    for headers in ({}, auth("wrong-token"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        headers["Idempotency-Key"] = uuid.uuid4().hex
        response = await client.post("/api/v1/cases", json=case_body(), headers=headers)
        assert response.status == 401
        body = await response.json()
        assert body["error"] == "unauthorized"
        assert has_chinese(body["message"])
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await count_rows(raw_engine, "cases") == 0


async def test_missing_idempotency_key_is_a_400(client, raw_engine):
    for key in (None, "", "has space", "x" * 129):
        headers = auth()
        if key is not None:
            headers["Idempotency-Key"] = key
        response = await client.post("/api/v1/cases", json=case_body(), headers=headers)
        assert response.status == 400, key
        body = await response.json()
        assert body["error"] == "idempotency_key_required"
        assert has_chinese(body["message"])
    assert await count_rows(raw_engine, "cases") == 0


async def test_malformed_json_is_a_400_without_traceback(client):
    headers = {**auth(), "Idempotency-Key": "k1", "Content-Type": "application/json"}
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe", b""):
        response = await client.post("/api/v1/cases", data=raw, headers=headers)
        assert response.status == 400
        text = await response.text()
        assert json.loads(text)["error"] == "invalid_json"
        assert "Traceback" not in text


# --- validation --------------------------------------------------------------------------------


async def test_validation_errors_name_each_field_in_chinese(client, raw_engine):
    body = case_body(
        petitioner__id_number="110105194912310021",  # wrong check digit
        petitioner__phone="12345",
        facts=DELETE,
        category="不存在的分类",
        group_size="很多",
        is_repeat="是",
    )
    response = await post_case(client, body)
    assert response.status == 422
    payload = await response.json()
    assert payload["error"] == "validation_failed"
    assert has_chinese(payload["message"])
    fields = payload["fields"]
    assert set(fields) == {
        "petitioner.id_number",
        "petitioner.phone",
        "facts",
        "category",
        "group_size",
        "is_repeat",
    }
    assert all(has_chinese(message) for message in fields.values())
    assert "校验码" in fields["petitioner.id_number"]
    assert "城乡建设" in fields["category"]  # the message lists the valid categories
    assert await count_rows(raw_engine, "cases") == 0
    assert await count_rows(raw_engine, "idempotency_keys") == 0


async def test_missing_petitioner_and_wrong_types(client):
    response = await post_case(client, case_body(petitioner=DELETE, channel="Web Chat!"))
    assert response.status == 422
    fields = (await response.json())["fields"]
    assert "petitioner" in fields
    assert "channel" in fields


async def test_no_value_of_any_type_causes_a_server_error(client):
    odd_values = [None, 0, 1.5, True, [], ["x"], {}, {"a": 1}, "", "x" * 5000]
    top = [k for k in BASE_CASE if k not in ("petitioner", "prior_case")]
    paths = top + [f"petitioner__{k}" for k in BASE_CASE["petitioner"]] + ["prior_case"]
    for path in paths:
        for value in odd_values:
            body = case_body(**{path: value})
            if path == "prior_case":
                body["is_repeat"] = True
            response = await post_case(client, body)
            assert response.status in (201, 422), (path, value, await response.text())
            payload = await response.json()
            if response.status == 422:
                assert has_chinese(payload["message"])
    for stage in (["x"], {"a": 1}, 3, "final"):
        prior = {"body": ["区住建局"], "case_no": 12, "review_stage": stage}
        response = await post_case(client, case_body(is_repeat=True, prior_case=prior))
        assert response.status == 422
        assert set((await response.json())["fields"]) == {
            "prior_case.body",
            "prior_case.case_no",
            "prior_case.review_stage",
        }


async def test_rejected_request_does_not_burn_the_key(client):
    key = uuid.uuid4().hex
    response = await post_case(client, case_body(petitioner__phone="123"), key=key)
    assert response.status == 422
    # The corrected retry with the same key (the same citizen, the phone fixed).
    created = await create_case(client, case_body(petitioner__id_number=ID_NUMBER, petitioner__phone=PHONE), key=key)
    assert created["case"]["petitioner"]["phone"] == PHONE_MASKED


async def test_after_recheck_the_answer_about_the_same_matter_is_required(client, raw_engine):
    body = case_body(
        is_repeat=True,
        prior_case={"body": "西湖区住建局", "case_no": "XF2024000123", "review_stage": "rechecked"},
    )
    response = await post_case(client, body)
    assert response.status == 422
    fields = (await response.json())["fields"]
    assert set(fields) == {"prior_case.same_matter_after_recheck"}
    assert await count_rows(raw_engine, "cases") == 0

    body["prior_case"]["same_matter_after_recheck"] = False  # new facts: they must be stated
    response = await post_case(client, body)
    assert set((await response.json())["fields"]) == {"prior_case.new_facts"}


async def test_after_recheck_new_facts_file_normally_and_the_same_matter_is_flagged(client, raw_engine):
    prior = {"body": "西湖区住建局", "case_no": "XF2024000123", "review_stage": "rechecked"}
    new = {**prior, "same_matter_after_recheck": False, "new_facts": "复核后开发商又停工了三个月，有新的停工通知"}
    created = await create_case(client, case_body(is_repeat=True, prior_case=new))
    assert created["case"]["prior_case"]["same_matter_after_recheck"] is False
    assert created["case"]["prior_case"]["new_facts"] == new["new_facts"]

    same = {**prior, "same_matter_after_recheck": True}
    flagged = await create_case(client, case_body(is_repeat=True, prior_case=same))  # 第22条: registered
    assert flagged["case"]["prior_case"]["same_matter_after_recheck"] is True
    assert flagged["case"]["prior_case"]["new_facts"] is None
    assert await count_rows(raw_engine, "cases") == 2

    body = case_body(is_repeat=True, prior_case={**prior, "review_stage": "reviewed"})  # 复核 still possible
    created = await create_case(client, body)
    assert created["case"]["prior_case"] == {
        "body": "西湖区住建局",
        "case_no": "XF2024000123",
        "review_stage": "reviewed",
        "same_matter_after_recheck": None,
        "new_facts": None,
    }


@pytest.mark.parametrize(
    ("id_type", "number", "masked"),
    [
        ("hk_macao_permit", "H12345678", "*******78"),
        ("taiwan_permit", "12345678", "******78"),
        ("passport", "E12345678", "*******78"),
    ],
)
async def test_other_documents_are_stored_encrypted_with_their_type(client, raw_engine, id_type, number, masked):
    created = await create_case(client, case_body(petitioner__id_type=id_type, petitioner__id_number=number))
    assert created["case"]["petitioner"]["id_type"] == id_type
    assert created["case"]["petitioner"]["id_number"] == masked


async def test_a_petition_without_document_or_phone_is_registered(client, raw_engine):
    body = case_body(petitioner__id_type="none", petitioner__id_number=None, petitioner__phone=None,
                     petitioner__contact_type="none")
    created = await create_case(client, body)
    assert created["case"]["petitioner"]["id_type"] == "none"
    assert created["case"]["petitioner"]["id_number"] is None
    assert created["case"]["petitioner"]["phone"] is None
    assert created["case"]["petitioner"]["contact_type"] == "none"


async def test_a_landline_is_a_contact(client):
    created = await create_case(client, case_body(petitioner__phone="0571-88001234", petitioner__contact_type="landline"))
    assert created["case"]["petitioner"]["contact_type"] == "landline"
    assert created["case"]["petitioner"]["phone"] == "0571-****1234"


async def test_unknown_review_stage_is_a_field_error(client):
    body = case_body(is_repeat=True, prior_case={"body": "区信访局", "review_stage": "final"})
    response = await post_case(client, body)
    assert response.status == 422
    assert "prior_case.review_stage" in (await response.json())["fields"]


# --- a successful create ----------------------------------------------------------------------


async def test_create_returns_case_and_stores_only_encrypted_numbers(client, raw_engine, settings):
    response = await post_case(client, case_body(petitioner__id_number="11010519491231002x"))
    assert response.status == 201
    payload = await response.json()
    assert re.fullmatch(r"\d{6}", payload["query_code"])
    case = payload["case"]
    assert re.fullmatch(r"XF\d{4}000001", case["case_no"])
    assert case["status"] == "registered"
    assert case["status_label"] == "已登记，待受理"
    assert case["channel"] == "web"
    assert case["conversation_id"] == "conv-0001"
    assert case["petitioner"] == {
        "name": "张三",
        "id_type": "resident_id",
        "id_number": ID_MASKED,
        "contact_type": "mobile",
        "phone": PHONE_MASKED,
        "address": "浙江省杭州市西湖区文三路100号",
    }
    assert datetime.fromisoformat(case["created_at"]).utcoffset() == timedelta(0)
    # Free text is kept as written (full-width punctuation included).
    assert case["facts"] == BASE_CASE["facts"] and "，" in case["facts"]
    assert case["request"] == BASE_CASE["request"]
    assert ID_NUMBER not in json.dumps(payload) and PHONE not in json.dumps(payload)

    rows = await fetch_rows(raw_engine, "SELECT * FROM cases")
    assert len(rows) == 1
    row = rows[0]
    everything = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
    assert ID_NUMBER not in everything and ID_NUMBER.lower() not in everything
    assert PHONE not in everything
    assert payload["query_code"] not in row["query_code_enc"]
    assert row["id_number_masked"] == ID_MASKED and row["phone_masked"] == PHONE_MASKED
    crypto = Crypto(settings.encryption_keys, settings.hmac_key)
    assert crypto.decrypt(row["id_number_enc"]) == ID_NUMBER  # stored upper-case
    assert crypto.decrypt(row["phone_enc"]) == PHONE
    assert crypto.decrypt(row["query_code_enc"]) == payload["query_code"]
    assert row["id_number_hmac"] == crypto.index(ID_NUMBER)

    events = await fetch_rows(raw_engine, "SELECT action, to_status, actor FROM case_events")
    assert events == [{"action": "create", "to_status": "registered", "actor": "service"}]
    keys = await fetch_rows(raw_engine, "SELECT case_id FROM idempotency_keys")
    assert keys == [{"case_id": row["id"]}]


async def test_create_logs_only_masked_numbers(client, caplog):
    caplog.set_level(logging.DEBUG)
    payload = await create_case(client)
    case_no = payload["case"]["case_no"]
    await client.get(f"/api/v1/status/{case_no}?code={payload['query_code']}")
    assert case_no in caplog.text
    assert ID_MASKED in caplog.text
    for secret in (ID_NUMBER, PHONE, payload["query_code"]):
        assert secret not in caplog.text


async def test_case_numbers_are_sequential_per_local_year(client, clock):
    # 2025-12-31 23:59 in China is still 2025; one minute later it is 2026.
    clock.now = datetime(2025, 12, 31, 15, 59, tzinfo=timezone.utc)
    first = await create_case(client)
    second = await create_case(client)
    clock.now = datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc)
    third = await create_case(client)
    fourth = await create_case(client)
    numbers = [p["case"]["case_no"] for p in (first, second, third, fourth)]
    assert numbers == ["XF2025000001", "XF2025000002", "XF2026000001", "XF2026000002"]


# --- idempotency ------------------------------------------------------------------------------


async def test_replay_returns_the_first_result(client, raw_engine):
    key = uuid.uuid4().hex
    body = case_body()
    first = await post_case(client, body, key=key)
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    first_body = await first.json()

    # Same content, keys in another order: still the same request.
    reordered = dict(reversed(list(body.items())))
    again = await post_case(client, reordered, key=key)
    assert again.status == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    again_body = await again.json()
    assert again_body["case"]["case_no"] == first_body["case"]["case_no"]
    assert again_body["query_code"] == first_body["query_code"]
    assert again_body == first_body
    assert await count_rows(raw_engine, "cases") == 1


async def test_the_same_petition_resent_under_a_new_key_soon_after_is_the_same_filing(client, clock, raw_engine):
    """The chat's key names the day: a confirmation resent just after midnight (the first
    answer lost with a replica) comes with another key. The identical request from the same
    conversation within 30 minutes gets the first case and its query code, not a second case
    or a "same matter" answer; later, it is a petition of its own again (a repeat)."""
    clock.now = datetime(2026, 11, 30, 15, 59, 50, tzinfo=timezone.utc)  # 23:59:50 in Hangzhou
    body = case_body()
    first = await (await post_case(client, body, key=uuid.uuid4().hex)).json()
    clock.now += timedelta(seconds=20)  # the next day in Hangzhou
    again = await post_case(client, body, key=uuid.uuid4().hex)
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == first
    assert await count_rows(raw_engine, "cases") == 1
    # The same answers from another conversation are another request: the same person's
    # same matter, still being handled, gets the material added (第十九条), not a replay.
    other = await post_case(client, {**body, "conversation_id": "another-chat"}, key=uuid.uuid4().hex)
    assert "Idempotent-Replayed" not in other.headers and (await other.json())["outcome"] == "added_to_case"
    clock.now += timedelta(minutes=31)
    later = await (await post_case(client, body, key=uuid.uuid4().hex)).json()
    assert later["outcome"] == "added_to_case" and later["query_code"] is None


async def test_concurrent_identical_posts_create_exactly_one_case(client, raw_engine):
    key = uuid.uuid4().hex
    body = case_body()
    responses = await asyncio.gather(*(post_case(client, body, key=key) for _ in range(5)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 200, 200, 200, 201]
    bodies = [await r.json() for r in responses]
    assert len({b["case"]["case_no"] for b in bodies}) == 1
    assert len({b["query_code"] for b in bodies}) == 1
    assert await count_rows(raw_engine, "cases") == 1
    assert await count_rows(raw_engine, "idempotency_keys") == 1
    # The losers gave their case numbers back: the next case is number 2.
    following = await create_case(client)
    assert following["case"]["case_no"].endswith("000002")


async def test_concurrent_different_keys_get_distinct_numbers(client, raw_engine):
    responses = await asyncio.gather(*(post_case(client) for _ in range(5)))
    assert [r.status for r in responses] == [201] * 5
    numbers = sorted([(await r.json())["case"]["case_no"] for r in responses])
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003", "000004", "000005"]
    assert await count_rows(raw_engine, "cases") == 5


async def test_same_key_with_a_different_body_is_a_conflict(client, raw_engine):
    key = uuid.uuid4().hex
    await create_case(client, key=key)
    response = await post_case(client, case_body(request="希望尽快处理。"), key=key)
    assert response.status == 409
    payload = await response.json()
    assert payload["error"] == "idempotency_conflict"
    assert has_chinese(payload["message"])
    assert await count_rows(raw_engine, "cases") == 1


# --- routing and deadlines ------------------------------------------------------------------------


async def test_location_routing_purpose_and_deadlines(client, clock):
    clock.now = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in China
    body = case_body(category="市场监管", purpose=DELETE, location="西湖区古荡街道古墩路")
    case = (await create_case(client, body))["case"]

    place = resolve_place("西湖区古荡街道古墩路")
    assert case["location"] == {
        "text": "西湖区古荡街道古墩路",
        "division": place.subdivision,
        "division_code": place.subdivision_code,
        "status": place.status,
    }
    assert case["location"]["status"] == "in"
    assert "古荡" in case["location"]["division"]
    assert case["responsible_unit"] == responsible_unit("市场监管", place)
    assert case["responsible_unit"] == "西湖区市场监督管理局"
    assert case["purpose"] in PURPOSES

    expected = case_deadlines(clock.now)
    deadlines = case["deadlines"]
    assert deadlines["acceptance_notice_due"] == expected["acceptance_notice_due"].isoformat()
    due = date.fromisoformat(deadlines["acceptance_notice_due"])
    assert due - local_date(clock.now) == timedelta(days=15)
    assert set(deadlines) >= {
        "acceptance_notice_due",
        "handling_due",
        "handling_due_projected",
        "extension_max_days",
        "review_request_days",
    }


async def test_place_outside_the_district_is_recorded(client):
    case = (await create_case(client, case_body(location="拱墅区米市巷街道")))["case"]
    assert case["location"]["status"] == "out"
    assert case["responsible_unit"]


# --- limits and unknown routes --------------------------------------------------------------------


async def test_body_too_large_is_a_413(make_client, make_settings, raw_engine):
    client = await make_client(make_settings(MAX_BODY_BYTES="2048"))
    big = case_body(facts="施工噪声扰民。" * 400)
    response = await post_case(client, big)
    assert response.status == 413
    payload = await response.json()
    assert payload["error"] == "payload_too_large"
    assert has_chinese(payload["message"])

    async def chunks():  # no Content-Length: the limit applies while reading
        data = json.dumps(big).encode()
        for start in range(0, len(data), 512):
            yield data[start : start + 512]

    headers = {**auth(), "Idempotency-Key": "chunked", "Content-Type": "application/json"}
    response = await client.post("/api/v1/cases", data=chunks(), headers=headers)
    assert response.status == 413
    assert (await response.json())["error"] == "payload_too_large"
    assert await count_rows(raw_engine, "cases") == 0


async def test_unknown_api_paths_and_methods_are_json(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"
    response = await client.delete("/api/v1/cases", headers=auth())
    assert response.status == 405
    assert (await response.json())["error"] == "method_not_allowed"

"""GET /api/v1/status/{case_no}?code=...: the citizen's lookup and its rate limits."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.api.helpers import auth, create_case, has_chinese
from tests.conftest import TEST_REDIS_URL

NOT_FOUND = {
    "error": "not_found",
    "message": "未找到对应的信访件，请核对信访件编号和查询码。",
}


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1000000:06d}"


async def lookup(client, case_no: str, code: str, headers=None):
    return await client.get(f"/api/v1/status/{case_no}", params={"code": code}, headers=headers)


async def test_right_code_shows_status_without_personal_data(client):
    created = await create_case(client)
    case = created["case"]
    response = await lookup(client, case["case_no"], created["query_code"])
    assert response.status == 200
    status = await response.json()
    assert status == {
        "case_no": case["case_no"],
        "status": "registered",
        "status_label": "已登记，待受理",
        "created_at": case["created_at"],
        "responsible_unit": case["responsible_unit"],
        "next_deadline": {
            "label": "登记转送，书面告知接收情况以及处理途径和程序",
            "article": "第二十二条、第二十三条",
            "date": case["deadlines"]["acceptance_notice_due"],
        },
        "deadlines": case["deadlines"],
        "rating": None,  # not answered yet: nothing to rate
    }
    # Spaces, dashes and lower case in the case number are tolerated.
    loose = f"xf-{case['case_no'][2:6]} {case['case_no'][6:]}"
    assert (await lookup(client, loose, created["query_code"])).status == 200


async def test_wrong_code_looks_exactly_like_an_unknown_case(client):
    created = await create_case(client)
    case_no = created["case"]["case_no"]
    answers = []
    for number, code in (
        (case_no, wrong(created["query_code"])),
        ("XF2020000001", created["query_code"]),
        ("not-a-case", created["query_code"]),
        (case_no, "12345"),
        (case_no, "abcdef"),
    ):
        response = await lookup(client, number, code)
        answers.append((response.status, await response.json()))
    assert answers == [(404, NOT_FOUND)] * 5


async def test_missing_code_is_a_400(client):
    created = await create_case(client)
    response = await client.get(f"/api/v1/status/{created['case']['case_no']}")
    assert response.status == 400
    assert (await response.json())["error"] == "code_required"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limited_client(request, make_client, make_settings):
    """A client whose status lookups are limited by the memory or the real Redis backend."""
    if request.param == "memory":
        yield await make_client(make_settings())
        return
    prefix = f"test-{uuid.uuid4().hex}:"
    yield await make_client(make_settings(RATE_LIMIT_BACKEND="redis", REDIS_KEY_PREFIX=prefix))
    from redis.asyncio import Redis

    redis = Redis.from_url(TEST_REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    assert keys, "the redis backend was not used"
    await redis.delete(*keys)
    await redis.aclose()


async def test_case_number_is_locked_after_five_failures(limited_client):
    client = limited_client
    created = await create_case(client)
    case_no, code = created["case"]["case_no"], created["query_code"]
    # Successful lookups do not use up the allowance.
    for _ in range(6):
        assert (await lookup(client, case_no, code)).status == 200
    for _ in range(5):
        assert (await lookup(client, case_no, wrong(code))).status == 404
    response = await lookup(client, case_no, code)  # even the right code must wait now
    assert response.status == 429
    body = await response.json()
    assert body["error"] == "rate_limited"
    assert has_chinese(body["message"]) and "分钟" in body["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 900
    assert body["retry_after"] == retry_after
    # Another case is not affected by this case number's lock.
    other = await create_case(client)
    assert (await lookup(client, other["case"]["case_no"], other["query_code"])).status == 200


async def test_parallel_guesses_cannot_pass_the_limit(limited_client):
    client = limited_client
    created = await create_case(client)
    case_no, code = created["case"]["case_no"], created["query_code"]
    guesses = [f"{n:06d}" for n in range(20) if f"{n:06d}" != code][:10]
    responses = await asyncio.gather(*(lookup(client, case_no, g) for g in guesses))
    statuses = [r.status for r in responses]
    assert statuses.count(404) == 5
    assert statuses.count(429) == 5


async def test_requester_is_limited_across_case_numbers(make_client, make_settings):
    client = await make_client(
        make_settings(
            STATUS_LOOKUP_MAX_FAILURES_PER_CASE="100",
            STATUS_LOOKUP_MAX_FAILURES_PER_REQUESTER="3",
        )
    )
    created = await create_case(client)
    case_no, code = created["case"]["case_no"], created["query_code"]
    as_sender = lambda sender: {**auth(), "X-Requester": sender}  # noqa: E731

    # The chat sender, identified by the action server, is the requester.
    for n in range(3):
        response = await lookup(client, f"XF2020{n:06d}", code, headers=as_sender("alice"))
        assert response.status == 404
    assert (await lookup(client, case_no, code, headers=as_sender("alice"))).status == 429
    assert (await lookup(client, case_no, code, headers=as_sender("bob"))).status == 200

    # Without the token the client address is the requester (X-Requester is ignored).
    for n in range(3):
        headers = {"X-Requester": f"forged-{n}"}
        assert (await lookup(client, f"XF2021{n:06d}", code, headers=headers)).status == 404
    assert (await lookup(client, case_no, code)).status == 429
    # A wrong token is refused rather than treated as anonymous.
    response = await lookup(client, case_no, code, headers={**auth("wrong"), "X-Requester": "eve"})
    assert response.status == 401


async def test_wrong_codes_through_a_reception_booking_count_with_the_lookups(limited_client):
    """A reception day booked with a case number and query code (from another device) checks
    the code exactly as the lookup does: the same 404, and the same limit on failures."""
    from datetime import date, datetime, timedelta, timezone

    from bot.store import reception
    from bot.web.keys import SESSIONMAKER

    client = limited_client
    created = await create_case(client)
    case_no, code = created["case"]["case_no"], created["query_code"]
    today = date.today()
    async with client.server.app[SESSIONMAKER]() as session:
        day = await reception.publish_day(session, leader="区长 王某", day=today + timedelta(days=5), start="09:00",
                                          end="11:00", place="区信访接待中心", topics=None, capacity=3, actor="officer",
                                          now=datetime.now(timezone.utc), today=today)
        await session.commit()
        day_id = day.id

    async def book(number: str, query_code: str):
        return await client.post(f"/api/v1/reception-days/{day_id}/bookings", headers=auth(),
                                 json={"conversation_id": "phone-1", "channel": "web",
                                       "case_no": number, "query_code": query_code})

    for _ in range(5):
        response = await book(case_no, wrong(code))
        assert response.status == 404 and await response.json() == NOT_FOUND
    assert (await lookup(client, case_no, code)).status == 429  # the lookup is locked too
    assert (await book(case_no, code)).status == 429

    other = await create_case(client)
    response = await book(other["case"]["case_no"].lower(), other["query_code"])
    assert response.status == 201, await response.text()
    assert (await response.json())["case_no"] == other["case"]["case_no"]
    assert (await book(other["case"]["case_no"], "")).status == 400

"""GET /api/v1/stats: the aggregates behind the console charts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.helpers import auth, case_body, create_case


async def test_stats_require_a_token(client):
    assert (await client.get("/api/v1/stats")).status == 401
    assert (await client.get("/api/v1/stats", headers=auth("wrong"))).status == 401


async def test_empty_store(client):
    response = await client.get("/api/v1/stats", headers=auth())
    assert response.status == 200
    stats = await response.json()
    assert stats["total"] == 0 and stats["overdue"] == 0
    assert stats["by_channel"] == {} and stats["by_place"] == {}


async def test_counts_by_dimension_and_overdue(client, clock):
    now = datetime.now(timezone.utc)
    clock.now = now - timedelta(days=20)  # its 15-day acceptance notice is overdue now
    await create_case(client, case_body(channel="wechat", location="三墩镇紫金港路"))
    clock.now = now - timedelta(days=3)
    await create_case(client, case_body(category="市场监管", location="文新那边"))
    clock.now = now
    await create_case(
        client,
        case_body(
            channel="wechat",
            is_repeat=True,
            prior_case={"body": "西湖区住建局", "case_no": None, "review_stage": "replied"},
            location="拱墅区米市巷街道",
        ),
    )
    await create_case(client, case_body(location="西湖区"))

    response = await client.get("/api/v1/stats", headers=auth())
    assert response.status == 200
    stats = await response.json()
    assert stats["total"] == 4
    assert (stats["first_time"], stats["repeat"]) == (3, 1)
    assert stats["by_channel"] == {"wechat": 2, "web": 2}
    assert stats["by_category"] == {"城乡建设": 3, "市场监管": 1}
    assert stats["by_status"] == {"registered": 4}
    assert stats["by_place"] == {
        "三墩镇": 1,
        "文新街道": 1,
        "杭州市拱墅区": 1,
        "未明确": 1,
    }
    assert sum(stats["by_responsible_unit"].values()) == 4
    assert stats["by_responsible_unit"]["西湖区市场监督管理局"] == 1
    assert stats["overdue"] == 1


async def test_an_accepted_case_past_its_handling_limit_is_overdue(client, clock, raw_engine):
    """Overdue follows the step owed now (here: handling, 第34条), as in the console."""
    from sqlalchemy import text

    now = datetime.now(timezone.utc)
    clock.now = now - timedelta(days=80)
    created = await create_case(client, case_body())
    case_no = created["case"]["case_no"]
    accepted = (now - timedelta(days=75)).date()
    async with raw_engine.begin() as conn:
        await conn.execute(
            text("UPDATE cases SET status='accepted', accepted_at=:at, handling_due=:due WHERE case_no=:no"),
            {"at": now - timedelta(days=75), "due": accepted + timedelta(days=60), "no": case_no},
        )
    clock.now = now
    stats = await (await client.get("/api/v1/stats", headers=auth())).json()
    assert stats["by_status"] == {"accepted": 1}
    assert stats["overdue"] == 1

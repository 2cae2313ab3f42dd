"""Repeat petitions recognised at filing (条例第十九、三十五、三十六条), and the links staff keep.

The back office app runs against SQLite and PostgreSQL; cases are filed through the API as
the action server files them, moved on in the console as an officer would, and the tests
read the answers, the pages and the rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.helpers import ID_NUMBER, PHONE, case_body, count_rows, fetch_rows, post_case
from tests.console.conftest import (  # noqa: F401  (fixtures used by name)
    Staff,
    anonymous,
    cheap_password_hashes,
    console_env,
    console_settings,
    rasa,
    server,
    staff,
    tracker,
)

WAGES = dict(
    location="西湖区三墩镇西园路工地",
    category="劳动和社会保障",
    respondent="杭州宏达建筑工程有限公司",
    facts="我在三墩西园路的工地上干了六个月的木工，包工头一直拖欠工资，一共三万八千元，到现在一分没给。",
    request="要求宏达建筑公司尽快结清拖欠的三万八千元工资。",
)
WAGES_AGAIN = dict(
    location="三墩镇西园路",
    category="劳动和社会保障",
    respondent="宏达建筑",
    facts="宏达建筑的工地欠我工钱38000元，做了半年木工活，老板一直拖着不给，打电话也不接。",
    request="希望把拖欠我的38000元工钱结清。",
)
# The same company, another matter.
DUST = dict(
    location="西湖区三墩镇西园路工地",
    category="生态环境",
    respondent="杭州宏达建筑工程有限公司",
    facts="宏达建筑的工地每天晚上十点以后还在打桩，灰尘很大，噪音吵得小区居民睡不着觉。",
    request="要求工地夜间停止施工并做好防尘措施。",
)


def body(conversation: str, matter: dict, **petitioner) -> dict:
    """The documented citizen (tests/api/helpers.py) unless ``petitioner`` says otherwise."""
    b = case_body(conversation_id=conversation, **matter)
    b["petitioner"].update({"id_number": ID_NUMBER, "phone": PHONE, **petitioner})
    return b


async def file(client, b: dict, key: str | None = None):
    response = await post_case(client, b, key=key)
    return response.status, await response.json()


async def test_same_matter_being_handled_is_added_to_the_case(server, staff, raw_engine) -> None:
    officer = await staff("officer")
    client = officer.client
    status, first = await file(client, body("conv-a", WAGES))
    assert status == 201 and first["outcome"] == "created" and first["related_case"] is None
    case_no = first["case"]["case_no"]

    # The same petitioner (same ID number) tells it again in other words, from another chat.
    status, again = await file(client, body("conv-b", WAGES_AGAIN), key="again-1")
    assert status == 200, again
    assert again["outcome"] == "added_to_case"
    assert again["case"]["case_no"] == case_no
    assert again["query_code"] is None  # the code is never handed out a second time
    assert again["related_case"]["case_no"] == case_no
    assert again["related_case"]["stage"] == "handling"
    assert await count_rows(raw_engine, "cases") == 1
    materials = await fetch_rows(raw_engine, "SELECT case_id, conversation_id, facts FROM case_materials")
    assert len(materials) == 1 and materials[0]["conversation_id"] == "conv-b"
    assert "38000" in materials[0]["facts"]

    # A replay of the same request answers the same, and adds nothing.
    status, replay = await file(client, body("conv-b", WAGES_AGAIN), key="again-1")
    assert status == 200 and replay["outcome"] == "added_to_case" and replay["query_code"] is None
    assert await count_rows(raw_engine, "case_materials") == 1

    # The officer sees the material and its history on the case page.
    status, page = await officer.page(f"/console/cases/{case_no}")
    assert status == 200
    assert "补充材料" in page and "做了半年木工活" in page
    assert "同一事项再次反映，并入补充材料" in page


async def test_another_matter_of_the_same_petitioner_is_a_new_case(server, staff, raw_engine) -> None:
    officer = await staff("officer")
    _, first = await file(officer.client, body("conv-a", WAGES))
    status, other = await file(officer.client, body("conv-b", DUST))
    assert status == 201 and other["outcome"] == "created"
    assert other["case"]["case_no"] != first["case"]["case_no"]
    assert await count_rows(raw_engine, "case_links") == 0


async def test_another_person_with_the_same_matter_learns_nothing_of_the_first(server, staff) -> None:
    officer = await staff("officer")
    _, first = await file(officer.client, body("conv-a", WAGES))
    status, other = await file(officer.client, body(
        "conv-c", WAGES_AGAIN, name="李四", id_number="33010619900101123X", phone="13900001111"))
    assert status == 201 and other["outcome"] == "created"
    assert other["related_case"] is None
    assert first["case"]["case_no"] not in str(other)


async def test_same_person_by_name_and_phone_without_an_id_number(server, staff) -> None:
    officer = await staff("officer")
    _, first = await file(officer.client, body("conv-a", WAGES, id_number=None, id_type="none"))
    status, again = await file(officer.client, body("conv-b", WAGES_AGAIN, id_number=None, id_type="none"))
    assert status == 200 and again["outcome"] == "added_to_case"
    assert again["case"]["case_no"] == first["case"]["case_no"]
    # The same phone under another name is another person.
    status, other = await file(officer.client, body(
        "conv-c", WAGES_AGAIN, id_number=None, id_type="none", name="王五"))
    assert status == 201 and other["outcome"] == "created"


async def close_case(officer: Staff, case_no: str, delivered: str) -> None:
    for action, data in (
        ("accept", {}),
        ("assign", {"unit": "西湖区人力资源和社会保障局"}),
        ("reply", {"reply": "经调查，已督促施工单位结清拖欠的工资。", "delivery_method": "post",
                   "delivered_on": delivered}),
        ("close", {}),
    ):
        status, page = await officer.act(case_no, action, data)
        assert status == 303, page[-2000:]


async def test_same_matter_after_closing_is_a_linked_repeat(server, staff, clock, raw_engine) -> None:
    officer = await staff("supervisor")
    clock.now = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
    _, first = await file(officer.client, body("conv-a", WAGES))
    case_no = first["case"]["case_no"]
    await officer.page(f"/console/cases/{case_no}")
    clock.now += timedelta(days=3)
    await close_case(officer, case_no, "2026-11-05")

    clock.now += timedelta(days=5)
    status, again = await file(officer.client, body("conv-b", WAGES_AGAIN))
    assert status == 201, again
    assert again["outcome"] == "repeat"
    new_no = again["case"]["case_no"]
    assert new_no != case_no
    related = again["related_case"]
    assert related["case_no"] == case_no and related["stage"] == "handled"
    # 第三十五条: 30 days from receiving the reply (2026-11-05).
    assert related["review_request_due"] == "2026-12-07"  # 12-05 is a Saturday
    assert again["case"]["is_repeat"] is True
    assert again["case"]["prior_case"]["case_no"] == case_no
    links = await fetch_rows(raw_engine, "SELECT kind, origin FROM case_links")
    assert links == [{"kind": "repeat", "origin": "auto"}]

    # Statistics count the link: one 初信初访, one 重复信访.
    response = await officer.client.get("/api/v1/stats")
    stats = await response.json()
    assert (stats["first_time"], stats["repeat"]) == (1, 1)

    # Both case pages show the link.
    _, page = await officer.page(f"/console/cases/{new_no}")
    assert f'data-case-no="{case_no}"' in page and "原件：本件是其重复信访" in page and "登记时自动识别" in page
    _, page = await officer.page(f"/console/cases/{case_no}")
    assert f'data-case-no="{new_no}"' in page and "重复件：该件是本件的重复信访" in page


async def test_same_matter_after_recheck_is_flagged(server, staff, clock, raw_engine) -> None:
    officer = await staff("supervisor")
    clock.now = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
    _, first = await file(officer.client, body("conv-a", WAGES))
    case_no = first["case"]["case_no"]
    await officer.page(f"/console/cases/{case_no}")
    # Handled, 复查 and 复核 done: the stored status says so.
    async with raw_engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(text("UPDATE cases SET status = 'rechecked' WHERE case_no = :n"), {"n": case_no})
    clock.now += timedelta(days=120)
    status, again = await file(officer.client, body("conv-b", WAGES_AGAIN))
    assert status == 201 and again["outcome"] == "repeat"
    assert again["related_case"]["stage"] == "after_recheck"
    prior = again["case"]["prior_case"]
    assert prior["review_stage"] == "rechecked"
    assert prior["same_matter_after_recheck"] is True


async def test_staff_link_unlink_and_merge_are_audited(server, staff, raw_engine) -> None:
    officer = await staff("officer")
    _, a = await file(officer.client, body("conv-a", WAGES))
    _, b = await file(officer.client, body(
        "conv-b", DUST, name="李四", id_number="33010619900101123X", phone="13900001111"))
    a_no, b_no = a["case"]["case_no"], b["case"]["case_no"]
    await officer.page(f"/console/cases/{b_no}")

    response = await officer.post(f"/console/cases/{b_no}/link", {"earlier": a_no, "kind": "merged"})
    assert response.status == 303
    _, page = await officer.page(response.headers["Location"])
    assert f"已关联 {a_no}（合并办理）" in page
    assert await fetch_rows(raw_engine, "SELECT kind, origin FROM case_links") == [
        {"kind": "merged", "origin": officer.username}]
    stats = await (await officer.client.get("/api/v1/stats")).json()
    assert stats["repeat"] == 1

    # Linking the other way round is refused with a reason, and nothing changes.
    await officer.page(f"/console/cases/{a_no}")
    response = await officer.post(f"/console/cases/{a_no}/link", {"earlier": b_no, "kind": "repeat"})
    assert response.status == 422
    assert "请在较晚的信访件上关联较早的信访件" in await response.text()
    # An unknown number is refused politely.
    response = await officer.post(f"/console/cases/{b_no}/link", {"earlier": "XF2026999999", "kind": "repeat"})
    assert response.status == 422 and "未找到信访件 XF2026999999" in await response.text()

    await officer.page(f"/console/cases/{b_no}")
    response = await officer.post(f"/console/cases/{b_no}/unlink", {"other": a_no})
    assert response.status == 303
    assert await count_rows(raw_engine, "case_links") == 0
    stats = await (await officer.client.get("/api/v1/stats")).json()
    assert stats["repeat"] == 0
    audit = await fetch_rows(raw_engine, "SELECT action, actor FROM audit_log WHERE action LIKE 'case_%link' ORDER BY id")
    assert [row["action"] for row in audit] == ["case_link", "case_unlink"]
    assert {row["actor"] for row in audit} == {officer.username}

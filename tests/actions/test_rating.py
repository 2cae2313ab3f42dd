"""The citizen rates the handling in the chat (信访工作条例 第二十一条): the actions against the
real back office app (SQLite and PostgreSQL), a case closed in the console's workflow.

Asserted: the invitation is queued once when a case is closed with its reply delivered, the
buttons of the invitation, a rating by button and by typed words (with its comment), 不满意
answered with the 复查 right and its deadline, one rating per case, a case of another
conversation refused, the period, and the offer again on "我要评价".
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from actions.notifications import ActionNotifyCaseUpdate
from actions.rating import ActionRateCase
from bot.rules.roles import Principal, SUPERVISOR, ROLE_PERMISSIONS
from bot.store import workflow
from bot.store.cases import get_case
from bot.web.keys import SESSIONMAKER
from tests.actions.conftest import buttons_of, make_tracker, texts_of
from tests.actions.test_submission import backoffice  # noqa: F401  (fixture used by name)
from tests.api.helpers import create_case, fetch_rows
from tests.conftest import SERVICE_TOKEN

OFFICER = Principal(kind="staff", name="officer-1", role=SUPERVISOR, permissions=ROLE_PERMISSIONS[SUPERVISOR])
CLOSED_ON = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)


async def close_case(app, case_no: str, now: datetime, delivered: date | None) -> None:
    """受理 → 交办 → 书面答复 (delivered on ``delivered``) → 办结, as the console does it."""
    from bot.rules.workflow import CaseSnapshot
    from bot.console import workflow_forms

    async with app[SESSIONMAKER]() as session:
        case = await get_case(session, case_no)
        forms = {
            "accept": {},
            "assign": {"unit": case.responsible_unit},
            "reply": {"reply": "经调查核实，已督促施工单位按期完工，夜间停止施工。", "delivery_method": "post",
                      "delivered_on": delivered.isoformat() if delivered else ""},
            "close": {},
        }
        for action, form in forms.items():
            inputs = workflow_forms.read(action, form, now.date(), CaseSnapshot.of(case))
            await workflow.perform(session, case, action, inputs, actor=OFFICER, now=now)
        await session.commit()


@pytest.fixture
async def closed_case(backoffice, clock):  # noqa: F811
    clock.now = CLOSED_ON - timedelta(days=10)
    filed = await create_case(backoffice, None)
    case_no = filed["case"]["case_no"]
    clock.now = CLOSED_ON
    await close_case(backoffice.server.app, case_no, CLOSED_ON, CLOSED_ON.date())
    return case_no, filed["case"]["conversation_id"]


async def test_closing_with_the_reply_delivered_invites_once(backoffice, closed_case, raw_engine, domain, dispatcher):  # noqa: F811
    case_no, conversation = closed_case
    rows = await fetch_rows(raw_engine, "SELECT id, kind, text, conversation_id FROM notifications WHERE kind = 'rating_request'")
    assert len(rows) == 1
    invitation = rows[0]
    assert "第二十一条" in invitation["text"] and "满意、基本满意或不满意" in invitation["text"]
    assert "2026年12月2日前" in invitation["text"]  # 30 days after the delivery

    # The assistant says it with its three buttons.
    tracker = make_tracker(domain, intent="EXTERNAL_case_update", active_loop=None, sender=conversation,
                           entities=[{"entity": "notification_id", "value": str(invitation["id"])}])
    await ActionNotifyCaseUpdate().run(dispatcher, tracker, domain)
    buttons = buttons_of(dispatcher)
    assert list(buttons) == ["满意", "基本满意", "不满意"]
    payload = buttons["不满意"]
    assert payload.startswith("/ask_rating") and json.loads(payload[len("/ask_rating"):]) == {
        "case_no": case_no, "rating": "dissatisfied"}


async def test_dissatisfied_by_button_gets_the_review_right_and_only_once(backoffice, closed_case, raw_engine, domain, dispatcher, clock):  # noqa: F811
    case_no, conversation = closed_case
    clock.now = CLOSED_ON + timedelta(days=3)
    tracker = make_tracker(domain, text=f'/ask_rating{{"case_no": "{case_no}", "rating": "dissatisfied"}}',
                           intent="ask_rating", active_loop=None, sender=conversation,
                           entities=[{"entity": "case_no", "value": case_no}, {"entity": "rating", "value": "dissatisfied"}])
    await ActionRateCase().run(dispatcher, tracker, domain)
    reply = texts_of(dispatcher)
    assert "评价已记录：不满意" in reply
    assert "第三十五条" in reply and "请求复查" in reply and "2026年12月2日" in reply
    rows = await fetch_rows(raw_engine, "SELECT rating, comment, conversation_id FROM case_ratings")
    assert rows == [{"rating": "dissatisfied", "comment": None, "conversation_id": conversation}]

    dispatcher.messages.clear()
    tracker = make_tracker(domain, text="", intent="ask_rating", active_loop=None, sender=conversation,
                           entities=[{"entity": "case_no", "value": case_no}, {"entity": "rating", "value": "satisfied"}])
    await ActionRateCase().run(dispatcher, tracker, domain)
    assert "已经评价过" in texts_of(dispatcher)
    assert len(await fetch_rows(raw_engine, "SELECT id FROM case_ratings")) == 1


async def test_a_typed_rating_with_its_comment(backoffice, closed_case, raw_engine, domain, dispatcher, clock):  # noqa: F811
    case_no, conversation = closed_case
    clock.now = CLOSED_ON + timedelta(days=1)
    tracker = make_tracker(domain, text="评价：基本满意，就是答复拖得有点久", intent="ask_rating",
                           active_loop=None, sender=conversation)
    await ActionRateCase().run(dispatcher, tracker, domain)
    reply = texts_of(dispatcher)
    assert "评价已记录：基本满意" in reply and "具体意见已一并记录" in reply and "复查" not in reply
    rows = await fetch_rows(raw_engine, "SELECT rating, comment FROM case_ratings")
    assert rows == [{"rating": "basic", "comment": "评价：基本满意，就是答复拖得有点久"}]


async def test_i_want_to_rate_offers_the_open_case_and_nothing_elsewhere(backoffice, closed_case, domain, dispatcher, clock):  # noqa: F811
    case_no, conversation = closed_case
    clock.now = CLOSED_ON + timedelta(days=5)
    tracker = make_tracker(domain, text="我要评价", intent="ask_rating", active_loop=None, sender=conversation)
    await ActionRateCase().run(dispatcher, tracker, domain)
    assert f"信访件 {case_no}" in texts_of(dispatcher) and list(buttons_of(dispatcher)) == ["满意", "基本满意", "不满意"]

    # Another conversation cannot rate it, and is not told anything about it.
    dispatcher.messages.clear()
    tracker = make_tracker(domain, text="我要评价", intent="ask_rating", active_loop=None, sender="someone-else")
    await ActionRateCase().run(dispatcher, tracker, domain)
    assert "暂时没有可以评价的信访件" in texts_of(dispatcher) and case_no not in texts_of(dispatcher)
    response = await backoffice.post(f"/api/v1/cases/{case_no}/rating", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
                                     json={"rating": "satisfied", "conversation_id": "someone-else"})
    assert response.status == 404

    # After the period, the rating is no longer asked for.
    dispatcher.messages.clear()
    clock.now = CLOSED_ON + timedelta(days=31)
    tracker = make_tracker(domain, text="我要评价", intent="ask_rating", active_loop=None, sender=conversation)
    await ActionRateCase().run(dispatcher, tracker, domain)
    assert "暂时没有可以评价的信访件" in texts_of(dispatcher)
    response = await backoffice.post(f"/api/v1/cases/{case_no}/rating", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
                                     json={"rating": "satisfied", "conversation_id": conversation})
    assert response.status == 422 and "评价期" in (await response.json())["message"]


async def test_no_invitation_before_the_reply_is_delivered(backoffice, clock, raw_engine):  # noqa: F811
    clock.now = CLOSED_ON - timedelta(days=10)
    filed = await create_case(backoffice, None)
    clock.now = CLOSED_ON
    await close_case(backoffice.server.app, filed["case"]["case_no"], CLOSED_ON, None)
    assert await fetch_rows(raw_engine, "SELECT id FROM notifications WHERE kind = 'rating_request'") == []
    async with raw_engine.begin() as conn:
        assert (await conn.execute(text("SELECT status FROM cases"))).scalar_one() == "closed"


async def test_a_lookup_from_another_device_offers_the_rating_and_takes_it(backoffice, raw_engine, domain, dispatcher, clock):  # noqa: F811
    """Filed at home, answered, looked up on a phone with the number and query code: the
    phone's chat is offered the rating and can give it; a third chat without the code cannot."""
    from actions.status import ActionLookupStatus
    from tests.actions.test_reception import lookup_tracker, slot_events, with_slots

    clock.now = CLOSED_ON - timedelta(days=10)
    filed = await create_case(backoffice, None)
    case_no, code = filed["case"]["case_no"], filed["query_code"]
    clock.now = CLOSED_ON
    await close_case(backoffice.server.app, case_no, CLOSED_ON, CLOSED_ON.date())

    clock.now = CLOSED_ON + timedelta(days=2)
    events = await ActionLookupStatus().run(dispatcher, lookup_tracker(domain, "citizen-phone", case_no, code, None), domain)
    reply = texts_of(dispatcher)
    assert f"信访件 {case_no} 的办理情况" in reply and "您可以对办理情况作出评价" in reply
    assert "请在2026年12月2日前评价" in reply
    assert list(buttons_of(dispatcher)) == ["满意", "基本满意", "不满意"]
    assert slot_events(events)["verified_case_no"] == case_no

    press = f'/ask_rating{{"case_no": "{case_no}", "rating": "satisfied"}}'
    entities = [{"entity": "case_no", "value": case_no}, {"entity": "rating", "value": "satisfied"}]
    # A third chat pressing the same payload, with no code proven: refused, nothing stored.
    dispatcher.messages.clear()
    stranger = make_tracker(domain, text=press, intent="ask_rating", active_loop=None, sender="citizen-stranger",
                            entities=entities)
    await ActionRateCase().run(dispatcher, stranger, domain)
    assert "未找到可以评价的信访件" in texts_of(dispatcher)
    assert await fetch_rows(raw_engine, "SELECT id FROM case_ratings") == []

    dispatcher.messages.clear()
    phone = with_slots(make_tracker(domain, text=press, intent="ask_rating", active_loop=None, sender="citizen-phone",
                                    entities=entities), verified_case_no=case_no, verified_query_code=code)
    await ActionRateCase().run(dispatcher, phone, domain)
    assert "评价已记录：满意" in texts_of(dispatcher)
    rows = await fetch_rows(raw_engine, "SELECT rating, conversation_id FROM case_ratings")
    assert rows == [{"rating": "satisfied", "conversation_id": "citizen-phone"}]

    # Looked up again: the rating given is not offered any more.
    dispatcher.messages.clear()
    await ActionLookupStatus().run(dispatcher, lookup_tracker(domain, "citizen-phone", case_no, code, None), domain)
    assert buttons_of(dispatcher) == {} and "作出评价" not in texts_of(dispatcher)

"""Leader reception days in the chat, against the real back office app (SQLite and PostgreSQL):
the coming days with the rules of 第二十条, booking by button for the conversation's case,
capacity and duplicates refused politely, no booking without a case, and the reminder the day
before queued once into the booking's conversation."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from actions.reception import ActionReceptionDays
from bot.rules.deadlines import TZ
from bot.store import reception as store
from bot.web.keys import SESSIONMAKER
from tests.actions.conftest import buttons_of, make_tracker, texts_of
from tests.actions.test_submission import backoffice  # noqa: F401  (fixture used by name)
from tests.api.helpers import case_body, create_case, fetch_rows

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


async def publish(app, day: date, capacity: int = 2, leader: str = "区长 王某") -> int:
    async with app[SESSIONMAKER]() as session:
        row = await store.publish_day(session, leader=leader, day=day, start="09:00", end="11:30",
                                      place="西湖区信访接待中心一楼", topics="征地拆迁、劳动保障",
                                      capacity=capacity, actor="officer", now=NOW, today=TODAY)
        await session.commit()
        return row.id


def ask(domain, sender: str, text: str = "领导接访日是哪天", day_id: int | None = None):
    entities = [{"entity": "day_id", "value": str(day_id)}] if day_id else []
    return make_tracker(domain, text=text if not day_id else f'/ask_reception{{"day_id": "{day_id}"}}',
                        intent="ask_reception", active_loop=None, sender=sender, entities=entities)


async def test_days_rules_and_a_booking(backoffice, clock, domain, dispatcher, raw_engine):  # noqa: F811
    clock.now = NOW
    app = backoffice.server.app
    first = await publish(app, TODAY + timedelta(days=2))
    await publish(app, TODAY + timedelta(days=9), leader="区委书记 李某")
    filed = await create_case(backoffice, case_body(conversation_id="citizen-r", group_size=8))
    case_no = filed["case"]["case_no"]

    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-r"), domain)
    reply = texts_of(dispatcher)
    assert "2026年12月3日（周四）09:00—11:30" in reply and "区长 王某" in reply and "区委书记 李某" in reply
    assert "本级或者上一级" in reply and "不超过5名代表" in reply and "第二十条" in reply
    assert f"信访件 {case_no} 正在办理中" in reply
    buttons = buttons_of(dispatcher)
    assert list(buttons) == ["预约2026年12月3日", "预约2026年12月10日"]
    assert json.loads(buttons["预约2026年12月3日"][len("/ask_reception"):]) == {"day_id": str(first)}

    dispatcher.messages.clear()
    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-r", day_id=first), domain)
    reply = texts_of(dispatcher)
    assert f"已为信访件 {case_no} 预约领导接访" in reply and "西湖区信访接待中心一楼" in reply
    assert "不超过5名代表" in reply and "按5人登记" in reply  # eight people, five representatives
    rows = await fetch_rows(raw_engine, "SELECT day_id, representatives, conversation_id FROM reception_bookings")
    assert rows == [{"day_id": first, "representatives": 5, "conversation_id": "citizen-r"}]

    # The same day again: refused, nothing more stored.
    dispatcher.messages.clear()
    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-r", day_id=first), domain)
    assert "无需重复预约" in texts_of(dispatcher)
    assert len(await fetch_rows(raw_engine, "SELECT id FROM reception_bookings")) == 1


async def test_full_days_and_citizens_without_a_case(backoffice, clock, domain, dispatcher, raw_engine):  # noqa: F811
    clock.now = NOW
    day_id = await publish(backoffice.server.app, TODAY + timedelta(days=2), capacity=1)
    await create_case(backoffice, case_body(conversation_id="citizen-a"))
    await create_case(backoffice, case_body(conversation_id="citizen-b", respondent="某餐馆",
                                            facts="楼下餐馆油烟直排，窗户都不能开。", request="整改油烟。"))
    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-a", day_id=day_id), domain)
    assert "已为信访件" in texts_of(dispatcher)
    dispatcher.messages.clear()
    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-b", day_id=day_id), domain)
    assert "已经约满" in texts_of(dispatcher)

    dispatcher.messages.clear()
    await ActionReceptionDays().run(dispatcher, ask(domain, "nobody-filed"), domain)
    reply = texts_of(dispatcher)
    assert "都已约满" in reply and buttons_of(dispatcher) == {}
    # A day pressed without a case of this conversation: the case number and query code are
    # asked for (the status lookup form), nothing is booked yet.
    dispatcher.messages.clear()
    events = await ActionReceptionDays().run(dispatcher, ask(domain, "nobody-filed", day_id=day_id), domain)
    assert "需要先核实您已登记的信访件" in texts_of(dispatcher)
    assert followups(events) == ["status_form"]
    assert len(await fetch_rows(raw_engine, "SELECT id FROM reception_bookings")) == 1


async def test_the_reminder_is_queued_the_day_before_once(backoffice, clock, domain, dispatcher, raw_engine):  # noqa: F811
    clock.now = NOW
    app = backoffice.server.app
    day_id = await publish(app, TODAY + timedelta(days=2))
    await create_case(backoffice, case_body(conversation_id="citizen-r"))
    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-r", day_id=day_id), domain)

    async def sweep(day: date) -> int:
        async with app[SESSIONMAKER]() as session:
            n = await store.queue_reminders(session, day, datetime(day.year, day.month, day.day, 8, tzinfo=TZ))
            await session.commit()
            return n

    assert await sweep(TODAY) == 0  # two days before: nothing yet
    assert await sweep(TODAY + timedelta(days=1)) == 1
    assert await sweep(TODAY + timedelta(days=1)) == 0  # once
    rows = await fetch_rows(raw_engine, "SELECT kind, conversation_id, text FROM notifications WHERE kind = 'reception_reminder'")
    assert len(rows) == 1 and rows[0]["conversation_id"] == "citizen-r"
    assert "明天（2026年12月3日）09:00—11:30" in rows[0]["text"] and "请携带本人有效身份证件" in rows[0]["text"]


async def test_no_days_published(backoffice, clock, domain, dispatcher):  # noqa: F811
    clock.now = NOW
    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-x", "我想见领导"), domain)
    reply = texts_of(dispatcher)
    assert "近期暂未安排领导接访日" in reply and "第二十条" in reply


def with_slots(tracker, **slots):
    """The tracker with ``slots`` set earlier in this session (as SlotSet events)."""
    for name, value in slots.items():
        tracker.slots[name] = value
        tracker.events.insert(0, {"event": "slot", "name": name, "value": value})
    return tracker


def lookup_tracker(domain, sender: str, case_no: str, code: str, day_id: int | None):
    slots = {"lookup_case_no": case_no, "lookup_query_code": code}
    if day_id:
        slots["reception_day_id"] = str(day_id)
    return with_slots(make_tracker(domain, text=code, intent="inform", active_loop=None, sender=sender), **slots)


def followups(events) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


def slot_events(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_booking_from_another_device_with_the_number_and_query_code(
        backoffice, clock, domain, dispatcher, raw_engine):  # noqa: F811
    """Filed on the home computer, booked from a phone: the day is chosen first, then the case
    number and query code are asked for (the status lookup form), and the booking, like its
    reminder, belongs to the phone's conversation."""
    from actions.status import ActionLookupStatus

    clock.now = NOW
    app = backoffice.server.app
    day_id = await publish(app, TODAY + timedelta(days=2))
    filed = await create_case(backoffice, case_body(conversation_id="citizen-home"))
    case_no, code = filed["case"]["case_no"], filed["query_code"]

    await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-phone", "我想见领导"), domain)
    reply = texts_of(dispatcher)
    assert "提供信访件编号和查询码" in reply and "我要投诉" in reply
    assert list(buttons_of(dispatcher)) == ["预约2026年12月3日"]

    dispatcher.messages.clear()
    events = await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-phone", day_id=day_id), domain)
    assert "需要先核实您已登记的信访件" in texts_of(dispatcher)
    assert slot_events(events)["reception_day_id"] == str(day_id)
    assert followups(events) == ["status_form"]
    assert await fetch_rows(raw_engine, "SELECT id FROM reception_bookings") == []

    # A wrong code: told so, nothing booked, the chosen day forgotten.
    dispatcher.messages.clear()
    wrong_code = f"{(int(code) + 1) % 1000000:06d}"
    events = await ActionLookupStatus().run(dispatcher, lookup_tracker(domain, "citizen-phone", case_no, wrong_code, day_id), domain)
    assert "未找到对应的信访件" in texts_of(dispatcher)
    assert slot_events(events)["reception_day_id"] is None and "verified_case_no" not in slot_events(events)
    assert await fetch_rows(raw_engine, "SELECT id FROM reception_bookings") == []

    # The right pair: the status, then the booking of the day chosen before.
    dispatcher.messages.clear()
    events = await ActionLookupStatus().run(dispatcher, lookup_tracker(domain, "citizen-phone", case_no, code, day_id), domain)
    reply = texts_of(dispatcher)
    assert f"信访件 {case_no} 的办理情况" in reply and f"已为信访件 {case_no} 预约领导接访" in reply
    assert slot_events(events)["verified_case_no"] == case_no and slot_events(events)["reception_day_id"] is None
    rows = await fetch_rows(raw_engine, "SELECT day_id, conversation_id FROM reception_bookings")
    assert rows == [{"day_id": day_id, "conversation_id": "citizen-phone"}]

    async with app[SESSIONMAKER]() as session:
        assert await store.queue_reminders(session, TODAY + timedelta(days=1), NOW) == 1
        await session.commit()
    reminder = await fetch_rows(raw_engine, "SELECT conversation_id FROM notifications WHERE kind = 'reception_reminder'")
    assert reminder == [{"conversation_id": "citizen-phone"}]


async def test_the_number_and_code_typed_with_the_question(backoffice, clock, domain, dispatcher, raw_engine):  # noqa: F811
    clock.now = NOW
    app = backoffice.server.app
    day_id = await publish(app, TODAY + timedelta(days=2))
    filed = await create_case(backoffice, case_body(conversation_id="citizen-home"))
    case_no, code = filed["case"]["case_no"], filed["query_code"]

    tracker = ask(domain, "citizen-phone", f"我想预约领导接访，编号{case_no}，查询码{code}")
    events = await ActionReceptionDays().run(dispatcher, tracker, domain)
    assert f"您的信访件 {case_no} 正在办理中，可以预约" in texts_of(dispatcher)
    assert slot_events(events) == {"verified_case_no": case_no, "verified_query_code": code}

    # The day pressed next is booked for that case without asking again.
    dispatcher.messages.clear()
    pressed = with_slots(ask(domain, "citizen-phone", day_id=day_id), verified_case_no=case_no, verified_query_code=code)
    await ActionReceptionDays().run(dispatcher, pressed, domain)
    assert f"已为信访件 {case_no} 预约领导接访" in texts_of(dispatcher)
    assert await fetch_rows(raw_engine, "SELECT conversation_id FROM reception_bookings") == [{"conversation_id": "citizen-phone"}]

    # A case proven in an earlier session is not used: the number is asked for again.
    dispatcher.messages.clear()
    day2 = await publish(app, TODAY + timedelta(days=3))
    stale = ask(domain, "citizen-phone", day_id=day2)
    stale.slots.update(verified_case_no=case_no, verified_query_code=code)
    stale.events.insert(0, {"event": "session_started"})
    events = await ActionReceptionDays().run(dispatcher, stale, domain)
    assert "需要先核实" in texts_of(dispatcher) and followups(events) == ["status_form"]

    # A wrong pair typed with the question is said, and nothing is kept.
    dispatcher.messages.clear()
    events = await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-other", f"预约领导接访 {case_no} 查询码 000000"), domain)
    assert "未找到对应的信访件" in texts_of(dispatcher) and slot_events(events) == {}


async def test_a_closed_case_cannot_be_booked(backoffice, clock, domain, dispatcher, raw_engine):  # noqa: F811
    from tests.actions.test_rating import close_case

    clock.now = NOW
    app = backoffice.server.app
    await publish(app, TODAY + timedelta(days=2))
    filed = await create_case(backoffice, case_body(conversation_id="citizen-home"))
    case_no, code = filed["case"]["case_no"], filed["query_code"]
    await close_case(app, case_no, NOW, TODAY)

    events = await ActionReceptionDays().run(dispatcher, ask(domain, "citizen-phone", f"约见领导 {case_no} 查询码{code}"), domain)
    reply = texts_of(dispatcher)
    assert f"信访件 {case_no} 目前的状态是" in reply and "不能预约领导接访" in reply and "复查" in reply
    assert slot_events(events) == {}


async def test_a_day_chosen_then_abandoned_is_not_booked_by_a_later_lookup(domain, dispatcher):
    """The day's button starts the lookup that books it; a lookup of its own later (after the
    first was cancelled) forgets the day instead of booking it by surprise."""
    from actions.status import ValidateStatusForm

    def start(text: str, intent: str):
        tracker = make_tracker(domain, text=text, intent=intent, active_loop="status_form", sender="citizen-s")
        return with_slots(tracker, reception_day_id="7")

    pressed = await ValidateStatusForm().run(dispatcher, start('/ask_reception{"day_id": "7"}', "ask_reception"), domain)
    assert "reception_day_id" not in slot_events(pressed)
    later = await ValidateStatusForm().run(dispatcher, start("查一下我的信访件", "query_status"), domain)
    assert slot_events(later)["reception_day_id"] is None

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
    assert "需要先登记信访事项" in reply and buttons_of(dispatcher) == {}
    dispatcher.messages.clear()
    await ActionReceptionDays().run(dispatcher, ask(domain, "nobody-filed", day_id=day_id), domain)
    assert "还没有正在办理中的信访件" in texts_of(dispatcher)
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

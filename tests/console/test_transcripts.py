"""Transcripts read from Rasa's tracker store ``events`` table (on SQLite and PostgreSQL), the
conversation review list, labelling turns and the Rasa NLU YAML export."""

from __future__ import annotations

import time
from datetime import timedelta

import yaml
from sqlalchemy import text

from bot.console import training
from bot.rules.conversation_ids import conversation_tag
from bot.settings.backoffice import DEV_HMAC_KEY
from bot.store.transcripts import make_tracker_engine
from bot.web.keys import CLOCK, SESSIONMAKER
from tests.api.helpers import fetch_rows
from tests.console.conftest import file_case, now_utc


def tag(sender: str) -> str:
    """How the console names a conversation (its keyed tag; pages never show the id)."""
    return conversation_tag(DEV_HMAC_KEY, sender)


async def a_conversation(tracker, sender="conv-0001"):
    """A short real-looking conversation: greeting, a fallback, a low-confidence turn, the ID."""
    await tracker.insert(sender, "session_started", {})
    await tracker.user(sender, "你好", "greet", 0.99)
    await tracker.bot(sender, "您好！我是杭州市西湖区信访局的智能助手。", buttons=["我要反映问题", "查询进度"])
    await tracker.user(sender, "那个啥就是说吧", "nlu_fallback", 0.45,
                       ranking=[("nlu_fallback", 0.45), ("inform", 0.31), ("faq", 0.2)])
    await tracker.action(sender, "action_default_fallback")
    await tracker.bot(sender, "抱歉，我没有完全理解您的意思。")
    low = await tracker.user(sender, "楼下施工太吵了晚上睡不着", "file_petition", 0.55)
    await tracker.user(sender, "11010519491231002X", "inform", 0.97)
    await tracker.bot(sender, "请核对：身份证号码 110105********002X，手机号码 13812345678")
    await tracker.bot(sender, "您的信访事项已成功登记。\n信访件编号：XF2026000009\n查询码：483920（请妥善保存）")
    return low


async def test_the_case_page_shows_the_transcript_with_intents_and_masked_numbers(anonymous, staff, tracker):
    case_no = (await file_case(anonymous))["case"]["case_no"]
    await a_conversation(tracker)
    officer = await staff("officer")
    status, page = await officer.page(f"/console/cases/{case_no}")
    assert status == 200
    transcript = page.split('id="transcript"', 1)[1].split("</ol>", 1)[0]
    assert "您好！我是杭州市西湖区信访局的智能助手。" in transcript
    assert "意图 greet（置信度 0.99）" in transcript
    assert "未理解" in transcript and "低置信度" in transcript
    assert "我要反映问题" in transcript  # the buttons offered
    assert "新的会话开始" in transcript
    # personal numbers typed by the citizen are masked like the case fields
    assert "11010519491231002X" not in page and "13812345678" not in page
    assert "110105********002X" in transcript and "138****5678" in transcript
    # the citizen's query code is theirs alone
    assert "483920" not in page and "查询码：******" in transcript
    assert transcript.index("你好") < transcript.index("那个啥") < transcript.index("楼下施工")


async def test_every_conversation_is_listed_with_fallbacks_and_low_confidence(server, anonymous, staff, tracker):
    await file_case(anonymous, conversation_id="conv-0001")
    await a_conversation(tracker, "conv-0001")
    await tracker.user("conv-question", "信访有什么时限", "faq", 0.91)
    await tracker.bot("conv-question", "依据《信访工作条例》第二十二条……")
    officer = await staff("officer")
    status, page = await officer.page("/console/conversations")
    assert status == 200
    rows = {
        sender: row for sender, row in
        ((r.split('data-sender="', 1)[1].split('"', 1)[0], r) for r in page.split("<tr ")[1:] if "data-sender" in r)
    }
    assert set(rows) == {tag("conv-0001"), tag("conv-question")}  # also the one that never became a case
    cells = rows[tag("conv-0001")].split('<td class="num">')
    assert [c.split("<", 1)[0] for c in cells[1:5]] == ["4", "2", "1", "0"]  # turns, fallbacks, low, labelled
    assert "XF2026" in rows[tag("conv-0001")] and "—" in rows[tag("conv-question")]
    _, page = await officer.page("/console/conversations?review=1")
    assert tag("conv-0001") in page and tag("conv-question") not in page
    _, page = await officer.page("/console/conversations?case=no")
    assert tag("conv-question") in page and f'data-sender="{tag("conv-0001")}"' not in page


async def test_the_index_is_incremental_idempotent_and_survives_a_reset(server, tracker, clock):
    app = server.app
    engine = make_tracker_engine(tracker.url, tracker.schema)
    try:
        async def counts():
            async with app[SESSIONMAKER]() as session:
                await training.sync_index(session, engine, now=app[CLOCK]())
                rows, total = await training.list_conversations(session)
            return {r.index.sender_id: (r.index.user_turns, r.index.fallback_turns,
                                        r.index.low_confidence_turns) for r in rows}

        await a_conversation(tracker, "a")
        assert await counts() == {"a": (4, 2, 1)}
        assert await counts() == {"a": (4, 2, 1)}  # nothing counted twice
        await tracker.user("a", "我想查一下进度", "query_status", 0.65)
        await tracker.user("b", "谢谢", "thank", 0.99)
        assert await counts() == {"a": (5, 2, 2), "b": (1, 0, 0)}
        # events younger than the settle window wait for the next sync
        await tracker.user("b", "再见", "goodbye", 0.99, at=time.time())
        assert (await counts())["b"] == (1, 0, 0)
        # an external event of the back office is not a turn of the citizen
        await tracker.insert("b", "user", {"text": "EXTERNAL: EXTERNAL_case_update",
                                           "metadata": {"is_external": True},
                                           "parse_data": {"intent": {"name": "EXTERNAL_case_update"}}},
                             intent="EXTERNAL_case_update", at=time.time() + 1)
        clock.now = now_utc() + timedelta(seconds=30)
        assert (await counts())["b"] == (2, 0, 0)
        # the tracker store was emptied (a new deployment): the index starts again
        await tracker.clear()
        tracker.clock = time.time() - 600
        await tracker.user("c", "你好", "greet", 0.99)
        assert await counts() == {"c": (1, 0, 0)}
    finally:
        await engine.dispose()


async def test_label_turns_and_export_them_as_rasa_nlu_yaml(anonymous, staff, tracker, raw_engine):
    await a_conversation(tracker)
    officer, supervisor = await staff("officer"), await staff("supervisor")
    status, page = await officer.page("/console/conversations/view?id=conv-0001")
    assert status == 200 and "候选：nlu_fallback 0.45，inform 0.31" in page
    ids = [int(x.split('"', 1)[0]) for x in page.split('name="event_id" value="')[1:]]
    fallback_id, low_id, id_turn = ids[1], ids[2], ids[3]
    for event_id, intent in ((fallback_id, "file_petition"), (low_id, "file_petition"), (id_turn, "inform")):
        response = await officer.post("/console/conversations/label",
                                      {"sender_id": "conv-0001", "event_id": str(event_id), "intent": intent})
        assert response.status == 303
    # relabelling replaces, an unknown intent is refused, a bot turn cannot be labelled
    await officer.post("/console/conversations/label",
                       {"sender_id": "conv-0001", "event_id": str(fallback_id), "intent": "faq/time_limits"})
    response = await officer.post("/console/conversations/label",
                                  {"sender_id": "conv-0001", "event_id": str(low_id), "intent": "no_such_intent"})
    assert response.status == 303
    response = await officer.post("/console/conversations/label",
                                  {"sender_id": "conv-0001", "event_id": str(id_turn + 1), "intent": "greet"})
    assert response.status == 404
    rows = await fetch_rows(raw_engine, "SELECT text, predicted_intent, intent, labelled_by FROM nlu_annotations ORDER BY event_id")
    assert [(r["predicted_intent"], r["intent"]) for r in rows] == [
        ("nlu_fallback", "faq/time_limits"), ("file_petition", "file_petition"), ("inform", "inform")]
    assert rows[2]["text"] == "11010519491231002X"  # the example ID, not the citizen's (here the same)
    assert {r["labelled_by"] for r in rows} == {officer.username}

    assert (await officer.client.get("/console/training/export.yml", allow_redirects=False)).status == 403
    response = await supervisor.client.get("/console/training/export.yml")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    doc = yaml.safe_load(await response.text())
    assert doc["version"] == "3.1"
    examples = {block["intent"]: [line[2:] for line in block["examples"].splitlines()] for block in doc["nlu"]}
    assert examples == {
        "faq/time_limits": ["那个啥就是说吧"],
        "file_petition": ["楼下施工太吵了晚上睡不着"],
        "inform": ["11010519491231002X"],
    }
    response = await officer.post("/console/conversations/unlabel", {"sender_id": "conv-0001", "event_id": str(id_turn)})
    assert response.status == 303
    audit = await fetch_rows(raw_engine, "SELECT action FROM audit_log WHERE action LIKE 'nlu_%' ORDER BY id")
    assert [a["action"] for a in audit] == ["nlu_label"] * 4 + ["nlu_export", "nlu_unlabel"]


async def test_exported_training_text_never_carries_a_citizens_numbers(anonymous, staff, tracker):
    await tracker.user("conv-x", "我叫王五，身份证330106199003071234手机139 0571 2468", "inform", 0.5)
    officer, supervisor = await staff("officer"), await staff("supervisor")
    status, page = await officer.page("/console/conversations/view?id=conv-x")
    event_id = page.split('name="event_id" value="', 1)[1].split('"', 1)[0]
    await officer.post("/console/conversations/label", {"sender_id": "conv-x", "event_id": event_id, "intent": "inform"})
    body = await (await supervisor.client.get("/console/training/export.yml")).text()
    assert "330106199003071234" not in body and "2468" not in body
    assert "11010519491231002X" in body and "13812345678" in body


async def test_viewing_a_conversation_is_audited_and_unknown_ones_are_404(anonymous, staff, tracker, raw_engine):
    await a_conversation(tracker)
    officer = await staff("officer")
    assert (await officer.page("/console/conversations/view?id=conv-0001"))[0] == 200
    assert (await officer.page("/console/conversations/view?id=nobody"))[0] == 404
    rows = await fetch_rows(raw_engine, "SELECT actor, action FROM audit_log WHERE action = 'view_transcript'")
    assert rows == [{"actor": officer.username, "action": "view_transcript"}]


async def test_pages_still_work_when_the_tracker_store_is_missing(make_client, console_settings, tmp_path, clock):
    from tests.console.conftest import add_user, login

    client = await make_client(console_settings(TRACKER_DB_URL=f"sqlite:///{tmp_path / 'none' / 'tracker.db'}",
                                                TRACKER_DB_SCHEMA=""))
    await add_user(client.server, "wang", "officer")
    await login(client, "wang")
    case_no = (await file_case(client))["case"]["case_no"]
    for path in (f"/console/cases/{case_no}", "/console/conversations"):
        response = await client.get(path)
        assert response.status == 200
        assert "暂时无法读取" in await response.text()
    assert not (tmp_path / "none" / "tracker.db").exists()  # opened read-only, never created


async def test_a_postgresql_tracker_is_read_from_its_schema(tracker):
    """The back office reads the events table through TRACKER_DB_URL/TRACKER_DB_SCHEMA."""
    await tracker.user("conv-s", "你好", "greet", 0.99)
    engine = make_tracker_engine(tracker.url, tracker.schema)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT COUNT(*) FROM events"))).scalar_one() == 1
    finally:
        await engine.dispose()

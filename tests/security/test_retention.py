"""Retention the privacy notice promises (README "Retention enforced"): with a fixed clock, on
SQLite and PostgreSQL, cases past the period are anonymised, their conversations and NLU review
rows deleted, silent unfiled conversations deleted, fresh ones and recent cases kept, one audit
entry per run; ``python -m bot purge`` does the same as a command. In the chat (real Rasa,
action server and back office), "删除我的个人信息" shows what is held, masked, and erases it on
confirmation; a filed case is kept and the citizen told the archive rule."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.rules.jurisdiction import load_jurisdiction
from bot.store.db import make_sessionmaker
from bot.store.retention import ANONYMISED, AUDIT_ACTION, make_tracker_writer, purge, years_before
from tests.api.helpers import ID_MASKED, ID_NUMBER, PHONE, auth, case_body, create_case, fetch_rows
from tests.conftest import Database
from tests.console.conftest import EVENTS_DDL, Tracker
from tests.support.chat import Chat
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2031, 6, 15, 3, 0, tzinfo=timezone.utc)
UNFILED_DAYS = 30


@pytest.fixture(autouse=True)
async def backoffice_session():
    """The action server's back office session, closed after each test (its own event loop)."""
    from actions.backoffice import close_session

    yield
    await close_session()


@pytest.fixture
async def events(database: Database, tmp_path):
    """Rasa's tracker store ``events`` table beside the case store (same backend)."""
    from bot.store.db import make_engine

    if database.backend == "sqlite":
        path = str(tmp_path / "tracker.db")
        with sqlite3.connect(path) as conn:
            conn.execute(EVENTS_DDL.format(id_type="INTEGER"))
        yield Tracker(database, f"sqlite:///{path}", "", sqlite_path=path)
        return
    engine = make_engine(database.url, schema=database.schema)
    async with engine.begin() as conn:
        await conn.execute(text(EVENTS_DDL.format(id_type="SERIAL")))
    try:
        yield Tracker(database, database.url, database.schema, engine=engine)
    finally:
        await engine.dispose()


def plain(raw: str) -> str:
    """A stored event as readable text: decrypted with the tracker store's (development) key
    when encrypted; stored JSON may escape Chinese characters."""
    from bot.settings.backoffice import DEV_TRACKER_ENCRYPTION_KEY
    from bot.store.crypto import FieldCipher

    if not raw.startswith("{"):
        raw = FieldCipher([DEV_TRACKER_ENCRYPTION_KEY]).decrypt(raw)
    return json.dumps(json.loads(raw), ensure_ascii=False)


async def conversation(tracker: Tracker, sender: str, at: datetime) -> None:
    base = at.timestamp()
    await tracker.user(sender, f"我叫张三，身份证{ID_NUMBER}，手机{PHONE}", "inform", 0.5, at=base)
    await tracker.bot(sender, "请核对您的信息。", at=base + 1)


async def run_purge(database: Database, tracker: Tracker, now: datetime):
    from bot.store.db import make_engine

    engine = make_engine(database.url, schema=database.schema)
    writer = make_tracker_writer(tracker.url, tracker.schema)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await purge(session, writer, now=now, retention_years=load_jurisdiction().data_retention_years,
                                 unfiled_days=UNFILED_DAYS)
            await session.commit()
            return report
    finally:
        await engine.dispose()
        await writer.dispose()


async def senders(raw_engine, tracker: Tracker) -> set[str]:
    if tracker.sqlite_path:
        with sqlite3.connect(tracker.sqlite_path) as conn:
            return {r[0] for r in conn.execute("SELECT DISTINCT sender_id FROM events")}
    return {r["sender_id"] for r in await fetch_rows(raw_engine, "SELECT DISTINCT sender_id FROM events")}


async def test_purge_anonymises_old_cases_and_deletes_old_conversations(client, clock, raw_engine, database, events):
    years = load_jurisdiction().data_retention_years
    assert years == 5
    cutoff = years_before(NOW, years)
    old = (await create_case(client, case_body(conversation_id="conv-old")))["case"]
    recent = (await create_case(client, case_body(conversation_id="conv-recent")))["case"]
    for case_no, closed in ((old["case_no"], cutoff - timedelta(days=1)), (recent["case_no"], cutoff + timedelta(days=1))):
        async with raw_engine.begin() as conn:
            await conn.execute(text("UPDATE cases SET status='closed', closed_at=:at WHERE case_no=:no"),
                               {"at": closed if database.backend == "postgresql" else closed.replace(tzinfo=None),
                                "no": case_no})
    for sender, at in (("conv-old", cutoff - timedelta(days=400)), ("conv-recent", cutoff - timedelta(days=400)),
                       ("unfiled-stale", NOW - timedelta(days=UNFILED_DAYS + 1)),
                       ("unfiled-fresh", NOW - timedelta(days=UNFILED_DAYS - 1))):
        await conversation(events, sender, at)
    async with raw_engine.begin() as conn:
        for sender in ("conv-old", "conv-recent", "unfiled-stale", "unfiled-fresh"):
            await conn.execute(text(
                "INSERT INTO nlu_annotations (sender_id, event_id, text, intent, labelled_by, labelled_at)"
                " VALUES (:s, 1, :t, 'inform', 'officer1', :at)"),
                {"s": sender, "t": f"我叫张三{PHONE}", "at": NOW if database.backend == "postgresql" else NOW.replace(tzinfo=None)})

    report = await run_purge(database, events, NOW)

    assert (report.cases_anonymised, report.conversations_deleted, report.nlu_rows_deleted) == (1, 2, 2)
    assert report.tracker_events_deleted == 4
    # what staff and the API see: the old case keeps its number and statistics, no person
    response = await client.get(f"/api/v1/cases/{old['case_no']}", headers=auth())
    assert response.status == 200, await response.text()
    shown = await response.json()
    assert shown["case_no"] == old["case_no"] and shown["category"] == "城乡建设" and shown["status"] == "closed"
    assert shown["petitioner"]["name"] == ANONYMISED
    assert ID_MASKED not in json.dumps(shown, ensure_ascii=False) and "文三路" not in json.dumps(shown, ensure_ascii=False)
    kept = await (await client.get(f"/api/v1/cases/{recent['case_no']}", headers=auth())).json()
    assert kept["petitioner"]["name"] == "张三" and kept["petitioner"]["id_number"] == recent["petitioner"]["id_number"]
    # what is stored
    rows = {r["case_no"]: r for r in await fetch_rows(raw_engine, "SELECT * FROM cases")}
    gone = rows[old["case_no"]]
    assert gone["anonymised_at"] is not None and rows[recent["case_no"]]["anonymised_at"] is None
    for column in ("id_number_enc", "id_number_hmac", "id_number_masked", "phone_enc", "phone_masked", "respondent"):
        assert gone[column] is None, column
    assert {gone["petitioner_name"], gone["address"], gone["facts"], gone["request"]} == {ANONYMISED}
    assert gone["conversation_id"] == f"anonymised:{old['case_no']}"
    assert ID_NUMBER not in json.dumps(gone, default=str) and "张三" not in json.dumps(gone, default=str, ensure_ascii=False)
    assert await senders(raw_engine, events) == {"conv-recent", "unfiled-fresh"}
    nlu = {r["sender_id"] for r in await fetch_rows(raw_engine, "SELECT sender_id FROM nlu_annotations")}
    assert nlu == {"conv-recent", "unfiled-fresh"}
    assert not await fetch_rows(raw_engine, "SELECT key FROM idempotency_keys WHERE case_id=:i", i=gone["id"])
    audits = await fetch_rows(raw_engine, "SELECT actor, case_id, detail FROM audit_log WHERE action=:a", a=AUDIT_ACTION)
    assert len(audits) == 1 and audits[0]["case_id"] is None
    detail = audits[0]["detail"] if isinstance(audits[0]["detail"], dict) else json.loads(audits[0]["detail"])
    assert detail["cases_anonymised"] == 1 and detail["conversations_deleted"] == 2
    assert "张三" not in json.dumps(detail, ensure_ascii=False) and "conv-" not in json.dumps(detail)

    # a second run changes nothing more (only its own audit entry with zero counts)
    before = await fetch_rows(raw_engine, "SELECT * FROM cases ORDER BY id")
    again = await run_purge(database, events, NOW + timedelta(hours=1))
    assert (again.cases_anonymised, again.conversations_deleted, again.tracker_events_deleted, again.nlu_rows_deleted) == (0, 0, 0, 0)
    assert await fetch_rows(raw_engine, "SELECT * FROM cases ORDER BY id") == before
    assert await senders(raw_engine, events) == {"conv-recent", "unfiled-fresh"}
    assert len(await fetch_rows(raw_engine, "SELECT id FROM audit_log WHERE action=:a", a=AUDIT_ACTION)) == 2


def test_the_purge_command_runs_against_sqlite_files_and_prints_counts(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TRACKER_DB_", "APP_ENV"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'backoffice.db'}", TRACKER_DB_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
               UNFILED_CONVERSATION_DAYS="30", PYTHONWARNINGS="ignore::DeprecationWarning")
    python = os.environ.get("APP_PY") or sys.executable
    migrate = subprocess.run([python, "-m", "bot", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        conn.execute(EVENTS_DDL.format(id_type="INTEGER"))
        for sender, age in (("stale", 31), ("fresh", 1)):
            at = time.time() - age * 86400
            conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                         (sender, at, json.dumps({"event": "user", "text": f"手机{PHONE}"})))
    done = subprocess.run([python, "-m", "bot", "purge"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "cases_anonymised: 0" in done.stdout and "conversations_deleted: 1" in done.stdout
    assert "tracker_events_deleted: 1" in done.stdout
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        assert [r[0] for r in conn.execute("SELECT sender_id FROM events")] == ["fresh"]
    with sqlite3.connect(tmp_path / "backoffice.db") as conn:
        (detail,) = conn.execute("SELECT detail FROM audit_log WHERE action=?", (AUDIT_ACTION,)).fetchone()
    assert json.loads(detail)["conversations_deleted"] == 1


async def test_a_filed_conversation_cannot_be_erased_through_the_api(make_client, make_settings, raw_engine, events):
    client = await make_client(make_settings(TRACKER_DB_URL=events.url, TRACKER_DB_SCHEMA=events.schema))
    await create_case(client, case_body(conversation_id="conv-filed"))
    await conversation(events, "conv-filed", NOW)
    await conversation(events, "conv-unfiled", NOW)
    # a row as the encrypting tracker store writes it (connectors/tracker_store.py)
    from bot.settings.backoffice import DEV_TRACKER_ENCRYPTION_KEY
    from bot.store.crypto import FieldCipher

    cipher = FieldCipher([DEV_TRACKER_ENCRYPTION_KEY])
    token = cipher.encrypt(json.dumps({"event": "bot", "text": f"请核对：手机号码{PHONE}", "timestamp": 1.0}))
    insert = "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('conv-unfiled', 'bot', 1.0, :d)"
    if events.sqlite_path:
        with sqlite3.connect(events.sqlite_path) as conn:
            conn.execute(insert.replace(":d", "?"), (token,))
    else:
        async with raw_engine.begin() as conn:
            await conn.execute(text(insert), {"d": token})
    response = await client.post("/api/v1/conversations/conv-filed/erase", headers=auth())
    assert response.status == 409 and "档案" in (await response.json())["message"]
    assert (await client.post("/api/v1/conversations/conv-unfiled/erase")).status == 401
    response = await client.post("/api/v1/conversations/conv-unfiled/erase", headers=auth())
    assert response.status == 200 and (await response.json())["events"] == 3
    rows = {}
    if events.sqlite_path:
        with sqlite3.connect(events.sqlite_path) as conn:
            for sender, data in conn.execute("SELECT sender_id, data FROM events"):
                rows.setdefault(sender, []).append(plain(data))
    else:
        for row in await fetch_rows(raw_engine, "SELECT sender_id, data FROM events"):
            data = row["data"]
            rows.setdefault(row["sender_id"], []).append(plain(data))
    assert any(PHONE in d and "张三" in d for d in rows["conv-filed"])  # the archive is kept
    assert len(rows["conv-unfiled"]) == 3 and not any(PHONE in d or "张三" in d for d in rows["conv-unfiled"])


def test_a_filed_case_gets_the_archive_rule_and_how_to_ask_staff() -> None:
    import asyncio

    import yaml
    from rasa_sdk.executor import CollectingDispatcher

    from actions.privacy_requests import ActionDataRequest
    from tests.actions.conftest import make_tracker

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    tracker = make_tracker(domain, "删除我的个人信息", "data_request", active_loop=None,
                           slots={"case_no": "XF2031000007", "petitioner_name": "张三"})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionDataRequest().run(dispatcher, tracker, domain))
    [message] = dispatcher.messages
    j = load_jurisdiction()
    assert events == [] and "XF2031000007" in message["text"] and j.data_retention in message["text"]
    assert j.hotline in message["text"] and "张三" not in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["转人工"]


async def test_the_erase_action_shows_masked_data_then_erases_through_the_back_office(
    make_client, make_settings, events, raw_engine, monkeypatch
) -> None:
    """The actions as the action server runs them, against the real back office app over HTTP."""
    import yaml
    from rasa_sdk.executor import CollectingDispatcher

    from actions.privacy_requests import ActionDataErase, ActionDataRequest
    from tests.actions.conftest import make_tracker
    from tests.conftest import SERVICE_TOKEN

    client = await make_client(make_settings(TRACKER_DB_URL=events.url, TRACKER_DB_SCHEMA=events.schema))
    monkeypatch.setenv("BACKOFFICE_URL", str(client.server.make_url("")).rstrip("/"))
    monkeypatch.setenv("BACKOFFICE_SERVICE_TOKEN", SERVICE_TOKEN)
    from bot.settings.actions import set_action_settings

    set_action_settings(None)  # read again from the environment above
    sender = "citizen-erase"
    await conversation(events, sender, NOW)
    await events.insert(sender, "slot", {"name": "phone", "value": PHONE})
    await events.insert(sender, "slot", {"name": "agency", "value": "杭州市西湖区信访局"})
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    slots = {"petitioner_name": "张建国", "id_number": ID_NUMBER, "phone": PHONE, "address": "西湖区三墩镇振华路100号"}

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, "删除我的个人信息", "data_request", active_loop=None, slots=slots, sender=sender)
    assert await ActionDataRequest().run(dispatcher, tracker, domain) == []
    [shown] = dispatcher.messages
    assert "张**" in shown["text"] and "138****5678" in shown["text"] and "002X" in shown["text"]
    assert not any(v in shown["text"] for v in ("张建国", PHONE, ID_NUMBER[:10], "振华路100号"))
    assert [b["title"] for b in shown["buttons"]] == ["确认删除", "暂不删除"]

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, "/affirm", "affirm", active_loop=None, slots=slots, sender=sender,
                           previous_action="action_data_request")
    result = await ActionDataErase().run(dispatcher, tracker, domain)
    assert "已删除" in dispatcher.messages[0]["text"]
    cleared = {e["name"] for e in result if e["event"] == "slot" and e["value"] is None}
    assert set(slots) <= cleared and "agency" not in cleared
    if events.sqlite_path:
        with sqlite3.connect(events.sqlite_path) as conn:
            stored = [plain(r[0]) for r in conn.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))]
    else:
        stored = [plain(r["data"]) for r in await fetch_rows(raw_engine, "SELECT data FROM events WHERE sender_id = :s", s=sender)]
    assert len(stored) == 4  # same rows (Rasa counts them), no personal content
    assert not [d for d in stored if PHONE in d or ID_NUMBER in d or "张三" in d]
    assert {"name": "agency", "value": "杭州市西湖区信访局"}.items() <= next(
        json.loads(d) for d in stored if json.loads(d).get("name") == "agency").items()  # not personal: kept
    audits = await fetch_rows(raw_engine, "SELECT detail FROM audit_log WHERE action = 'conversation_erased'")
    assert len(audits) == 1 and sender not in str(audits[0]["detail"])


# --- the chat, end to end -----------------------------------------------------------------


class RetentionStack(Stack):
    """The development stack; Rasa sends the action server's development token (as endpoints.yml)."""

    def write_endpoints(self):
        path = super().write_endpoints()
        endpoints = json.loads(path.read_text(encoding="utf-8"))
        endpoints["action_endpoint"].setdefault("headers", {"Authorization": "Bearer dev-action-endpoint-token"})
        path.write_text(json.dumps(endpoints, ensure_ascii=False), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    running = RetentionStack(name="security-retention", workdir=tmp_path_factory.mktemp("retention"), env={})
    try:
        running.start()
        yield running
    finally:
        running.stop()


def stored_events(stack: Stack, sender: str) -> list[str]:
    with sqlite3.connect(stack.workdir / "tracker.db") as conn:
        return [plain(r[0]) for r in conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,))]


@pytest.mark.e2e
def test_a_citizen_sees_and_erases_an_unfiled_conversation_in_the_chat(stack: Stack) -> None:
    chat = Chat(stack, "erase")
    chat.expect("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱",
                "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    chat.expect("11010519491231002x", "手机号码")
    chat.expect("138 1234 5678", "住址")
    personal = ("张建国", "13812345678", "138 1234 5678", "11010519491231002", "三万二")
    assert any("张建国" in d for d in stored_events(stack, chat.sender))
    # the form takes every message as its answer: the citizen stops it first (the answers
    # are cleared, what was typed is still stored)
    chat.say("取消")
    chat.say("/affirm")
    assert any("张建国" in d for d in stored_events(stack, chat.sender))
    shown = chat.expect("删除我的个人信息", "没有填写任何登记信息", "对话的文字记录", "确认删除", absent=personal)
    chat.click("确认删除", "已删除", absent=personal)

    stored = stored_events(stack, chat.sender)
    assert stored and not [d for d in stored if any(p in d for p in personal + ("建国", "1381234"))]
    slots = stack.tracker(chat.sender)["slots"]
    assert not any(slots.get(s) for s in ("petitioner_name", "id_number", "phone", "facts"))
    status, body = stack.api_get(f"/cases?conversation_id={chat.sender}")
    assert status == 200 and body["cases"] == []
    # the conversation goes on from the erased rows, and nothing personal comes back
    chat.expect("我要反映问题", "是否同意", absent=personal)
    assert not [d for d in stored_events(stack, chat.sender) if "张建国" in d or "13812345678" in d]

"""The encrypted tracker store (connectors/tracker_store.py) in the Rasa environment: what
Rasa reads back is what it saved, new events are stored once, and a tracker the store read
is saved without Rasa's count query (README "Measured speed"). On SQLite (development) and
on the real PostgreSQL server (production)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.stack import (
    TRACKER_CACHE_DIFFERS,
    create_database,
    drop_database,
    in_rasa,
    query,
)

SCRIPT = r"""
import asyncio, json, sqlite3, sys, tempfile
from pathlib import Path
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from connectors.tracker_store import EncryptedSQLTrackerStore, STORED_EVENTS

domain = Domain.load("domain.yml")
if sys.argv[1] == "sqlite":
    db = Path(tempfile.mkdtemp()) / "tracker.db"
    store = EncryptedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))
    rows_of = lambda: sqlite3.connect(db).execute("SELECT data FROM events WHERE sender_id='c1' ORDER BY id").fetchall()
else:
    store = EncryptedSQLTrackerStore(domain=domain, dialect="postgresql", host="127.0.0.1", port=5432,
                                     db=sys.argv[1], username="postgres")
    rows_of = lambda: []
counts = {"rasa_count": 0, "connections": 0}
import sqlalchemy
sqlalchemy.event.listen(store.engine, "connect", lambda *_: counts.__setitem__("connections", counts["connections"] + 1))
rasa_count = store._additional_events
def counted(session, tracker):
    counts["rasa_count"] += 1
    return rasa_count(session, tracker)
store._additional_events = counted

statements = []
sqlalchemy.event.listen(store.engine, "before_cursor_execute",
                        lambda conn, cursor, sql, *rest: statements.append(" ".join(sql.split()[:1] + ["RETURNING"] * ("RETURNING" in sql))))

async def main():
    out = {}
    tracker = await store.get_or_create_tracker("c1")  # new: Rasa's count (none stored)
    out["created_count"] = counts["rasa_count"]
    for turn in range(3):
        statements.clear()
        tracker = await store.retrieve("c1")
        tracker.update(UserUttered(f"第{turn}句", {"name": "inform", "confidence": 1.0}))
        tracker.update(SlotSet("petitioner_name", f"张{turn}"))
        tracker.update(BotUttered(f"好的{turn}"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        out["statements_of_a_message"] = list(statements)
        await store.save(tracker)  # a second save of the same tracker stores nothing twice
    out["count_after_turns"] = counts["rasa_count"]
    again = await store.retrieve("c1")
    out["same_events"] = [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]
    # a new session in the middle of a message, then a message: only the new session is read
    again.update(ActionExecuted("action_session_start"))
    again.update(SessionStarted())
    again.update(ActionExecuted("action_listen"))
    again.update(UserUttered("我又来了", {"name": "greet", "confidence": 1.0}))
    await store.save(again)
    latest = await store.retrieve("c1")
    full = await store.retrieve_full_tracker("c1")
    out["latest_session"] = [e.as_dict().get("event") for e in latest.events]
    out["full_len"], out["tracker_len"] = len(full.events), len(again.events)
    out["full_has_no_stored_mark"] = getattr(full, STORED_EVENTS, None) is None
    rows = rows_of()
    out["rows"] = len(rows)
    out["connections"] = counts["connections"]
    if sys.argv[1] == "sqlite":
        out["journal_mode"] = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
        out["synchronous"] = store.engine.connect().exec_driver_sql("PRAGMA synchronous").scalar()
    out["plain"] = [r[0] for r in rows if "张" in r[0] or "我又来了" in r[0]]
    return out

print(json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def run_script(script: str, backend: str, home: Path, after=None) -> dict:
    """``script`` in the Rasa environment against a new SQLite file or PostgreSQL database;
    ``after(database)`` may read the PostgreSQL rows before the database is dropped."""
    database = "sqlite"
    if backend == "postgresql":
        database = f"xf_trstore_{uuid.uuid4().hex[:10]}"
        create_database(database)
    try:
        out = in_rasa(home, script, database, timeout=300)
        if after is not None and backend == "postgresql":
            out.update(after(database))
        return out
    finally:
        if backend == "postgresql":
            drop_database(database)


def stored_rows(database: str) -> dict:
    rows = query(database, "SELECT data FROM events WHERE sender_id='c1' ORDER BY id")
    return {"rows": len(rows), "plain": [r[0] for r in rows if "张" in r[0] or "我又来了" in r[0]]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def result(request, tmp_path_factory) -> dict:
    return run_script(SCRIPT, request.param, tmp_path_factory.mktemp("home"), after=stored_rows)


def test_events_are_stored_once_and_read_back_as_saved(result: dict) -> None:
    assert result["same_events"] is True
    # one listen at creation, four events a turn, four of the new session
    assert result["rows"] == 1 + 3 * 4 + 4 == result["full_len"] == result["tracker_len"]
    assert result["plain"] == []  # still encrypted at rest


def test_only_the_latest_session_is_read(result: dict) -> None:
    # Rasa reads from the SessionStarted event on (action_session_start comes before it)
    assert result["latest_session"] == ["session_started", "action", "user"]
    assert result["full_has_no_stored_mark"] is True


def test_a_tracker_the_store_read_is_saved_without_a_count_query(result: dict) -> None:
    assert result["created_count"] == 1  # a new tracker: Rasa's count
    assert result["count_after_turns"] == 1  # read, changed, saved (twice) three times: none


def test_a_message_reads_its_conversation_once_and_writes_its_events_once(result: dict) -> None:
    """A kept tracker: one query proves it current, one INSERT stores the message's events; on
    PostgreSQL the INSERT gives back the new rows' ids and versions, elsewhere a query reads
    them back."""
    if result.get("journal_mode"):  # SQLite
        assert result["statements_of_a_message"] == ["SELECT", "INSERT", "SELECT"]
    else:
        assert result["statements_of_a_message"] == ["SELECT", "INSERT RETURNING"]


def test_the_development_database_keeps_its_connection_and_writes_ahead(result: dict) -> None:
    """Ten reads and saves on one connection (SQLAlchemy 1.4 opened one per session on SQLite);
    SQLite in WAL mode, commits not waiting for the disk (1: NORMAL)."""
    assert result["connections"] <= 1
    if "journal_mode" in result:
        assert result["journal_mode"] == "wal" and result["synchronous"] == 1


CACHE_SCRIPT = r"""
import asyncio, json, sys, tempfile
from pathlib import Path
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import EventVerbosity
from connectors.tracker_store import EncryptedSQLTrackerStore

domain = Domain.load("domain.yml")
if sys.argv[1] == "sqlite":
    settings = {"dialect": "sqlite", "db": str(Path(tempfile.mkdtemp()) / "tracker.db")}
else:
    settings = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "db": sys.argv[1],
                "username": "postgres"}
one = EncryptedSQLTrackerStore(domain=domain, **settings)  # two workers of Rasa
two = EncryptedSQLTrackerStore(domain=domain, **settings)
fresh = EncryptedSQLTrackerStore(domain=domain, cache_size=0, **settings)  # always reads whole

def state(tracker):
    return None if tracker is None else tracker.current_state(EventVerbosity.ALL)

async def turn(store, sender, text, slot=None, value=None):
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    if slot:
        tracker.update(SlotSet(slot, value))
    tracker.update(BotUttered("好的"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker

async def main():
    out = {}
    await turn(fresh, "c", "开始")
    for i in range(3):
        saved = await turn(one, "c", f"第{i}句", "petitioner_name", f"张{i}")
    hits = one.cache.hits
    again = await one.retrieve("c")
    out["hit_same_object"] = again is saved and one.cache.hits == hits + 1
    out["hit_equals_fresh"] = state(again) == state(await fresh.retrieve("c"))
    await one.save(again)
    # the other worker answers two messages: the first one's kept tracker gets the new rows
    await turn(two, "c", "换了个进程", "phone", "13812345678")
    await turn(two, "c", "还是它", "address", "西湖区")
    hits = one.cache.hits
    fetched = []
    rows_of_store = one._rows
    one._rows = lambda *a, **k: fetched.append(rows_of_store(*a, **k)) or fetched[-1]
    caught_up = await one.retrieve("c")
    one._rows = rows_of_store
    out["caught_up_hit"] = one.cache.hits == hits + 1
    [rows] = fetched
    out["caught_up_rows"] = [len(rows), sum(r[4] is not None for r in rows)]
    out["caught_up_versions_digits"] = all(str(r[3]).isdigit() for r in rows)
    out["caught_up_equals_fresh"] = state(caught_up) == state(await fresh.retrieve("c"))
    out["caught_up_slots"] = [caught_up.get_slot("petitioner_name"), caught_up.get_slot("phone"),
                              caught_up.get_slot("address")]
    await one.save(caught_up)
    # a row rewritten in place by another process (the back office erasing what the citizen
    # asked to erase): the same number of rows, read whole, the rewritten text is what comes back
    with one.session_scope() as s:
        for row in s.query(one.SQLEvent).filter(one.SQLEvent.sender_id == "c").all():
            event = one.cipher.decode(row.data)
            if event.get("text") == "换了个进程":
                row.data = one.cipher.encode({**event, "text": "（内容已应本人要求删除）"})
        s.commit()
    misses = one.cache.misses
    rewritten = await one.retrieve("c")
    out["rewrite_read_whole"] = one.cache.misses == misses + 1
    out["rewrite_texts"] = [e.text for e in rewritten.events if e.type_name == "user"]
    await one.save(rewritten)
    # a message that fails half-way: taken out, never saved: the next read is whole
    broken = await one.retrieve("c")
    broken.update(SlotSet("petitioner_name", "不该留下"))
    misses = one.cache.misses
    after_failure = await one.retrieve("c")
    out["failure_read_whole"] = one.cache.misses == misses + 1 and after_failure is not broken
    out["failure_not_kept"] = after_failure.get_slot("petitioner_name") == "张2"
    await one.save(after_failure)
    # the other worker stores a declined consent (rows rewritten): read whole
    declined = await two.retrieve("c")
    declined.update(UserUttered("不同意", {"name": "deny", "confidence": 1.0}))
    declined.update(SlotSet("intake_status", "declined"))
    await two.save(declined)
    misses = one.cache.misses
    after_decline = await one.retrieve("c")
    out["decline_read_whole"] = one.cache.misses == misses + 1
    out["decline_equals_fresh"] = state(after_decline) == state(await fresh.retrieve("c"))
    out["decline_name"] = after_decline.get_slot("petitioner_name")
    await one.save(after_decline)
    # a new session started by the other worker: read whole, the latest session only
    later = await two.retrieve("c")
    later.update(ActionExecuted("action_session_start"))
    later.update(SessionStarted())
    later.update(ActionExecuted("action_listen"))
    await two.save(later)
    session = await one.retrieve("c")
    out["session_equals_fresh"] = state(session) == state(await fresh.retrieve("c"))
    out["session_first"] = session.events[0].type_name
    await one.save(session)
    # the check of the test suite: a kept tracker changed behind Rasa's back is not used
    import logging
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("connectors.tracker_store").addHandler(handler)
    one.cache.check = True
    stored_name = session.get_slot("petitioner_name")
    one.cache._kept["c"].tracker.slots["petitioner_name"].value = "背着改的"
    checked = await one.retrieve("c")
    out["check_used_stored"] = checked.get_slot("petitioner_name") == stored_name != "背着改的"
    out["check_logged"] = [r.getMessage() for r in records]
    from connectors.tracker_store import CACHE_DIFFERS
    out["differs_message"] = CACHE_DIFFERS
    await one.save(checked)
    again = await one.retrieve("c")
    out["check_quiet_when_equal"] = len(records) == 1 and again is checked
    await one.save(again)
    # the conversation removed (retention): nothing comes back from memory
    with one.session_scope() as s:
        s.query(one.SQLEvent).filter(one.SQLEvent.sender_id == "c").delete()
        s.commit()
    out["removed"] = await one.retrieve("c") is None
    return out

print(json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cache_result(request, tmp_path_factory) -> dict:
    return {**run_script(CACHE_SCRIPT, request.param, tmp_path_factory.mktemp("home")), "backend": request.param}


def test_a_kept_tracker_is_what_reading_it_whole_gives(cache_result: dict) -> None:
    assert cache_result["hit_same_object"] is True
    assert cache_result["hit_equals_fresh"] is True


def test_rows_another_worker_stored_are_added_to_the_kept_tracker(cache_result: dict) -> None:
    assert cache_result["caught_up_hit"] is True
    # only the other worker's rows (two turns of 4 events) are fetched with their data
    total, with_data = cache_result["caught_up_rows"]
    assert with_data == 8 and total > 8
    # PostgreSQL proves the older rows unchanged by their versions (xmin), not their data
    assert cache_result["caught_up_versions_digits"] is (cache_result["backend"] == "postgresql")
    assert cache_result["caught_up_equals_fresh"] is True
    assert cache_result["caught_up_slots"] == ["张2", "13812345678", "西湖区"]


def test_a_row_rewritten_by_another_process_is_read_from_the_database(cache_result: dict) -> None:
    assert cache_result["rewrite_read_whole"] is True
    assert "换了个进程" not in cache_result["rewrite_texts"]
    assert "（内容已应本人要求删除）" in cache_result["rewrite_texts"]


def test_a_message_that_failed_half_way_leaves_nothing_in_memory(cache_result: dict) -> None:
    assert cache_result["failure_read_whole"] is True
    assert cache_result["failure_not_kept"] is True


def test_a_declined_consent_a_new_session_or_a_removal_elsewhere_is_read_from_the_database(
        cache_result: dict) -> None:
    assert cache_result["decline_read_whole"] is True
    assert cache_result["decline_equals_fresh"] is True
    assert cache_result["decline_name"] is None  # what the other worker removed is gone here too
    assert cache_result["session_equals_fresh"] is True
    assert cache_result["session_first"] == "session_started"
    assert cache_result["removed"] is True


def test_the_suites_check_finds_a_kept_tracker_changed_behind_rasas_back(cache_result: dict) -> None:
    assert cache_result["check_used_stored"] is True
    assert len(cache_result["check_logged"]) == 1
    assert cache_result["check_logged"][0].startswith(cache_result["differs_message"])
    assert "slots" in cache_result["check_logged"][0]  # what differed
    assert cache_result["differs_message"].startswith(TRACKER_CACHE_DIFFERS)  # what the stacks look for
    assert cache_result["check_quiet_when_equal"] is True

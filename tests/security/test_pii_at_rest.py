"""No personal number in clear at rest, outside the encrypted case columns.

Complete conversations run against two real stacks at once: the development profile
(SQLite tracker and case stores) and the production profile (``scripts/prod.py``: PostgreSQL
tracker and case stores, Redis, two Sanic workers of Rasa). The citizen gives the ID number,
the mobile number and the query code in the written forms the conversation accepts (Chinese
spelled digits with 幺, spaces, dashes, full-width digits). Then every cell of every table
of both stores (tracker, cases, NLU review) and every log file of the stacks is scanned for
those numbers in any of those forms, JSON escapes (``\\u5e7a``) decoded first.

Also: a citizen who declines consent leaves none of what they typed in the tracker (checked
on the decrypted rows), ``rasa export`` still reads the encrypted tracker, and masking of
free text (transcripts, handoffs, NLU export) leaves no number that ``check_id_number`` or
``check_mobile`` accept recoverable (property test).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from cryptography.fernet import Fernet, MultiFernet
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from bot.rules.idcard import check_id_number
from bot.rules.masking import anonymize_numbers_in_text, mask_numbers_in_text
from bot.rules.phone import check_mobile
from bot.rules.text import normalize_text, spelled_digits_to_arabic
from bot.settings.actions import DEV_ACTION_ENDPOINT_TOKEN
from bot.settings.backoffice import DEV_TRACKER_ENCRYPTION_KEY
from tests.support.chat import Chat
from tests.support.stack import (
    ARTIFACTS,
    ROOT,
    ProductionStack,
    Stack,
    create_database,
    query,
    rasa_bin,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

# The citizen's numbers (valid, and none of them an example number the prompts show).
FILED_ID, FILED_MOBILE = "330106198503124512", "13957112468"
DECLINED_ID, DECLINED_MOBILE = "440305197706152834", "18655523691"
SPELLED_ID = "三三零幺零六 幺九八五零三幺二 四五幺二"  # Chinese digits with 幺, spaces
SPELLED_MOBILE = "幺三九-五七幺幺-二四六八"  # Chinese digits, dashes
FULLWIDTH_ID = "４４０３ ０５１９ ７７０６ １５２８ ３４"  # full-width digits, spaces
FULLWIDTH_MOBILE = "１８６－５５５２－３６９１"  # full-width digits and dashes
DECLINED_WORD = "幸福里小区"  # something only the declining citizen typed
CASE_NO = re.compile(r"信访件编号：(XF\d{10})")
QUERY_CODE = re.compile(r"查询码：(\d{6})")


# --- the scanner ----------------------------------------------------------------------------

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SEPARATORS = re.compile(r"[\s\-_.()\[\]+\u2010-\u2015]")


def readable(text: str) -> str:
    """``text`` as a reader would see the numbers in it: JSON escapes decoded, full-width
    digits folded, Chinese spelled digits turned into digits."""
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return spelled_digits_to_arabic(normalize_text(text)).upper()


def numbers_in(text: str, numbers: dict[str, str]) -> list[str]:
    """The names of ``numbers`` (ID/mobile: compared without separators; query code: 6
    digits standing alone) that ``text`` holds in clear."""
    seen = readable(text)
    compact = _SEPARATORS.sub("", seen)
    found = []
    for name, number in numbers.items():
        if len(number) == 6:
            if re.search(rf"(?<!\d){number}(?!\d)", seen):
                found.append(name)
        elif number.upper() in compact:
            found.append(name)
    return found


def scan_cells(rows: dict[str, list[tuple]], numbers: dict[str, str]) -> dict[str, list[str]]:
    """``{table: numbers found}`` over every cell of every row."""
    hits: dict[str, list[str]] = {}
    for table, table_rows in rows.items():
        found = {n for row in table_rows for cell in row if cell is not None
                 for n in numbers_in(str(cell), numbers)}
        if found:
            hits[table] = sorted(found)
    return hits


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
    finally:
        conn.close()


def postgres_rows(database: str) -> dict[str, list[tuple]]:
    tables = [r[0] for r in query(database, "SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'public'")]
    return {t: query(database, f'SELECT * FROM "{t}"') for t in tables}


def scan_logs(stack: Stack, numbers: dict[str, str]) -> dict[str, list[str]]:
    hits = {}
    for path in sorted(stack.log_dir.rglob("*.log")):
        found = numbers_in(path.read_text(encoding="utf-8", errors="replace"), numbers)
        if found:
            hits[path.name] = found
    return hits


def test_the_scanner_finds_every_written_form() -> None:
    numbers = {"id": FILED_ID, "mobile": FILED_MOBILE, "code": "483920"}
    plain = json.dumps({"text": f"身份证{SPELLED_ID}，电话{SPELLED_MOBILE}"})  # \u escapes
    assert numbers_in(plain, numbers) == ["id", "mobile"]
    assert numbers_in("查询码 ４８３９２０", numbers) == ["code"]
    assert numbers_in("3301 0619 8503 1245 12 / 139 5711 2468", numbers) == ["id", "mobile"]
    masked = "330106********4512 139****2468 ******, event 14839201 at 1764448392"
    assert numbers_in(masked, numbers) == []


# --- the two stacks ---------------------------------------------------------------------------


def postgres_tracker_store(database: str) -> dict[str, Any]:
    return {"type": "connectors.tracker_store.EncryptedSQLTrackerStore", "dialect": "postgresql",
            "url": "127.0.0.1", "port": 5432, "db": database, "username": "postgres"}


class DevStack(Stack):
    """The development stack; its endpoints carry the action server's development secret
    (as endpoints.yml does) when the shared helper does not add it."""

    def write_endpoints(self) -> Path:
        path = super().write_endpoints()
        endpoints = json.loads(path.read_text(encoding="utf-8"))
        endpoints["action_endpoint"].setdefault(
            "headers", {"Authorization": f"Bearer {DEV_ACTION_ENDPOINT_TOKEN}"})
        path.write_text(json.dumps(endpoints, ensure_ascii=False), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Stack]]:
    suffix = uuid.uuid4().hex[:12]
    database, tracker_database = f"xf_pii_{suffix}", f"xf_piitr_{suffix}"
    create_database(database)
    create_database(tracker_database)
    dev = DevStack(name="pii-sqlite", workdir=tmp_path_factory.mktemp("pii-sqlite"), env={})
    prod = ProductionStack(name="pii-postgres", workdir=tmp_path_factory.mktemp("pii-postgres"),
                           env={}, database=database, tracker_database=tracker_database,
                           rasa_workers=2, action_workers=1)
    for stack in (dev, prod):
        for log in stack.log_dir.glob("*.log"):
            log.unlink()  # the scan reads this run's logs only
    try:
        for stack in (dev, prod):  # both start at once; each waits for its own processes
            stack.workdir.mkdir(parents=True, exist_ok=True)
            stack.start_backoffice()
            stack.start_actions()
            stack.start_rasa()
        dev.wait_ready()
        prod.wait_ready()
        yield {"sqlite": dev, "postgres": prod}
    finally:
        dev.stop()
        prod.stop()
        prod.drop_stores()


def file_petition(stack: Stack, id_text: str, mobile_text: str) -> tuple[Chat, str, str]:
    """A complete petition; (chat, case number, query code)."""
    chat = Chat(stack, "pii")
    chat.expect("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二", "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    chat.expect("同意", "证件号码")  # a number spelled in Chinese is no answer to the consent
    chat.expect(f"我的身份证是{id_text}", "手机号码")
    chat.expect(f"手机{mobile_text}", "住址")
    chat.expect("西湖区三墩镇振华路100号", "劳动和社会保障")
    chat.expect("对的", "被反映对象")
    chat.expect("杭州某某建筑劳务公司的包工头", "诉求")
    chat.expect("要求把拖欠的三万二千元工资全部结清", "第一次反映")
    chat.expect("第一次", "多少人")
    chat.expect("就我一个人", "请核对您的登记信息")
    reply = chat.expect("确认提交", "信访件编号")
    case_no, code = CASE_NO.search(reply), QUERY_CODE.search(reply)
    assert case_no and code, reply
    return chat, case_no.group(1), code.group(1)


def look_up(stack: Stack, case_no: str, code: str) -> None:
    chat = Chat(stack, "piilookup")
    chat.expect("我想查询一下信访件的办理进度", "信访件编号")
    chat.expect(case_no, "查询码")
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    chat.expect(f"查询码{full_width}", case_no)


def decline(stack: Stack) -> Chat:
    chat = Chat(stack, "piidecline")
    chat.expect(f"我在{DECLINED_WORD}那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二",
                "是否同意")
    chat.expect(f"我叫李秀英，身份证{FULLWIDTH_ID}，电话{FULLWIDTH_MOBILE}", "同意")
    chat.expect("不同意", "不会形成信访件")
    return chat


@pytest.fixture(scope="module")
def conversations(stacks: dict[str, Stack]) -> dict[str, dict[str, Any]]:
    """On each stack: a filed petition, a status lookup and a declined consent."""
    done: dict[str, dict[str, Any]] = {}
    for name, stack in stacks.items():
        chat, case_no, code = file_petition(stack, SPELLED_ID, SPELLED_MOBILE)
        look_up(stack, case_no, code)
        declined = decline(stack)
        done[name] = {"filed": chat.sender, "case_no": case_no, "code": code,
                      "declined": declined.sender}
    return done


def all_numbers(code: str) -> dict[str, str]:
    return {"filed ID": FILED_ID, "filed mobile": FILED_MOBILE, "query code": code,
            "declined ID": DECLINED_ID, "declined mobile": DECLINED_MOBILE}


def stored_rows(name: str, stack: Stack) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """(tracker store rows, case store rows) read straight from the databases."""
    if isinstance(stack, ProductionStack):
        return postgres_rows(stack.tracker_database), postgres_rows(stack.database)
    return sqlite_rows(stack.workdir / "tracker.db"), sqlite_rows(stack.workdir / "backoffice.db")


# --- what is stored ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_no_store_and_no_log_holds_a_personal_number_in_clear(
    stacks: dict[str, Stack], conversations: dict[str, dict[str, Any]], name: str
) -> None:
    stack, done = stacks[name], conversations[name]
    label_a_turn(stack, done["filed"])  # an NLU review row made from a turn with the ID number
    tracker, cases = stored_rows(name, stack)
    assert len(tracker["events"]) > 40  # the conversations are stored ...
    numbers = all_numbers(done["code"])
    assert scan_cells(tracker, numbers) == {}  # ... but no number in clear
    assert scan_cells(cases, numbers) == {}
    assert scan_logs(stack, numbers) == {}
    # The case exists and its numbers are only in the encrypted columns.
    case_rows = [r for r in cases["cases"] if done["case_no"] in r]
    assert len(case_rows) == 1
    nlu = [r for r in cases["nlu_annotations"] if done["filed"] in r]
    assert len(nlu) == 1 and any("11010519491231002X" in str(c) for c in nlu[0])


def label_a_turn(stack: Stack, sender: str) -> None:
    """Store an NLU review label of the turn that gave the ID number, as the console's
    "标注" button does (read the turn from the tracker, store it with the review functions)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from bot.console import training
    from bot.store.transcripts import make_tracker_engine, read_transcript, read_user_event

    env = stack.process_env()
    keys = tuple(env.get("TRACKER_ENCRYPTION_KEYS", DEV_TRACKER_ENCRYPTION_KEY).split(","))

    async def run() -> None:
        tracker = make_tracker_engine(env["TRACKER_DB_URL"], "", keys)
        engine = create_async_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://"))
        try:
            turns = await read_transcript(tracker, sender)
            [turn] = [t for t in turns if t.kind == "user" and "身份证" in t.text]
            # The console decrypts: the staff member sees the turn, masked on the page.
            assert SPELLED_ID in turn.text
            assert FILED_ID not in mask_numbers_in_text(turn.text).replace(" ", "")
            turn = await read_user_event(tracker, sender, turn.event_id)
            async with async_sessionmaker(engine)() as session:
                await training.set_label(
                    session, sender_id=sender, event_id=turn.event_id, text=turn.text,
                    predicted_intent=turn.intent, confidence=turn.confidence, intent="inform",
                    actor="pii-test", now=datetime.now(timezone.utc),
                )
                await session.commit()
                exported = training.export_nlu_yaml(await training.all_labels(session))
            assert numbers_in(exported, {"id": FILED_ID}) == []
        finally:
            await tracker.dispose()
            await engine.dispose()

    asyncio.run(run())


def decrypted_events(name: str, stack: Stack, sender: str) -> list[dict[str, Any]]:
    env = stack.process_env()
    keys = env.get("TRACKER_ENCRYPTION_KEYS", DEV_TRACKER_ENCRYPTION_KEY).split(",")
    fernet = MultiFernet([Fernet(k) for k in keys])
    tracker, _ = stored_rows(name, stack)
    columns = ("id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
    rows = [dict(zip(columns, r)) for r in tracker["events"]]
    return [json.loads(fernet.decrypt(r["data"].encode())) for r in rows if r["sender_id"] == sender]


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_a_citizen_who_declines_consent_leaves_nothing_personal(
    stacks: dict[str, Stack], conversations: dict[str, dict[str, Any]], name: str
) -> None:
    stack, done = stacks[name], conversations[name]
    events = decrypted_events(name, stack, done["declined"])
    user_turns = [e for e in events if e["event"] == "user"]
    assert len(user_turns) == 3  # the opening, the numbers, the "不同意"
    plain = json.dumps(events, ensure_ascii=False)
    assert DECLINED_WORD not in plain and "李秀英" not in plain
    assert numbers_in(plain, {"id": DECLINED_ID, "mobile": DECLINED_MOBILE}) == []
    assert all(e["text"] == user_turns[0]["text"] for e in user_turns)  # one placeholder
    # Rasa still reads the conversation: the citizen can go on asking questions.
    assert Chat(stack, sender=done["declined"]).say("信访有什么时限要求")
    # The filed petition's conversation is kept whole (encrypted) for staff.
    filed = json.dumps(decrypted_events(name, stack, done["filed"]), ensure_ascii=False)
    assert "张建国" in filed and SPELLED_ID in filed


def test_rasa_export_reads_the_encrypted_tracker(
    stacks: dict[str, Stack], conversations: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """``rasa export`` (to an SQL event broker) decrypts what it publishes."""
    stack, sender = stacks["sqlite"], conversations["sqlite"]["filed"]
    exported = tmp_path / "exported.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(json.dumps({
        "tracker_store": {"type": "connectors.tracker_store.EncryptedSQLTrackerStore",
                          "dialect": "sqlite", "db": str(stack.workdir / "tracker.db")},
        "event_broker": {"type": "SQL", "dialect": "sqlite", "db": str(exported)},
    }), encoding="utf-8")
    result = subprocess.run(
        [str(rasa_bin()), "export", "--endpoints", str(endpoints), "--conversation-ids", sender],
        cwd=ROOT, env=stack.process_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    rows = sqlite3.connect(exported).execute("SELECT sender_id, data FROM events").fetchall()
    texts = [json.loads(data).get("text") for sid, data in rows if sid == sender]
    assert "张建国" in texts and f"我的身份证是{SPELLED_ID}" in texts


# --- masking in every written form (property test) ------------------------------------------

_CN = {"0": "零〇洞", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六",
       "7": "七", "8": "八", "9": "九"}
_FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_JOIN = ["", "", " ", "-", "－", "\u3000", "\u200b", " - "]


def _valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


ids = st.builds(
    lambda region, year, month, day, seq: _valid_id(f"{region}{year}{month:02d}{day:02d}{seq:03d}"),
    st.sampled_from(["110105", "330106", "440305", "510104", "650102", "810000"]),
    st.integers(1930, 2015), st.integers(1, 12), st.integers(1, 28), st.integers(0, 999),
)
mobiles = st.builds(lambda head, rest: f"1{head}{rest:09d}",
                    st.sampled_from("3456789"), st.integers(0, 999_999_999))


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """``number`` the way a citizen may type it: digit by digit in Arabic, full-width or
    Chinese (a Chinese-spelled run must be long enough to be read as a number), separators
    between groups, a lowercase x."""
    style = draw(st.sampled_from(["ascii", "full", "cn", "mixed"]))
    out = []
    for i, ch in enumerate(number):
        kind = style if style != "mixed" else draw(st.sampled_from(["ascii", "full"]))
        if kind == "cn" and ch.isdigit():
            out.append(draw(st.sampled_from(_CN[ch])))
        elif kind == "full":
            out.append(ch.translate(_FULL))
        else:
            out.append(ch.lower() if ch == "X" and draw(st.booleans()) else ch)
        if i in (2, 3, 5, 6, 7, 9, 13) and i < len(number) - 1:
            out.append(draw(st.sampled_from(_JOIN)))
    return "".join(out)


PROSE = st.sampled_from(["", "我的身份证号是", "电话：", "联系我", "好的，", "嗯 "])
AFTER = st.sampled_from(["", "。", "，谢谢", " 请尽快处理", "，住在西湖区"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=ids, data=st.data(), before=PROSE, after=AFTER)
def test_masking_leaves_no_accepted_id_number_recoverable(number, data, before, after) -> None:
    text = before + data.draw(written(number)) + after
    assume(check_id_number(text).value == number)  # a form the conversation accepts
    for masked in (mask_numbers_in_text(text), anonymize_numbers_in_text(text)):
        assert check_id_number(masked).value != number, masked
        assert number not in _SEPARATORS.sub("", readable(masked)), masked


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=mobiles, data=st.data(), before=PROSE, after=AFTER,
       prefix=st.sampled_from(["", "+86 ", "86", "0086-"]))
def test_masking_leaves_no_accepted_mobile_number_recoverable(number, data, before, after, prefix) -> None:
    text = before + prefix + data.draw(written(number)) + after
    assume(check_mobile(text).value == number)
    for masked in (mask_numbers_in_text(text), anonymize_numbers_in_text(text)):
        assert check_mobile(masked).value != number, masked
        assert number not in _SEPARATORS.sub("", readable(masked)), masked


@settings(max_examples=200, deadline=None)
@given(id_number=ids, mobile=mobiles, data=st.data(), joiner=st.sampled_from([" ", "，", "、", " 电话 "]))
def test_masking_an_id_and_a_mobile_in_one_message(id_number, mobile, data, joiner) -> None:
    text = data.draw(written(id_number)) + joiner + data.draw(written(mobile))
    masked = mask_numbers_in_text(text)
    compact = _SEPARATORS.sub("", readable(masked))
    assert id_number not in compact and mobile not in compact, masked
    assert check_mobile(masked).value != mobile and check_id_number(masked).value != id_number


def test_masking_keeps_what_staff_need_and_amounts() -> None:
    masked = mask_numbers_in_text(f"身份证{SPELLED_ID}，手机{FULLWIDTH_MOBILE}，欠薪120000元，查询码４８３９２０")
    assert "330106********4512" in masked and "186****3691" in masked
    assert "120000元" in masked and "483920" not in readable(masked)

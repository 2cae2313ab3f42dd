"""§7 No second case when an answer is lost, and §1 status only with the query code.

The real processes (Rasa, action server, back office on SQLite) run with a proxy between
Rasa and the action server. On the confirming turn it lets the action server file the case
and then drops the action server's answer to Rasa: the back office holds the case, Rasa
never hears of it and keeps the petition "confirmed". Whatever the citizen does next
(submit again, confirm again, ask for the status, start a new petition), the same case
number and query code are told and the ``cases`` table keeps exactly one case.

The status rule: a case's status is told without asking for the query code only in the
session that filed it; a new session of the same sender id (another device that reuses it,
or the session expiry) must give case number and query code again.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterator

import pytest

from bench.conversations import CASE_MARK, make_citizen, until_summary, wage_arrears
from bot.settings.actions import DEV_ACTION_ENDPOINT_TOKEN
from tests.security.lost_answer_support import ActionAnswerDropper
from tests.support.chat import Chat
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e]

CASE_NO = re.compile(r"信访件编号：(XF\d{10})")
QUERY_CODE = re.compile(r"查询码：(\d{6})")
RECOVERED = "已经登记成功，只登记了一件"
NOTHING_PENDING = "目前没有待提交的信访登记"
STATUS_TOLD = "的办理情况"
ASK_CASE_NO = "请提供信访件编号"


class ProxiedStack(Stack):
    """The development stack; Rasa's calls carry the action endpoint token (unless the
    endpoints file already names one) since they reach the action server through a proxy."""

    def write_endpoints(self) -> Path:
        path = super().write_endpoints()
        endpoints = json.loads(path.read_text(encoding="utf-8"))
        token = self.process_env().get("ACTION_ENDPOINT_TOKEN") or DEV_ACTION_ENDPOINT_TOKEN
        endpoints["action_endpoint"].setdefault("headers", {"Authorization": f"Bearer {token}"})
        path.write_text(json.dumps(endpoints, ensure_ascii=False), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, ActionAnswerDropper]]:
    running = ProxiedStack(name="security-lost-answer", workdir=tmp_path_factory.mktemp("lost-answer"), env={})
    dropper = ActionAnswerDropper(("127.0.0.1", running.action_port)).start()
    running.action_url = dropper.url  # Rasa reaches the action server through the proxy
    try:
        running.start()
        yield running, dropper
    finally:
        running.stop()
        dropper.stop()


def filed(stack: Stack, sender: str) -> list[tuple[str, str]]:
    """``(case_no, conversation_id)`` of a conversation, read from the case table itself."""
    with closing(sqlite3.connect(stack.workdir / "backoffice.db")) as db:
        return db.execute(
            "SELECT case_no, conversation_id FROM cases WHERE conversation_id = ? ORDER BY id", (sender,)
        ).fetchall()


def at_summary(stack: Stack, prefix: str) -> Chat:
    chat = Chat(stack, prefix)
    for turn in until_summary(wage_arrears(make_citizen(random.Random()))):
        chat.expect(turn.message, *turn.expect)
    return chat


def confirm_and_lose_the_answer(stack: Stack, dropper: ActionAnswerDropper, chat: Chat) -> str:
    """Confirm the summary; the case is filed but the citizen hears nothing of it."""
    dropped = len(dropper.dropped)
    dropper.drop_answer_to("action_complete_petition")
    reply = chat.say("确认提交")
    assert dropper.dropped[dropped:] == ["action_complete_petition"], "the answer was not dropped"
    assert CASE_MARK not in reply, chat.transcript()
    [(case_no, _)] = filed(stack, chat.sender)  # filed once, though the citizen never heard so
    slots = stack.tracker(chat.sender)["slots"]
    assert slots["intake_status"] == "confirmed" and slots["submission_key"] and slots["case_no"] is None
    return case_no


FOLLOW_UPS = {
    "submit again": ("重新提交", ("已成功登记",)),
    "confirm again": ("确认提交", ("已成功登记",)),
    "ask for the status": ("查一下我的信访件", (RECOVERED, STATUS_TOLD)),
    "start a new petition": ("我要投诉", (RECOVERED, "是否同意")),
}


@pytest.mark.parametrize("follow_up", list(FOLLOW_UPS))
def test_after_a_lost_answer_every_path_tells_the_same_case_and_files_no_second(
    stack: tuple[Stack, ActionAnswerDropper], follow_up: str
) -> None:
    running, dropper = stack
    chat = at_summary(running, "lost")
    case_no = confirm_and_lose_the_answer(running, dropper, chat)

    message, fragments = FOLLOW_UPS[follow_up]
    reply = chat.expect(message, *fragments)
    assert CASE_NO.search(reply).group(1) == case_no, chat.transcript()
    code = QUERY_CODE.search(reply).group(1)
    assert filed(running, chat.sender) == [(case_no, chat.sender)]

    # The conversation now knows the case: the query code told works, nothing is pending.
    slots = running.tracker(chat.sender)["slots"]
    assert slots["case_no"] == case_no and slots["query_code"] == code
    assert slots["submission_key"] is None
    status, body = running.api_get(f"/status/{case_no}?code={code}")
    assert status == 200 and body["case_no"] == case_no, body
    if follow_up == "start a new petition":
        assert "请点「确认提交」" not in reply  # the new petition starts cleanly with the consent
    else:
        chat.expect("重新提交", NOTHING_PENDING, absent=(CASE_MARK,))
    assert filed(running, chat.sender) == [(case_no, chat.sender)]


def test_a_new_session_does_not_tell_the_status_of_the_case_filed_in_an_earlier_one(
    stack: tuple[Stack, ActionAnswerDropper],
) -> None:
    running, _ = stack
    chat = at_summary(running, "status")
    reply = chat.expect("确认提交", CASE_MARK)
    case_no, code = CASE_NO.search(reply).group(1), QUERY_CODE.search(reply).group(1)
    # In the session that filed it, the citizen is told the status without asking again.
    chat.expect("查一下我的信访件", f"信访件 {case_no} {STATUS_TOLD}", absent=(ASK_CASE_NO,))

    # Another device reusing the conversation id (or the same one after the session expired).
    chat.say("/session_start")
    slots = running.tracker(chat.sender)["slots"]
    assert slots["query_code"] is None  # the code is not carried into the new session
    reply = chat.expect("查一下我的信访件", ASK_CASE_NO, absent=(STATUS_TOLD, "当前状态"))
    # Only the case number is not enough either.
    chat.expect(case_no, "请提供查询码", absent=(STATUS_TOLD, "当前状态"))
    chat.expect(code, f"信访件 {case_no} {STATUS_TOLD}")
    assert filed(running, chat.sender) == [(case_no, chat.sender)]

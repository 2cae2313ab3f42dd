"""Notifications of the citizen: through the assistant (trigger_intent), as a bot message when
the conversation is paused or in a form, and never at the cost of the workflow step when Rasa
cannot be reached (recorded, retried, resent)."""

from __future__ import annotations

from datetime import timedelta

from bot.console.notifier import NOTIFIER
from bot.console.notifier import EXTERNAL_INTENT, said_by_assistant
from tests.api.helpers import auth, fetch_rows
from tests.console.conftest import RASA_TOKEN, file_case, now_utc


async def accepted_case(anonymous, staff, conversation="conv-note"):
    created = await file_case(anonymous, conversation_id=conversation)
    officer = await staff("officer")
    await officer.page(f"/console/cases/{created['case']['case_no']}")
    return created["case"]["case_no"], officer


async def test_the_assistant_tells_the_citizen_when_the_case_is_accepted(anonymous, staff, rasa, raw_engine):
    case_no, officer = await accepted_case(anonymous, staff)
    status, page = await officer.act(case_no, "accept")
    assert status == 303 and "已通知信访人" in page
    [(conversation, query, body)] = rasa.of("trigger")
    assert conversation == "conv-note"
    assert query == {"output_channel": "latest", "token": RASA_TOKEN}
    assert body["name"] == EXTERNAL_INTENT
    assert body["entities"]["case_no"] == case_no
    [row] = await fetch_rows(raw_engine, "SELECT id, kind, status, via, attempts, text FROM notifications")
    assert body["entities"]["notification_id"] == str(row["id"])
    assert (row["kind"], row["status"], row["via"], row["attempts"]) == ("accepted", "sent", "assistant", 1)
    # what the assistant said is exactly the stored text, read through the service API
    assert rasa.said == [("conv-note", row["text"])]
    text = row["text"]
    assert case_no in text and "已于" in text and "受理" in text and "第三十四条" in text
    assert "查一下我的信访件" in text
    assert rasa.of("events") == []  # nothing appended by hand
    assert "已送达" in page


async def test_paused_or_in_a_form_the_message_is_appended_and_delivered(anonymous, staff, rasa, raw_engine):
    case_no, officer = await accepted_case(anonymous, staff)
    rasa.paused = True
    await officer.act(case_no, "accept")
    assert rasa.of("trigger") == []
    [(conversation, query, events)] = rasa.of("events")
    assert query["execute_side_effects"] == "true" and query["output_channel"] == "latest"
    [event] = events
    assert event["event"] == "bot" and case_no in event["text"]
    assert event["metadata"]["case_no"] == case_no and event["metadata"]["source"] == "backoffice"
    rasa.paused, rasa.active_loop = False, "petition_form"
    await officer.act(case_no, "assign", {"unit": "西湖区教育局"})
    assert rasa.of("trigger") == [] and len(rasa.of("events")) == 2
    rows = await fetch_rows(raw_engine, "SELECT kind, status, via FROM notifications ORDER BY id")
    assert rows == [
        {"kind": "accepted", "status": "sent", "via": "bot_event"},
        {"kind": "assigned", "status": "sent", "via": "bot_event"},
    ]


async def test_when_the_assistant_does_not_say_it_the_message_is_appended(anonymous, staff, rasa, raw_engine):
    case_no, officer = await accepted_case(anonymous, staff)
    rasa.action_says = False  # e.g. the action server is down
    await officer.act(case_no, "accept")
    assert len(rasa.of("trigger")) == 1
    [(_, _, [event])] = rasa.of("events")
    assert case_no in event["text"]
    assert (await fetch_rows(raw_engine, "SELECT via FROM notifications")) == [{"via": "bot_event"}]


async def test_rasa_down_never_loses_the_step_and_the_notification_is_retried(
    server, anonymous, staff, rasa, raw_engine, clock
):
    case_no, officer = await accepted_case(anonymous, staff)
    rasa.down = True
    status, page = await officer.act(case_no, "accept")
    assert status == 303
    assert "已受理" in page and "通知信访人暂未成功" in page  # the step is done all the same
    assert (await fetch_rows(raw_engine, "SELECT status FROM cases")) == [{"status": "accepted"}]
    [row] = await fetch_rows(raw_engine, "SELECT status, attempts, last_error, next_attempt_at FROM notifications")
    assert row["status"] == "failed" and row["attempts"] == 1
    assert "HTTP 500" in row["last_error"]
    assert "发送失败" in page and "重新发送" in page
    _, dashboard = await officer.page("/console/")
    assert "未送达的通知" in dashboard and case_no in dashboard

    notifier = server.app[NOTIFIER]
    assert await notifier.retry_due() == 0  # not yet: the retry time has not come
    clock.now = now_utc() + timedelta(minutes=2)
    assert await notifier.retry_due() == 1  # still down: a second failure, a longer wait
    [row] = await fetch_rows(raw_engine, "SELECT status, attempts FROM notifications")
    assert (row["status"], row["attempts"]) == ("failed", 2)
    rasa.down = False
    clock.now = now_utc() + timedelta(minutes=5)
    assert await notifier.retry_due() == 1
    [row] = await fetch_rows(raw_engine, "SELECT status, via, attempts FROM notifications")
    assert (row["status"], row["via"], row["attempts"]) == ("sent", "assistant", 3)


async def test_staff_can_resend_a_failed_notification_now(server, anonymous, staff, rasa, raw_engine):
    case_no, officer = await accepted_case(anonymous, staff)
    rasa.down = True
    await officer.act(case_no, "accept")
    [row] = await fetch_rows(raw_engine, "SELECT id FROM notifications")
    rasa.down = False
    response = await officer.post(f"/console/notifications/{row['id']}/resend")
    assert response.status == 303
    assert (await fetch_rows(raw_engine, "SELECT status FROM notifications")) == [{"status": "sent"}]
    response = await officer.post(f"/console/notifications/{row['id']}/resend")
    assert response.status == 303  # already sent: nothing happens
    assert len(rasa.said) == 1
    audit = await fetch_rows(raw_engine, "SELECT actor FROM audit_log WHERE action = 'notification_resend'")
    assert audit == [{"actor": officer.username}]


async def test_every_step_tells_what_happens_next_with_its_article(anonymous, staff, rasa):
    case_no, officer = await accepted_case(anonymous, staff)
    supervisor = await staff("supervisor")
    await officer.act(case_no, "accept")
    await officer.act(case_no, "assign", {"unit": "西湖区城市管理局"})
    await supervisor.act(case_no, "extend", {"days": "15", "reason": "需要会同多个部门现场核查"})
    await officer.act(case_no, "reply", {"reply": "经核查，施工单位已承诺月底前完工。"})
    await officer.act(case_no, "close")
    texts = [text for _, text in rasa.said]
    assert len(texts) == 6
    accepted, assigned, extended, replied, closed, invitation = texts
    # closed with its reply delivered in the chat: the invitation to rate (第二十一条)
    assert "第二十一条" in invitation and "满意、基本满意或不满意" in invitation
    assert "西湖区城市管理局" in assigned and "第二十二条" in assigned
    assert "延长至" in extended and "需要会同多个部门现场核查" in extended and "第三十四条" in extended
    assert "施工单位已承诺月底前完工" in replied and "复查" in replied and "第三十五条" in replied
    assert "已办结" in closed
    assert all(case_no in t and "【信访件办理进度】" in t for t in texts)


async def test_the_notification_api_is_for_the_service_token(anonymous, staff, rasa, raw_engine):
    case_no, officer = await accepted_case(anonymous, staff)
    await officer.act(case_no, "accept")
    [row] = await fetch_rows(raw_engine, "SELECT id, text FROM notifications")
    assert (await anonymous.get(f"/api/v1/notifications/{row['id']}")).status == 401
    response = await anonymous.get(f"/api/v1/notifications/{row['id']}", headers=auth())
    assert response.status == 200
    body = await response.json()
    assert body["text"] == row["text"] and body["case_no"] == case_no and body["conversation_id"] == "conv-note"
    assert (await anonymous.get("/api/v1/notifications/999", headers=auth())).status == 404
    assert (await anonymous.get("/api/v1/notifications/abc", headers=auth())).status == 404


def test_said_by_assistant_needs_the_event_of_this_notification():
    external = {"event": "user", "parse_data": {"intent": {"name": EXTERNAL_INTENT},
                                               "entities": [{"entity": "notification_id", "value": "7"}]}}
    said = {"event": "bot", "text": "您好"}
    assert said_by_assistant({"tracker": {"events": [external, said]}}, 7, "您好")
    assert not said_by_assistant({"tracker": {"events": [said, external]}}, 7, "您好")
    assert not said_by_assistant({"tracker": {"events": [external, said]}}, 8, "您好")
    assert not said_by_assistant({"tracker": {"events": [external]}}, 7, "您好")
    assert not said_by_assistant({}, 7, "您好")

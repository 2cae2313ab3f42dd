"""Human handoff: the service API the assistant calls, and the console side (take over, reply,
see the citizen's messages, hand back)."""

from __future__ import annotations

from bot.rules.conversation_ids import conversation_tag
from bot.settings.backoffice import DEV_HMAC_KEY
from tests.api.helpers import auth, fetch_rows


async def request_handoff(client, conversation="conv-person", **body):
    return await client.post("/api/v1/handoffs", json={"conversation_id": conversation, "channel": "rest",
                                                       "reason": "我要找人工", **body}, headers=auth())


async def test_the_api_is_idempotent_per_open_conversation(anonymous, raw_engine):
    assert (await anonymous.post("/api/v1/handoffs", json={"conversation_id": "x"})).status == 401
    first = await request_handoff(anonymous)
    assert first.status == 201
    body = await first.json()
    assert body["created"] is True and body["handoff"]["status"] == "waiting"
    again = await request_handoff(anonymous, reason="还是要人工")
    assert again.status == 200
    assert (await again.json())["handoff"]["id"] == body["handoff"]["id"]
    other = await request_handoff(anonymous, conversation="conv-other")
    assert other.status == 201
    assert len(await fetch_rows(raw_engine, "SELECT id FROM handoffs")) == 2
    for bad in ({"conversation_id": ""}, {"conversation_id": "c", "channel": "Web Chat"},
                {"conversation_id": "c" * 129}, {"conversation_id": "c", "reason": 5}):
        response = await anonymous.post("/api/v1/handoffs", json=bad, headers=auth())
        assert response.status == 422, bad
    response = await anonymous.post("/api/v1/handoffs", data=b"[]", headers=auth())
    assert response.status == 400


async def test_take_over_reply_see_messages_and_hand_back(anonymous, staff, rasa, tracker, raw_engine):
    handoff_id = (await (await request_handoff(anonymous)).json())["handoff"]["id"]
    await tracker.user("conv-person", "我要找人工客服", "human_handoff", 0.93)
    officer = await staff("officer")
    status, page = await officer.page("/console/handoffs")
    # the console names a conversation by its keyed tag, never by its id
    assert conversation_tag(DEV_HMAC_KEY, "conv-person") in page and "等待人工接入" in page
    status, page = await officer.page("/console/")
    assert 'class="badge"' in page  # the navigation shows a waiting conversation

    # take over: the assistant is paused and the citizen is greeted by a person
    response = await officer.post(f"/console/handoffs/{handoff_id}/take")
    assert response.status == 303
    [(conversation, query, events)] = rasa.of("events")
    assert conversation == "conv-person" and query["execute_side_effects"] == "true"
    assert events[0] == {"event": "pause"}
    assert events[1]["event"] == "bot" and "工作人员已接入" in events[1]["text"]
    assert events[1]["metadata"]["officer"] == f"officer测试"

    # the officer's reply goes into the conversation, marked as the officer's
    response = await officer.post(f"/console/handoffs/{handoff_id}/reply", {"text": "您好，请问您的信访件编号是多少？"})
    assert response.status == 303
    reply = rasa.of("events")[-1][2][0]
    assert reply["text"] == "【信访局工作人员】您好，请问您的信访件编号是多少？"
    assert reply["metadata"] == {"handoff_id": handoff_id, "source": "staff", "officer": "officer测试"}

    # another officer cannot write into it
    other = await staff("officer")
    await other.page(f"/console/handoffs/{handoff_id}")
    response = await other.post(f"/console/handoffs/{handoff_id}/reply", {"text": "你好"})
    assert response.status == 409 and "负责" in await response.text()

    # the citizen's new messages are polled from the tracker store (numbers masked)
    status, page = await officer.page(f"/console/handoffs/{handoff_id}")
    last = int(page.split('data-last-id="', 1)[1].split('"', 1)[0])
    await tracker.user("conv-person", "编号是XF2026000123，电话13812345678", "inform", 0.8)
    response = await officer.client.get(f"/console/handoffs/{handoff_id}/events?after={last}")
    body = await response.json()
    assert body["status"] == "active"
    [turn] = body["turns"]
    assert turn["kind"] == "user" and turn["text"] == "编号是XF2026000123，电话138****5678"
    assert (await (await officer.client.get(f"/console/handoffs/{handoff_id}/events?after={body['last_id']}")).json())["turns"] == []

    # hand back: resumed, told, closed; a new request opens a new handoff
    response = await officer.post(f"/console/handoffs/{handoff_id}/release")
    assert response.status == 303
    events = rasa.of("events")[-1][2]
    assert events[0] == {"event": "resume"} and "智能助手将继续为您服务" in events[1]["text"]
    [row] = await fetch_rows(raw_engine, "SELECT status, taken_by, closed_by, open_conversation FROM handoffs")
    assert row == {"status": "closed", "taken_by": officer.username, "closed_by": officer.username,
                   "open_conversation": None}
    assert (await request_handoff(anonymous)).status == 201
    actions = await fetch_rows(raw_engine, "SELECT action FROM audit_log WHERE action LIKE 'handoff_%' ORDER BY id")
    assert [a["action"] for a in actions] == ["handoff_take", "handoff_reply", "handoff_release"]


async def test_nothing_is_recorded_when_rasa_cannot_be_reached(anonymous, staff, rasa, raw_engine):
    handoff_id = (await (await request_handoff(anonymous)).json())["handoff"]["id"]
    officer = await staff("officer")
    await officer.page(f"/console/handoffs/{handoff_id}")
    rasa.down = True
    response = await officer.post(f"/console/handoffs/{handoff_id}/take")
    assert response.status == 502 and "暂时无法连接对话服务" in await response.text()
    assert (await fetch_rows(raw_engine, "SELECT status FROM handoffs")) == [{"status": "waiting"}]
    rasa.down = False
    response = await officer.post(f"/console/handoffs/{handoff_id}/reply", {"text": "你好"})
    assert response.status == 409  # not taken over yet
    response = await officer.post(f"/console/handoffs/{handoff_id}/dismiss")
    assert response.status == 303
    text = rasa.of("events")[-1][2][0]["text"]
    assert "暂时无法在线接入" in text and "0571" in text
    assert (await fetch_rows(raw_engine, "SELECT status FROM handoffs")) == [{"status": "closed"}]

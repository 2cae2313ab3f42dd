"""action_notify_case_update against the real back office app: it says exactly the stored text
of the notification named by the external event, and nothing when that cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.backoffice import close_session
from actions.notifications import ActionNotifyCaseUpdate
from bot.settings.actions import set_action_settings
from tests.actions.conftest import make_tracker
from tests.api.helpers import fetch_rows
from tests.conftest import SERVICE_TOKEN
from tests.console.conftest import file_case
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain():
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
async def point_actions_at(monkeypatch):
    def point(url: str) -> None:
        monkeypatch.setenv("BACKOFFICE_URL", url)
        monkeypatch.setenv("BACKOFFICE_SERVICE_TOKEN", SERVICE_TOKEN)
        set_action_settings(None)  # read again, as an action server started now would

    yield point
    await close_session()


def external_event(domain, notification_id, sender="conv-note"):
    entities = [{"entity": "case_no", "value": "XF2026000001"}]
    if notification_id is not None:
        entities.append({"entity": "notification_id", "value": str(notification_id)})
    return make_tracker(domain, text="EXTERNAL: EXTERNAL_case_update", intent="EXTERNAL_case_update",
                        entities=entities, active_loop=None, sender=sender)


async def test_the_action_says_the_stored_text(server, anonymous, staff, rasa, raw_engine, domain, point_actions_at):
    rasa.action_says = False
    case_no = (await file_case(anonymous, conversation_id="conv-note"))["case"]["case_no"]
    officer = await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    await officer.act(case_no, "accept")
    [row] = await fetch_rows(raw_engine, "SELECT id, text FROM notifications")
    point_actions_at(str(server.make_url("")).rstrip("/"))

    dispatcher = CollectingDispatcher()
    events = await ActionNotifyCaseUpdate().run(dispatcher, external_event(domain, row["id"]), domain)
    assert events == []
    [message] = dispatcher.messages
    assert message["text"] == row["text"]
    assert message["notification_id"] == row["id"] and message["case_no"] == case_no

    # another conversation's notification is not told here
    dispatcher = CollectingDispatcher()
    await ActionNotifyCaseUpdate().run(dispatcher, external_event(domain, row["id"], sender="someone-else"), domain)
    assert dispatcher.messages == []


async def test_without_a_readable_notification_the_action_says_nothing(server, domain, point_actions_at):
    point_actions_at(str(server.make_url("")).rstrip("/"))
    for notification_id in (None, 999):
        dispatcher = CollectingDispatcher()
        assert await ActionNotifyCaseUpdate().run(dispatcher, external_event(domain, notification_id), domain) == []
        assert dispatcher.messages == []
    point_actions_at(f"http://127.0.0.1:{free_port()}")  # back office down
    dispatcher = CollectingDispatcher()
    assert await ActionNotifyCaseUpdate().run(dispatcher, external_event(domain, 1), domain) == []
    assert dispatcher.messages == []


def test_the_domain_and_rules_wire_the_external_intent():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert "EXTERNAL_case_update" in domain["intents"]
    assert "notification_id" in domain["entities"]
    assert "action_notify_case_update" in domain["actions"]
    rules = yaml.safe_load((ROOT / "data" / "rules" / "notifications.yml").read_text(encoding="utf-8"))
    [rule] = rules["rules"]
    assert rule["steps"] == [{"intent": "EXTERNAL_case_update"}, {"action": "action_notify_case_update"}]

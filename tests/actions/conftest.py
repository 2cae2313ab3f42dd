"""Trackers and the domain, built the way the Rasa server sends them to the action server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backoffice import close_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
async def backoffice_session() -> AsyncIterator[None]:
    """The action server's one back office session is closed when it stops: here, after each
    test (each test has its own event loop)."""
    yield
    await close_session()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    domain: dict[str, Any],
    text: str = "",
    intent: str = "inform",
    confidence: float = 0.95,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    requested_slot: str | None = None,
    active_loop: str | None = "petition_form",
    previous_action: str | None = None,
    sender: str = "citizen-test",
    channel: str = "rest",
) -> Tracker:
    """A tracker whose latest event is the citizen's message ``text``.

    ``previous_action`` is the bot action before that message (e.g. the question asked).
    """
    all_slots = {name: None for name in domain["slots"]}
    all_slots["requested_slot"] = requested_slot
    all_slots.update(slots or {})
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
    }
    events: list[dict[str, Any]] = []
    if previous_action:
        events.append({"event": "action", "name": previous_action})
    events += [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": parse, "input_channel": channel},
    ]
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message=parse,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """{slot: value} of the SlotSet events, last one winning."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def slots_after(tracker: Tracker, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The tracker's slot values once ``events`` are applied (what Rasa's tracker then holds)."""
    return {**tracker.slots, **slot_events(events)}


def texts_of(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def buttons_of(dispatcher: CollectingDispatcher) -> dict[str, str]:
    return {b["title"]: b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []}

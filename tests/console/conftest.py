"""The staff console under test: the back office app (SQLite and PostgreSQL via ``database``),
a tracker store ``events`` table as Rasa creates it, a stand-in for Rasa's HTTP API that
records what the back office asks of it, and logged-in browsers (test clients) per role.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy import text

from bot.store import users as store_users
from bot.store.db import make_engine
from bot.web.keys import CLOCK, SESSIONMAKER
from tests.api.helpers import case_body, create_case
from tests.conftest import SERVICE_TOKEN, Database

RASA_TOKEN = "test-rasa-token"
PASSWORD = "correct-horse-battery"
ROLES = ("officer", "supervisor", "admin")

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """argon2id with small parameters: the production profile takes ~1 s per hash here."""
    monkeypatch.setattr(store_users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    store_users._dummy_hash.cache_clear()
    yield
    store_users._dummy_hash.cache_clear()


# --- tracker store --------------------------------------------------------------------------

EVENTS_DDL = """
CREATE TABLE events (
    id {id_type} PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
)
"""


@dataclass
class Tracker:
    """Rasa's tracker store ``events`` table, written the way SQLTrackerStore writes it."""

    database: Database
    url: str
    schema: str
    sqlite_path: str | None = None
    engine: Any = None
    clock: float = field(default_factory=lambda: time.time() - 3600)

    async def insert(self, sender: str, type_name: str, data: dict[str, Any],
                     intent: str | None = None, action: str | None = None,
                     at: float | None = None) -> int:
        self.clock = at if at is not None else self.clock + 1
        data = {"event": type_name, "timestamp": self.clock, **data}
        row = {"sender_id": sender, "type_name": type_name, "timestamp": self.clock,
               "intent_name": intent, "action_name": action, "data": json.dumps(data)}
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as conn:
                cursor = conn.execute(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                    " VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)", row)
                return int(cursor.lastrowid)
        async with self.engine.begin() as conn:
            result = await conn.execute(text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                " VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data) RETURNING id"
            ), row)
            return int(result.scalar_one())

    async def user(self, sender: str, message: str, intent: str, confidence: float,
                   ranking: list[tuple[str, float]] | None = None, channel: str = "rest",
                   at: float | None = None) -> int:
        ranking = ranking or [(intent, confidence)]
        parse = {
            "text": message,
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
        return await self.insert(sender, "user", {"text": message, "parse_data": parse,
                                                  "input_channel": channel, "metadata": {}},
                                 intent=intent, at=at)

    async def bot(self, sender: str, message: str, buttons: list[str] | None = None,
                  metadata: dict[str, Any] | None = None, at: float | None = None) -> int:
        data = {"text": message, "metadata": metadata or {},
                "data": {"buttons": [{"title": b, "payload": "/x"} for b in (buttons or [])]}}
        return await self.insert(sender, "bot", data, at=at)

    async def action(self, sender: str, name: str, at: float | None = None) -> int:
        return await self.insert(sender, "action", {"name": name}, action=name, at=at)

    async def clear(self) -> None:
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as conn:
                conn.execute("DELETE FROM events")
            return
        async with self.engine.begin() as conn:
            await conn.execute(text("TRUNCATE events RESTART IDENTITY"))


@pytest.fixture
async def tracker(database: Database, tmp_path) -> Tracker:
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


# --- Rasa's HTTP API ----------------------------------------------------------------------------


@dataclass
class FakeRasa:
    """Records requests; ``paused``/``active_loop`` describe the tracker; ``down`` fails every
    call with HTTP 500; ``action_says`` runs the notification action against the back office
    (GET /api/v1/notifications/{id} with the service token) like the real action server."""

    server: TestServer | None = None
    calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    paused: bool = False
    active_loop: str | None = None
    down: bool = False
    action_says: bool = True
    backoffice_url: str = ""
    said: list[tuple[str, str]] = field(default_factory=list)  # (conversation, text) by the action

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def of(self, kind: str) -> list[tuple[str, dict[str, str], Any]]:
        return [(conv, query, body) for k, conv, query, body in self.calls if k == kind]

    def bot_texts(self, conversation: str | None = None) -> list[str]:
        return [
            e["text"] for conv, _, body in self.of("events") for e in body
            if e.get("event") == "bot" and (conversation is None or conv == conversation)
        ]

    async def handle(self, request: web.Request) -> web.Response:
        if request.query.get("token") != RASA_TOKEN:
            return web.json_response({"status": "failure"}, status=401)
        conversation = request.match_info["conversation"]
        kind = request.match_info["kind"]
        body = await request.json() if request.can_read_body else None
        self.calls.append(({"tracker": "state", "trigger_intent": "trigger",
                            "tracker/events": "events"}[kind], conversation,
                           dict(request.query), body))
        if self.down:
            return web.json_response({"status": "failure", "message": "boom"}, status=500)
        if kind == "tracker":
            return web.json_response({
                "sender_id": conversation, "paused": self.paused, "events": None,
                "active_loop": {"name": self.active_loop} if self.active_loop else {},
                "latest_input_channel": "rest",
            })
        if kind == "tracker/events":
            for event in body:
                if event.get("event") == "pause":
                    self.paused = True
                elif event.get("event") == "resume":
                    self.paused = False
            return web.json_response({"sender_id": conversation})
        # trigger_intent
        entities = body.get("entities") or {}
        external = {"event": "user", "text": f"EXTERNAL: {body['name']}",
                    "parse_data": {"intent": {"name": body["name"]},
                                   "entities": [{"entity": k, "value": v} for k, v in entities.items()]}}
        events = [{"event": "action", "name": "action_listen"}, external]
        if self.action_says and not self.paused:
            import aiohttp

            async with aiohttp.ClientSession() as session:
                async with session.get(
                    f"{self.backoffice_url}/api/v1/notifications/{entities['notification_id']}",
                    headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
                ) as response:
                    notification = await response.json()
            self.said.append((conversation, notification["text"]))
            events += [{"event": "action", "name": "action_notify_case_update"},
                       {"event": "bot", "text": notification["text"],
                        "metadata": {"notification_id": notification["id"]}}]
        return web.json_response({"tracker": {"sender_id": conversation, "events": events},
                                  "messages": []})


@pytest.fixture
async def rasa() -> FakeRasa:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_route("*", "/conversations/{conversation}/{kind:tracker|trigger_intent|tracker/events}",
                         fake.handle)
    fake.server = TestServer(app)
    await fake.server.start_server()
    yield fake
    await fake.server.close()


# --- the back office and its staff ------------------------------------------------------------


@pytest.fixture
def console_settings(make_settings, tracker: Tracker, rasa: FakeRasa):
    def make(**env: str):
        base = {"TRACKER_DB_URL": tracker.url, "TRACKER_DB_SCHEMA": tracker.schema,
                "RASA_URL": rasa.url, "RASA_TOKEN": RASA_TOKEN}
        return make_settings(**{**base, **env})

    return make


@pytest.fixture
def console_env() -> dict[str, str]:
    """Extra environment of the back office under test (a test module may override it)."""
    return {}


# Sessions that survive a test moving the clock by months.
LONG_SESSIONS = {"CONSOLE_SESSION_IDLE_MINUTES": str(60 * 24 * 3650), "CONSOLE_SESSION_MAX_HOURS": str(24 * 3650)}


@pytest.fixture
async def server(console_settings, console_env, rasa: FakeRasa, clock):
    from bot.app import RUNNER_OPTIONS, init_app

    app = await init_app(console_settings(**console_env), clock=clock)
    test_server = TestServer(app)
    await test_server.start_server(**RUNNER_OPTIONS)
    rasa.backoffice_url = str(test_server.make_url("")).rstrip("/")
    yield test_server
    await test_server.close()


@pytest.fixture
async def anonymous(server):
    client = TestClient(server)
    await client.start_server()
    yield client
    await client.close()


class Staff:
    """A logged-in browser of one member of staff."""

    def __init__(self, client: TestClient, username: str, role: str):
        self.client = client
        self.username = username
        self.role = role
        self.csrf = ""

    async def page(self, path: str, **kwargs) -> tuple[int, str]:
        response = await self.client.get(path, allow_redirects=False, **kwargs)
        body = await response.text()
        match = CSRF_RE.search(body)
        if match and not path.startswith("/console/login"):
            self.csrf = match.group(1)
        return response.status, body

    async def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True,
                   **kwargs):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return await self.client.post(path, data=form, allow_redirects=False, **kwargs)

    async def act(self, case_no: str, action: str, data: dict[str, str] | None = None):
        """A workflow step from the case page; returns (status, page after it)."""
        response = await self.post(f"/console/cases/{case_no}/{action.replace('_', '-')}", data)
        if response.status == 303:
            status, body = await self.page(response.headers["Location"])
            return 303, body
        return response.status, await response.text()


async def add_user(server: TestServer, username: str, role: str, password: str = PASSWORD,
                   display_name: str = "") -> None:
    app = server.app
    async with app[SESSIONMAKER]() as session:
        await store_users.create_user(session, username=username, password=password, role=role,
                                      display_name=display_name or username, now=app[CLOCK]())
        await session.commit()


async def login(client: TestClient, username: str, password: str = PASSWORD):
    page = await client.get("/console/login")
    token = CSRF_RE.search(await page.text()).group(1)
    return await client.post("/console/login", data={
        "csrf_token": token, "username": username, "password": password, "next": "/console/",
    }, allow_redirects=False)


@pytest.fixture
async def staff(server) -> Callable[..., Any]:
    """``await staff("officer")``: a new account of that role, logged in (its own cookies)."""
    clients: list[TestClient] = []

    async def make(role: str, username: str | None = None) -> Staff:
        username = username or f"{role}-{uuid.uuid4().hex[:6]}"
        await add_user(server, username, role, display_name=f"{role}测试")
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        response = await login(client, username)
        assert response.status == 303, await response.text()
        member = Staff(client, username, role)
        status, _ = await member.page("/console/account")
        assert status == 200
        return member

    yield make
    for client in clients:
        await client.close()


async def file_case(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """A case filed through the API as the action server would (returns the JSON)."""
    return await create_case(client, case_body(**overrides))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)

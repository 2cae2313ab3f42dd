"""The shipped deployment works and holds least privilege.

One production profile for the module (scripts/prod.py, PostgreSQL, Redis), with:

- Debian's nginx in front of it, running ``deploy/nginx.conf`` as shipped (only the listen
  port and the upstream addresses rewritten to loopback); headless Chromium logs in to the
  console through it, works a case, and chats on the citizen page (socket.io through nginx);
- the case store and the tracker store in two databases owned by two PostgreSQL roles;
- each process started with only its own secrets (read back from /proc/<pid>/environ);
- the action server refusing calls that do not carry Rasa's shared secret.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from bot.ops import is_secret_variable, process_environ
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.browser.test_webchat import ChatPage
from tests.support.nginx import Nginx, nginx_conf
from tests.support.stack import (
    TEST_POSTGRES_SERVER,
    ProductionStack,
    _http_ok,
    _pg_connect,
    delete_redis_keys,
    free_port,
    query,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CASE_NO = re.compile(r"信访件编号：(XF\d{10})")
# Secrets the internet-facing Rasa server must never hold (the case store's keys and login).
CASE_STORE_SECRETS = ("BACKOFFICE_ENCRYPTION_KEYS", "BACKOFFICE_HMAC_KEY", "BACKOFFICE_SESSION_SECRET",
                      "ADMIN_PASSWORD", "BACKOFFICE_SERVICE_TOKEN", "DATABASE_URL")


@dataclass
class Deployment:
    stack: ProductionStack
    front_url: str  # nginx
    case_role: str
    tracker_role: str
    passwords: dict[str, str]
    nginx_log: Path


def _create_owned_database(name: str, role: str, password: str) -> None:
    conn = _pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD %s", (password,))
            cur.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
            cur.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC')
    finally:
        conn.close()


def _drop(database: str, role: str) -> None:
    conn = _pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            cur.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        conn.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    suffix = uuid.uuid4().hex[:10]
    case_db, tracker_db = f"xf_depl_{suffix}", f"xf_depltr_{suffix}"
    case_role, tracker_role = f"xf_case_{suffix}", f"xf_tracker_{suffix}"
    passwords = {case_role: secrets.token_urlsafe(16), tracker_role: secrets.token_urlsafe(16)}
    _create_owned_database(case_db, case_role, passwords[case_role])
    _create_owned_database(tracker_db, tracker_role, passwords[tracker_role])
    server = TEST_POSTGRES_SERVER.split("://", 1)[1].split("@")[-1]
    front_port = free_port()
    front_url = f"http://127.0.0.1:{front_port}"
    stack = ProductionStack(
        name="security-deployment",
        workdir=tmp_path_factory.mktemp("security-deployment"),
        env={"CHAT_SOCKET_URL": front_url},  # the chat page reaches socket.io through nginx
        database=case_db,
        tracker_database=tracker_db,
        database_url=f"postgresql://{case_role}:{passwords[case_role]}@{server}/{case_db}",
        tracker_db_url=f"postgresql://{tracker_role}:{passwords[tracker_role]}@{server}/{tracker_db}",
        rasa_workers=1,
    )
    # One Rasa process (the socket.io one, which serves REST too) keeps the module light.
    del stack.replica_ports["rasa"], stack.replica_workers["rasa"]
    stack.rasa_port = stack.add_replica("rasa-socketio")
    prefix = stack.workdir / "nginx"
    prefix.mkdir(parents=True)
    nginx = Nginx(prefix, front_port)
    try:
        stack.start()
        # Both Rasa upstreams reach the one socket.io process (it serves REST as well).
        conf = nginx_conf(prefix, front_port, [stack.rasa_port], stack.rasa_port, stack.backoffice_port)
        nginx.start(conf)
        yield Deployment(stack, front_url, case_role, tracker_role, passwords, nginx.error_log)
    finally:
        nginx.stop()
        for name in list(stack.processes):  # the stores are dropped next: no clean shutdown needed
            stack.kill(name)
        for database, role in ((case_db, case_role), (tracker_db, tracker_role)):
            _drop(database, role)
        delete_redis_keys(f"{stack.key_prefix}:", f"{stack.key_prefix}:lock:")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class FrontChatPage(ChatPage):
    """The citizen chat page as citizens reach it: through nginx."""

    def __init__(self, browser: Any, deployment: Deployment) -> None:
        super().__init__(browser, deployment.stack, viewport={"width": 1280, "height": 900})
        self.front_url = deployment.front_url

    def open(self) -> None:
        self.page.goto(self.front_url + "/")


# --- (a) nginx + production profile + Chromium ------------------------------------------------


def test_citizen_and_officer_work_a_case_through_the_shipped_nginx(deployment: Deployment, chromium: Any) -> None:
    front = deployment.front_url
    chat = FrontChatPage(chromium, deployment)
    officer = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        # The citizen files a petition on the chat page; socket.io goes through nginx, Rasa
        # calls the action server (with its secret), the action server files the case.
        chat.open()
        chat.start()
        chat.say("我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二，找了好几次都说没钱", "是否同意")
        chat.click("同意", "姓名")
        chat.say("张建国", "身份证号码")
        chat.say("11010519491231002x", "手机号码")
        chat.say("138 1234 5678", "住址")
        chat.say("西湖区三墩镇振华路100号", "劳动和社会保障")
        chat.click("是的，劳动和社会保障", "被反映对象")
        chat.say("杭州某某建筑劳务公司的包工头", "诉求")
        chat.say("要求把拖欠的三万二千元工资全部结清", "第一次反映")
        chat.click("是，第一次反映", "多少人")
        chat.say("就我一个人", "请核对您的登记信息")
        filed = chat.click("确认提交", "信访件编号")
        case_no = CASE_NO.search(filed).group(1)
        sockets = [u for u in chat.urls if "/socket.io/?" in u]
        assert sockets and all(u.split("/socket.io/")[0].replace("ws://", "http://") == front for u in sockets)
        [(status,)] = query(deployment.stack.database, "SELECT status FROM cases WHERE case_no = %s", (case_no,))
        told_before = chat.bot_count()

        # The officer logs in through nginx (the console's Origin check sees the real host).
        page = officer.new_page()
        page.set_default_timeout(30000)
        failures: list[str] = []
        page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(front + "/console/")
        assert "/console/login" in page.url
        page.fill("#username", "admin")
        page.fill("#password", deployment.stack.secrets["ADMIN_PASSWORD"])
        page.click("#login-submit")
        page.wait_for_url(front + "/console/")
        page.goto(front + "/console/cases")
        page.fill("#filter-q", case_no)
        with page.expect_navigation():
            page.click("#filter-submit")
        with page.expect_navigation():
            page.locator(f'tr[data-case-no="{case_no}"] a').first.click()
        assert page.inner_text("#case-no") == case_no
        assert "老板一直拖着工资不给" in page.inner_text("#transcript")  # read with the tracker role
        page.click("#action-accept summary")
        with page.expect_navigation():
            page.click("#submit-accept")
        assert "已受理" in page.inner_text("#flash")
        assert page.inner_text("#case-status") == "已受理，正在办理"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "deployment-accepted.png"), full_page=True)
        assert not failures, failures

        # Stored: the case moved on; the citizen reads it in the chat, through nginx.
        [(after,)] = query(deployment.stack.database, "SELECT status FROM cases WHERE case_no = %s", (case_no,))
        assert after != status
        told = chat.expect(told_before, "【信访件办理进度】")
        assert case_no in told
        chat.screenshot("deployment-told")
    finally:
        officer.close()
        chat.close()


# --- (b) each process holds only its own secrets ----------------------------------------------


def _group_pids(leader: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == leader:  # process group
                pids.append(int(entry.name))
    return pids


def _environs(stack: ProductionStack, name: str) -> list[dict[str, str]]:
    found = []
    for pid in _group_pids(stack.processes[name].popen.pid):
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        found.append(dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item))
    assert found, name
    return found


def test_each_running_process_holds_only_its_own_secrets(deployment: Deployment) -> None:
    stack = deployment.stack
    every = {**stack.secrets, "DATABASE_URL": stack.database_url, "TRACKER_DB_URL": stack.tracker_db_url}
    case_password, tracker_password = (deployment.passwords[r] for r in (deployment.case_role, deployment.tracker_role))
    for env in _environs(stack, "rasa-socketio"):
        blob = "\0".join(env.values())
        for name in CASE_STORE_SECRETS:
            assert name not in env and every[name] not in blob, name
        assert case_password not in blob
        assert env["RASA_TOKEN"] == stack.rasa_token and env["ACTION_ENDPOINT_TOKEN"] == every["ACTION_ENDPOINT_TOKEN"]
        assert env["TRACKER_DB_URL"] == stack.tracker_db_url
    for env in _environs(stack, "actions"):
        blob = "\0".join(env.values())
        held = {k for k in env if is_secret_variable(k)}
        assert held == {"BACKOFFICE_SERVICE_TOKEN", "ACTION_ENDPOINT_TOKEN"}, held
        for name, value in every.items():
            assert name in held or value not in blob, name
        assert case_password not in blob and tracker_password not in blob
        assert env["BACKOFFICE_URL"] == stack.backoffice_url
    for env in _environs(stack, "backoffice"):
        blob = "\0".join(env.values())
        for name in ("ACTION_ENDPOINT_TOKEN", "RASA_JWT_SECRET"):
            assert name not in env and every[name] not in blob, name
        assert not [k for k in env if k.startswith("WECHAT_")]
        assert env["BACKOFFICE_ENCRYPTION_KEYS"] == every["BACKOFFICE_ENCRYPTION_KEYS"]
    # The same rule drops the WeChat account's secrets from the back office and the actions.
    wechat = {"WECHAT_APP_SECRET": "x" * 32, "WECHAT_ENCODING_AES_KEY": "y" * 43}
    env = {**stack.process_env(), **wechat}
    assert not set(wechat) & set(process_environ("backoffice", env))
    assert not set(wechat) & set(process_environ("actions", env))
    assert set(wechat) <= set(process_environ("rasa", env))


def test_case_store_and_tracker_store_are_owned_by_separate_roles(deployment: Deployment) -> None:
    stack = deployment.stack
    case_role, tracker_role = deployment.case_role, deployment.tracker_role
    [(cross_case, cross_tracker, own_case, own_tracker)] = query("postgres", (
        "SELECT has_database_privilege(%s, %s, 'CONNECT'), has_database_privilege(%s, %s, 'CONNECT'),"
        " has_database_privilege(%s, %s, 'CONNECT'), has_database_privilege(%s, %s, 'CONNECT')"
    ), (tracker_role, stack.database, case_role, stack.tracker_database,
        case_role, stack.database, tracker_role, stack.tracker_database))
    assert (cross_case, cross_tracker, own_case, own_tracker) == (False, False, True, True)
    # The tables were created by each store's own role.
    assert query(stack.database, "SELECT tableowner FROM pg_tables WHERE tablename = 'cases'") == [(case_role,)]
    assert query(stack.tracker_database, "SELECT tableowner FROM pg_tables WHERE tablename = 'events'") == [
        (tracker_role,)]
    # The tracker store's login is refused by the case store's database.
    host = TEST_POSTGRES_SERVER.split("@")[-1]
    hostname, _, port = host.partition(":")
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        psycopg2.connect(host=hostname, port=int(port or 5432), dbname=stack.database, user=tracker_role,
                         password=deployment.passwords[tracker_role], connect_timeout=5)


# --- (c) the action server answers Rasa only ---------------------------------------------------


def _call(url: str, body: dict | None, token: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def test_the_action_server_refuses_calls_without_rasas_secret(deployment: Deployment) -> None:
    stack = deployment.stack
    base = f"http://127.0.0.1:{stack.action_port}"
    token = stack.secrets["ACTION_ENDPOINT_TOKEN"]
    cases_before = query(stack.database, "SELECT count(*) FROM cases")
    sender = f"attacker-{uuid.uuid4().hex[:8]}"
    call = {
        "next_action": "action_greet",
        "sender_id": sender,
        "version": "3.6.2",
        "tracker": {"sender_id": sender, "slots": {}, "latest_message": {"text": "你好", "intent": {}, "entities": []},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"},
        "domain": {},
    }
    for bad in (None, "wrong-" + token, token[:-1]):
        assert _call(base + "/webhook", call, bad) == (401, {"error": "unauthorized"})
        assert _call(base + "/actions", None, bad) == (401, {"error": "unauthorized"})
    assert _http_ok(base + "/health")  # probes stay open
    # Nothing happened: no case, and the refused calls were logged as refused.
    assert query(stack.database, "SELECT count(*) FROM cases") == cases_before
    assert "refused a call to /webhook" in stack.processes["actions"].tail(2000)
    # The same call with Rasa's secret runs the action (what was refused above would have run).
    status, answer = _call(base + "/webhook", call, token)
    assert status == 200, answer
    assert any("智能助手" in (r.get("text") or "") for r in answer["responses"]), answer
    status, names = _call(base + "/actions", None, token)
    assert status == 200 and {"name": "action_greet"} in names

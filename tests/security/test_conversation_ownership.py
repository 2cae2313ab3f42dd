"""A conversation belongs to the channel and citizen that started it.

Against the production profile (scripts/prod.py, PostgreSQL, Redis): the back office, the
action server and the socket.io Rasa server (which also serves the REST channel). A citizen
is halfway through a petition on the web chat (name, ID number, phone, address given) and
another one on WeChat; an attacker who knows their conversation ids (read off a screen or a
log, as before) tries the REST channel and a forged socket.io reconnect. Staff pages and
the logs of the run are checked for the raw ids.
"""

from __future__ import annotations

import http.cookies
import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.rules.conversation_ids import conversation_tag
from tests.support.stack import (
    ARTIFACTS,
    ProductionStack,
    create_database,
    rasa_python,
    texts_of,
)

SUPPORT = Path(__file__).with_name("conversation_ownership_support.py")
PHONE, ID_NUMBER, ADDRESS = "13712345678", "11010519491231002X", "西湖区翠苑街道文二路1号"
OPENID = "oSecTest" + uuid.uuid4().hex[:20]
WECHAT_ID = f"wechat-{OPENID}"
WECHAT_PHONE, WECHAT_ADDRESS = "13698765432", "西湖区三墩镇振华路200号"


def socket_chat(stack: ProductionStack, session_id: str, *messages: str) -> dict[str, Any]:
    """A web-chat page (python-socketio in the Rasa environment): confirmed id and replies."""
    url = f"http://127.0.0.1:{stack.port_of('rasa-socketio')}"
    out = subprocess.run(
        [str(rasa_python()), str(SUPPORT), url, session_id, *messages],
        capture_output=True, text=True, timeout=300, check=True,
        env={**os.environ, "RASA_TOKEN": stack.rasa_token},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rasa_api(stack: ProductionStack, method: str, conversation: str, tail: str, body: Any = None) -> Any:
    quoted = urllib.parse.quote(conversation, safe="")
    url = f"http://127.0.0.1:{stack.port_of('rasa-socketio')}/conversations/{quoted}/{tail}"
    url += ("&" if "?" in url else "?") + f"token={stack.rasa_token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def tracker(stack: ProductionStack, conversation: str) -> dict[str, Any]:
    return rasa_api(stack, "GET", conversation, "tracker")


def rest(stack: ProductionStack, sender: str, message: str, token: str | None = "default") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token == "default":
        headers.update(stack.rest_headers())
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"http://127.0.0.1:{stack.port_of('rasa-socketio')}/webhooks/rest/webhook"
    req = urllib.request.Request(url, data=json.dumps({"sender": sender, "message": message}).encode(),
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    suffix = uuid.uuid4().hex[:10]
    database, tracker_database = f"xf_own_{suffix}", f"xf_own_t_{suffix}"
    create_database(database)
    create_database(tracker_database)
    stack = ProductionStack(
        name="security-ownership", workdir=tmp_path_factory.mktemp("ownership"), env={},
        database=database, tracker_database=tracker_database, rasa_workers=1, action_workers=1,
    )
    # One Rasa process: the socket.io server of the profile, which serves the REST channel too.
    port = stack.add_replica("rasa-socketio")
    del stack.replica_ports["rasa"], stack.replica_workers["rasa"]
    stack.rasa_port = port
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        stack.drop_stores()


@pytest.fixture(scope="module")
def victims(stack: ProductionStack) -> dict[str, str]:
    """A web chat halfway through a petition, and a WeChat conversation holding a phone and address."""
    page = socket_chat(stack, "", "我要投诉小区物业乱收费，一个车位管理费一年收三千", "@同意",
                       "陈志强", ID_NUMBER, PHONE, ADDRESS)
    web_id = page["session_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", web_id), page
    assert tracker(stack, web_id)["slots"]["phone"], page  # the petition is under way
    rasa_api(stack, "POST", WECHAT_ID, "tracker/events", [
        {"event": "slot", "name": "phone", "value": WECHAT_PHONE},
        {"event": "slot", "name": "address", "value": WECHAT_ADDRESS},
    ])
    return {"web": web_id, "wechat": WECHAT_ID}


def test_production_rest_channel_requires_its_token(stack: ProductionStack) -> None:
    for token in (None, "wrong-token-of-sixteen-chars", stack.rasa_token):
        status, body = rest(stack, "rest-curious", "你好", token=token)
        assert status == 401, (token, status, body)
        assert "令牌" in body["message"]
    status, body = rest(stack, "rest-curious", "你好")
    assert status == 200 and texts_of(body)  # with the token: an answer


@pytest.mark.parametrize("kind", ["web", "wechat"])
def test_a_rest_call_naming_another_channels_conversation_reaches_a_conversation_of_its_own(
    stack: ProductionStack, victims: dict[str, str], kind: str
) -> None:
    victim = victims[kind]
    before = tracker(stack, victim)
    replies = []
    for message in ("查询进度", "确认提交", "我的手机号改为13900000000", "我要投诉"):
        status, body = rest(stack, victim, message)
        assert status == 200, body
        replies.append(texts_of(body))
        assert {r["recipient_id"] for r in body} <= {f"rest-{victim}"}
    seen = "\n".join(replies)
    for secret in (PHONE, WECHAT_PHONE, "文二路", "振华路200号", "137****5678", "陈志强"):
        assert secret not in seen, (secret, seen)
    after = tracker(stack, victim)
    assert after["events"] == before["events"]  # nothing written into the victim's conversation
    assert after["slots"] == before["slots"]
    assert after["slots"]["phone"] in (PHONE, WECHAT_PHONE)
    # the attacker talked to a REST conversation of its own
    own = tracker(stack, f"rest-{victim}")
    assert [e["text"] for e in own["events"] if e["event"] == "user"][:1] == ["查询进度"]


def test_a_reconnect_with_an_id_this_server_did_not_issue_gets_a_new_conversation(
    stack: ProductionStack, victims: dict[str, str]
) -> None:
    web_id = victims["web"]
    before = tracker(stack, web_id)
    forged = web_id[:16] + ("0" if web_id[16] != "0" else "1") + web_id[17:]  # signature altered
    guessed = uuid.uuid4().hex  # the old id format: any 32 hex
    for requested in (forged, guessed, "rest-someone", WECHAT_ID):
        page = socket_chat(stack, requested, "我的电话是多少")
        assert page["session_id"] != requested and page["session_id"] != web_id
        assert re.fullmatch(r"[0-9a-f]{32}", page["session_id"])
        seen = "\n".join(sum(page["replies"], []))
        assert PHONE not in seen and ADDRESS not in seen and WECHAT_PHONE not in seen
    assert tracker(stack, web_id)["events"] == before["events"]
    # the page of the citizen herself, reloaded, continues her conversation (positive control)
    page = socket_chat(stack, web_id)
    assert page["session_id"] == web_id


def console_pages(stack: ProductionStack, conversation: str, tag: str) -> dict[str, str]:
    """Log in to the real back office as the first staff account and read the pages that
    name a conversation (the handoff list and page, the conversation list and review page)."""
    # Cookies by hand: the production profile's cookies are Secure, which a cookie jar never
    # sends over the plain HTTP of this test.
    cookies: dict[str, str] = {}
    base = stack.backoffice_url

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def call(path: str, data: bytes | None = None) -> str:
        req = urllib.request.Request(base + path, data=data, headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        try:
            resp = opener.open(req, timeout=60)
        except urllib.error.HTTPError as exc:
            if exc.code != 303:
                raise
            resp = exc
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            cookies.update({k: m.value for k, m in jar.items()})
        return resp.read().decode()

    def get(path: str) -> str:
        return call(path)

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', get("/console/login")).group(1)
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": "admin",
                                   "password": stack.secrets["ADMIN_PASSWORD"], "next": "/console/"})
    call("/console/login", form.encode())
    req = urllib.request.Request(
        f"{base}/api/v1/handoffs", method="POST",
        data=json.dumps({"conversation_id": conversation, "channel": "web"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.service_token}"},
    )
    handoff = json.loads(urllib.request.urlopen(req, timeout=60).read())["handoff"]["id"]
    pages = {"handoffs": get("/console/handoffs"), "handoff": get(f"/console/handoffs/{handoff}"),
             "conversations": get("/console/conversations")}
    row = pages["conversations"].split(f'data-sender="{tag}"', 1)[-1]
    link = re.search(r'href="(/console/conversations/view\?c=[^"]+)"', row)
    assert link, pages["conversations"][-2000:]
    pages["conversation"] = get(link.group(1).replace("&amp;", "&"))
    return pages


def test_staff_pages_and_logs_never_show_a_web_chat_id(stack: ProductionStack, victims: dict[str, str]) -> None:
    web_id = victims["web"]
    tag = conversation_tag(stack.secrets["BACKOFFICE_HMAC_KEY"], web_id)
    pages = console_pages(stack, web_id, tag)
    for name, page in pages.items():
        assert web_id not in page, name
    assert tag in pages["handoffs"] and tag in pages["handoff"]
    assert any(tag in pages[name] for name in ("conversations", "conversation"))
    assert "车位管理费" in pages["conversation"]  # the review page is the victim's transcript
    assert tag in pages["conversation"]
    logs = {p.name: p.read_text(errors="replace") for p in (ARTIFACTS / stack.name).glob("*.log")}
    assert logs
    for name, text in logs.items():
        assert web_id not in text, name
        assert OPENID not in text, name

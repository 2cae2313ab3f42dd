"""Scale-out: two Rasa REST replicas behind the shipped nginx, one of them killed while citizens
file petitions through it.

The topology of the README's "Several workers, replicas, and socket.io"
(``tests/support/scaleout.py``): the Rasa REST replicas ``rasa-a`` and ``rasa-b`` (one Sanic
worker each) and the socket.io process share the PostgreSQL tracker store and the Redis lock
store; the action server and the back office; Debian's nginx in front running
``deploy/nginx.conf`` with its ``rasa_rest`` upstream rewritten to both replicas (and its REST
location opened for the load driver). One run for the module (``scenario``):

1. eight citizens file petitions through nginx's REST route (``bench/load.py``: one source
   address each, 0-0.3 s to type each answer), starting new conversations until 15 s after
   the kill;
2. a web-chat citizen opens a socket.io session through nginx and answers the first questions;
3. the "unlucky" citizen then goes through a petition without pause, and its confirmation sets
   the moment of the kill: once the action server has filed its case and the answer is on
   its way back to the replica that asked (a proxy between each replica and the action
   server holds it there), that replica is SIGKILLed, as soon as another citizen's message is
   in flight on it too (the same proxy holds the action server's next answer to another
   conversation on that replica). No other citizen's confirmation is in flight at that moment
   (they are held back until the kill is done): that window is the subject of the last test,
   on the unlucky citizen alone;
4. everyone carries on. A message in flight on the killed replica gets 502 from nginx (or a
   broken connection) and its citizen sends it again, as a real client does (``bench/load.py``
   says exactly how); nginx hands it, and every new message, to the survivor, which answers it
   once the dead process's lock ticket for the conversation has expired (up to 60 s);
5. the web chat (on the socket.io process, untouched) continues after the kill and files.

Then the ``cases`` table is read directly: a case number told to a citizen must be exactly one
row of that conversation, holding the answers the citizen gave. Nothing here asserts timing;
``make bench-scale`` (``bench/scale.py``) measures it.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import aiohttp
import pytest
from cryptography.fernet import Fernet, MultiFernet

from bench.conversations import CASE_MARK, Citizen, Turn, wage_arrears
from bench.load import (
    FAILOVER_TIMEOUT,
    FailoverResult,
    citizen_connector,
    play,
    run_failover_phase,
    stored_answer,
    tracker_recovery,
)
from tests.production.helpers import case_no_in, citizen
from tests.support.nginx import Proxied
from tests.support.scaleout import (
    REPLICAS,
    CaseCheck,
    ScaleOut,
    case_rows,
    check_cases,
    new_stack,
    start,
)
from tests.support.stack import ARTIFACTS, ROOT, free_port, new_sender, query, rasa_python

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

CONFIRM = "确认提交"
CITIZENS = 8  # and the unlucky one, and the web chat
DURATION = 20.0  # seconds during which the citizens start conversations ...
AFTER_KILL = 15.0  # ... and at least this long after the kill
THINK = (0.0, 0.3)
WEB_TURNS_BEFORE_KILL = 6
CASE_NO_BYTES = re.compile(rb"XF\d{10}")
SOCKETIO_SESSION = ROOT / "tests" / "support" / "socketio_session.py"


# --- a proxy between a Rasa replica and the action server -----------------------------------


class ActionLink:
    """Passes every call of one replica to the action server, except that once ``arm``ed for a
    conversation it holds the action server's answer that carries that conversation's case
    number (the back office has filed the case) until ``release``, then drops it."""

    def __init__(self, replica: str, action_port: int) -> None:
        self.replica = replica
        self.upstream = ("127.0.0.1", action_port)
        self.port = free_port()
        self.sender = b""
        self.held = threading.Event()
        # ``hold_another``: the next answer to any other conversation is held as well (until
        # ``release``), so that one more citizen's message is in flight on this replica
        self.another = False
        self.another_held = threading.Event()
        self.released = threading.Event()
        self.held_case_no = ""
        self._server: Optional[socket.socket] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self) -> "ActionLink":
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def arm(self, sender: str) -> None:
        self.sender = sender.encode()

    def hold_another(self) -> None:
        self.another = True

    def release(self) -> None:
        self.released.set()

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            _close(self._server)
            self._server = None

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            # the call being answered: Rasa keeps a connection open for the next calls (of any
            # conversation), and sends a call only after the answer to the one before
            call = {"request": bytearray(), "response": bytearray()}
            threading.Thread(target=self._requests, args=(client, upstream, call), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client, call), daemon=True).start()

    @staticmethod
    def _requests(client: socket.socket, upstream: socket.socket, call: dict[str, bytearray]) -> None:
        try:
            while data := client.recv(65536):
                if data.startswith(b"POST "):  # a new call on the connection
                    call["request"].clear()
                    call["response"].clear()
                call["request"].extend(data)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _responses(self, upstream: socket.socket, client: socket.socket, call: dict[str, bytearray]) -> None:
        try:
            while data := upstream.recv(65536):
                call["response"].extend(data)
                if (self.another and not self.another_held.is_set() and call["request"]
                        and not (self.sender and self.sender in call["request"])):
                    self.another_held.set()
                    self.released.wait(300)
                    return  # the answer is dropped with the connection
                if self.sender and self.sender in call["request"] and not self.held.is_set():
                    found = CASE_NO_BYTES.search(call["response"])
                    if found:
                        self.held_case_no = found.group().decode()
                        self.held.set()
                        self.released.wait(300)
                        return  # the answer is dropped with the connection
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)
            _close(client)


def established(port: int) -> int:
    """Open TCP connections to 127.0.0.1:``port`` (requests in flight: nginx opens one per
    request to an upstream), from /proc/net/tcp."""
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        return sum(1 for row in table.read().splitlines()[1:]
                   if row.split()[1] == local and row.split()[3] == "01")


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# --- the run -----------------------------------------------------------------------------------


@dataclass
class WebChat:
    session: str = ""
    transports: list[str] = field(default_factory=list)
    turns: list[tuple[str, list[str]]] = field(default_factory=list)
    turns_before_kill: int = 0
    case_no: Optional[str] = None
    error: str = ""
    person: Optional[Citizen] = None


@dataclass
class Scenario:
    deployment: ScaleOut
    load: FailoverResult
    unlucky: FailoverResult
    unlucky_sender: str
    unlucky_person: Citizen
    web: WebChat
    victim: str
    survivor: str
    held_case_no: str  # the case the action server filed for the unlucky citizen before the kill
    kill_window: tuple[float, float]  # epoch seconds around the SIGKILL
    kill_monotonic: float
    others_confirming_at_kill: list[str]
    in_flight_at_kill: int  # requests nginx had open on the killed replica
    rows: list[tuple[str, str]]
    requests: list[Proxied]  # nginx's access log of the REST route

    @property
    def stack(self):  # noqa: ANN201
        return self.deployment.stack


async def _web_chat(url: str, person: Citizen, ready: asyncio.Event, killed: asyncio.Event, log: Path) -> WebChat:
    """One web chat through nginx: the first answers before the kill, the rest after it."""
    chat = WebChat(person=person)
    turns = wage_arrears(person)
    with log.open("wb") as errors:
        proc = await asyncio.create_subprocess_exec(
            str(rasa_python()), "-W", "ignore", str(SOCKETIO_SESSION), url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errors,
        )
        assert proc.stdin is not None and proc.stdout is not None

        async def line() -> dict[str, Any]:
            raw = await asyncio.wait_for(proc.stdout.readline(), 180)
            if not raw:
                raise RuntimeError("the socket.io client exited")
            return json.loads(raw)

        try:
            first = await line()
            chat.session, chat.transports = first["session"], [first["transport"]]
            for index, turn in enumerate(turns):
                if index == WEB_TURNS_BEFORE_KILL:
                    chat.turns_before_kill = index
                    ready.set()
                    await killed.wait()
                proc.stdin.write(turn.message.encode() + b"\n")
                await proc.stdin.drain()
                answer = await line()
                replies = answer.get("replies", [])
                chat.turns.append((turn.message, replies))
                chat.transports.append(answer.get("transport", answer.get("error", "")))
                missing = turn.missing("\n".join(replies))
                if missing:
                    chat.error = f"missing {missing} after {turn.message!r}"
                    break
                if CASE_MARK in turn.expect:
                    chat.case_no = case_no_in("\n".join(replies))
        except Exception as exc:  # reported by the test on the web chat
            chat.error = f"{type(exc).__name__}: {exc}"
        finally:
            ready.set()
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
    return chat


async def _run(deployment: ScaleOut, links: dict[str, ActionLink], run_id: str) -> dict[str, Any]:
    stack = deployment.stack
    url = deployment.rest_url
    headers = stack.rest_headers()
    recover = tracker_recovery(deployment.api_bases, stack.rasa_token)
    web_ready, killed = asyncio.Event(), asyncio.Event()
    load = FailoverResult("citizens", CITIZENS, THINK, window=DURATION)
    unlucky = FailoverResult("unlucky", 1, (0.0, 0.0))
    unlucky_person, unlucky_sender = citizen(), new_sender("unlucky")
    outcome: dict[str, Any] = {"load": load, "unlucky": unlucky, "unlucky_sender": unlucky_sender,
                               "unlucky_person": unlucky_person}
    closing = asyncio.Event()  # set while the kill is prepared: others' confirmations wait
    confirming: dict[str, int] = {}  # sender -> its transcript's length when it sent its confirmation

    async def others_gate(sender: str, turn: Turn) -> None:
        if turn.message != CONFIRM:
            return
        while closing.is_set():
            await asyncio.sleep(0.05)
        confirming[sender] = len(load.transcripts.get(sender, []))

    def confirmations_in_flight() -> list[str]:
        return [s for s, n in confirming.items() if len(load.transcripts.get(s, [])) == n]

    async def arm_at_confirmation(sender: str, turn: Turn) -> None:
        if turn.message == CONFIRM:
            for link in links.values():
                link.arm(sender)

    async def unlucky_citizen() -> None:
        try:
            await asyncio.wait_for(web_ready.wait(), 120)
        except asyncio.TimeoutError:
            pass
        unlucky.people[unlucky_sender] = unlucky_person
        async with aiohttp.ClientSession(
            timeout=FAILOVER_TIMEOUT, connector=citizen_connector(CITIZENS), headers=headers
        ) as session:
            await play(session, url, unlucky_sender, wage_arrears(unlucky_person), unlucky,
                       recover=recover, gate=arm_at_confirmation)

    async def killer(unlucky_task: asyncio.Task) -> None:
        try:
            while not any(link.held.is_set() for link in links.values()) and not unlucky_task.done():
                await asyncio.sleep(0.02)
            held = [link for link in links.values() if link.held.is_set()]
            victim = held[0].replica if held else REPLICAS[0]
            closing.set()
            deadline = time.monotonic() + 60
            while confirmations_in_flight() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            # The unlucky citizen's request and at least one other citizen's on the victim: the
            # next answer of the action server to another conversation on the victim is held
            # (a fast replica rarely has two messages open at once on its own, and the others
            # stop at their confirmations while the kill is prepared).
            port = stack.replica_ports[victim]
            links[victim].hold_another()
            deadline = time.monotonic() + 30
            while (not links[victim].another_held.is_set() or established(port) < 2) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            outcome["others_confirming_at_kill"] = confirmations_in_flight()
            outcome["in_flight_at_kill"] = established(port)
            before = time.time()
            stack.kill(victim)
            outcome.update(kill_window=(before, time.time()), victim=victim,
                           held_case_no=held[0].held_case_no if held else "")
        finally:
            outcome.setdefault("kill_monotonic", time.monotonic())
            for link in links.values():  # one hold only: the confirmation sent again passes
                link.arm("")
                link.release()
            closing.clear()
            killed.set()

    load_task = asyncio.create_task(run_failover_phase(
        "citizens", url, CITIZENS, DURATION, THINK, run_id, headers=headers, recover=recover,
        gate=others_gate, seed=11, result=load,
        keep_going=lambda: not killed.is_set() or time.monotonic() < outcome["kill_monotonic"] + AFTER_KILL,
    ))
    web_task = asyncio.create_task(
        _web_chat(deployment.nginx.url, citizen(), web_ready, killed, stack.log_dir / "webchat.log")
    )
    unlucky_task = asyncio.create_task(unlucky_citizen())
    kill_task = asyncio.create_task(killer(unlucky_task))
    await asyncio.gather(load_task, unlucky_task, kill_task)
    outcome["web"] = await web_task
    return outcome


def _masked(message: str) -> str:
    """A message with its long numbers (ID, phone) masked: the summary is kept with the logs."""
    return re.sub(r"\d{7,}[\dXx]*", lambda m: m.group()[:3] + "*" * (len(m.group()) - 7) + m.group()[-4:], message)


def _summary(scenario: "Scenario") -> dict[str, Any]:
    """What the clients saw, for the reader of test-artifacts/scale-out/summary.json."""
    load, unlucky = scenario.load, scenario.unlucky
    return {
        "victim": scenario.victim,
        "in_flight_at_kill": scenario.in_flight_at_kill,
        "conversations": load.conversations,
        "told": len(load.completed),
        "messages": load.messages,
        "failed_attempts": dict(load.failed_attempts + unlucky.failed_attempts),
        "retried": [
            {"message": _masked(r.message), "attempts": r.attempts, "waited_ms": round(r.waited_ms),
             "recovered_from_store": r.recovered, "answered": r.answered}
            for r in load.retried + unlucky.retried
        ],
        "errors": dict(load.errors + unlucky.errors),
        "unlucky_told": unlucky.completed.get(scenario.unlucky_sender),
        "unlucky_cases": [n for c, n in scenario.rows if c == scenario.unlucky_sender],
        "web_chat": {"case_no": scenario.web.case_no, "transports": sorted(set(scenario.web.transports)),
                     "error": scenario.web.error},
        "nginx": [
            {"status": p.status, "upstreams": [scenario.deployment.replica_of(a) for a in p.upstreams],
             "upstream_statuses": p.upstream_statuses, "at": round(p.at - scenario.kill_window[0], 2)}
            for p in scenario.requests if p.status != 200 or len(p.upstreams) > 1
        ],
    }


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    stack = new_stack("scale-out", tmp_path_factory.mktemp("scale-out"), rasa_workers=1)
    links = {r: ActionLink(r, stack.action_port).start() for r in REPLICAS}
    stack.action_urls = {r: link.url for r, link in links.items()}
    deployment: Optional[ScaleOut] = None
    try:
        deployment = start(stack, stack.workdir / "nginx")  # stops all and drops the stores on failure
        deployment.warm_up()
        outcome = asyncio.run(_run(deployment, links, stack.key_prefix[-6:]))
        victim = outcome.get("victim", "")
        result = Scenario(
            deployment=deployment,
            load=outcome["load"],
            unlucky=outcome["unlucky"],
            unlucky_sender=outcome["unlucky_sender"],
            unlucky_person=outcome["unlucky_person"],
            web=outcome["web"],
            victim=victim,
            survivor=next((r for r in REPLICAS if r != victim), ""),
            held_case_no=outcome.get("held_case_no", ""),
            kill_window=outcome.get("kill_window", (0.0, 0.0)),
            kill_monotonic=outcome.get("kill_monotonic", 0.0),
            others_confirming_at_kill=outcome.get("others_confirming_at_kill", ["?"]),
            in_flight_at_kill=outcome.get("in_flight_at_kill", 0),
            rows=case_rows(stack),
            requests=deployment.nginx.upstream_lines("/webhooks/rest/"),
        )
        out = ARTIFACTS / "scale-out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(_summary(result), ensure_ascii=False, indent=2), encoding="utf-8")
        yield result
    finally:
        for link in links.values():
            link.stop()
        if deployment is not None:
            deployment.stop()


def _transcript(result: FailoverResult, sender: str) -> str:
    return "\n".join(f"  {m!r} -> {r[:100]!r}" for m, r in result.transcripts.get(sender, []))


# --- the tests ---------------------------------------------------------------------------------


def test_the_kill_fell_in_the_middle_of_the_load(scenario: Scenario) -> None:
    """Preconditions of the other tests: the unlucky citizen's filing was held on a replica
    that was then killed while the others were talking, and both replicas had been serving."""
    assert scenario.victim in REPLICAS and scenario.held_case_no, "the filing was never held: no kill at it"
    assert scenario.stack.processes[scenario.victim].popen.poll() is not None
    assert scenario.stack.processes[scenario.survivor].popen.poll() is None
    assert scenario.others_confirming_at_kill == []
    assert scenario.in_flight_at_kill >= 2, "no other citizen's message was in flight on the killed replica"
    before = [p for p in scenario.requests if p.at < scenario.kill_window[0]]
    after = [p for p in scenario.requests if p.at > scenario.kill_window[1] + 1]
    served_before = {scenario.deployment.replica_of(p.upstreams[-1]) for p in before if p.status == 200}
    assert served_before == set(REPLICAS), served_before
    assert len(after) >= 20, f"only {len(after)} messages after the kill"
    # Conversations were under way across the kill, and others began after it.
    kill = scenario.kill_monotonic
    spans = scenario.load.spans.values()
    assert any(first < kill < last for first, last in spans), "no conversation was under way at the kill"
    assert any(first > kill for first, _ in spans), "no conversation began after the kill"


def test_every_citizen_files_a_petition_across_the_kill(scenario: Scenario) -> None:
    load = scenario.load
    assert not load.errors, (dict(load.errors), load.error_examples)
    assert load.unfinished == 0
    unfinished = [s for s in load.senders if s not in load.completed]
    assert not unfinished, "\n".join(f"{s}:\n{_transcript(load, s)}" for s in unfinished)
    assert all(load.completed.values()), load.completed
    # The messages in flight on the killed replica failed (502 or a broken connection), were
    # sent again and answered by the survivor: their conversations went on where they were.
    # (Whether one of these citizens had a message in flight at that instant depends on timing;
    # the unlucky citizen below always had, and is checked for it.)
    assert all(r.answered for r in load.retried), load.retried
    # The unlucky citizen too: its confirmation failed with the replica and was sent again.
    told = scenario.unlucky.completed.get(scenario.unlucky_sender)
    assert told, _transcript(scenario.unlucky, scenario.unlucky_sender)
    [retry] = [r for r in scenario.unlucky.retried if r.message == CONFIRM]
    assert retry.answered and not retry.recovered
    assert set(retry.attempts) <= {"http_502", "request:ServerDisconnectedError", "request:ClientOSError"}, retry


def test_each_case_number_told_is_exactly_one_case_of_its_conversation(scenario: Scenario) -> None:
    load = scenario.load
    others = [(c, n) for c, n in scenario.rows if c != scenario.unlucky_sender]
    check = check_cases(others, load.completed, load.senders)
    assert check.ok, check
    assert check.told == len(load.senders)
    # Nothing was filed that no citizen was told (no conversation was cut off by the end).
    assert not check.filed_untold, check.filed_untold
    web = [n for c, n in scenario.rows if c == scenario.web.session]
    assert web == [scenario.web.case_no], web


def test_no_answer_is_lost(scenario: Scenario) -> None:
    """Every case holds what its citizen answered, on whichever replica each answer landed."""
    stack = scenario.stack
    cipher = MultiFernet([Fernet(k) for k in stack.secrets["BACKOFFICE_ENCRYPTION_KEYS"].split(",")])
    load = scenario.load
    for sender, case_no in load.completed.items():
        person = load.people[sender]
        sent = [m for m, _ in load.transcripts[sender]]
        [(name, id_enc, phone_enc, address, respondent, request)] = query(
            stack.database,
            "SELECT petitioner_name, id_number_enc, phone_enc, address, respondent, request FROM cases"
            " WHERE case_no = %s AND conversation_id = %s", (case_no, sender),
        )
        at = sent.index(person.phone)
        assert (name, cipher.decrypt(id_enc.encode()).decode(), cipher.decrypt(phone_enc.encode()).decode()) == (
            person.name, person.id_number, person.phone), sender
        assert (address, respondent, request) == (sent[at + 1], sent[at + 3], sent[at + 4]), sender


def test_nginx_passes_new_messages_to_the_surviving_replica(scenario: Scenario) -> None:
    """What the clients saw at the front: a 502 only for a message that the killed replica
    was processing at that moment; every later message answered by the survivor, nginx
    skipping the dead replica after its refused connection."""
    replica_of = scenario.deployment.replica_of
    start, end = scenario.kill_window
    failed = [p for p in scenario.requests if p.status != 200]
    assert failed, "no request was in flight on the killed replica (the unlucky citizen's was)"
    for p in failed:
        assert p.status == 502 and replica_of(p.upstreams[-1]) == scenario.victim, p
        assert start - 0.5 <= p.at <= end + 2, (p, scenario.kill_window)
    after = [p for p in scenario.requests if p.at > end + 2]
    assert after and all(p.status == 200 and replica_of(p.upstreams[-1]) == scenario.survivor for p in after)
    # nginx tried the dead replica (connection refused) and passed the message on at once.
    passed_on = [p for p in after if len(p.upstreams) == 2]
    assert passed_on, "nginx never tried the dead replica after the kill"
    assert all([replica_of(a) for a in p.upstreams] == [scenario.victim, scenario.survivor]
               and p.upstream_statuses == ["502", "200"] for p in passed_on), passed_on


def test_the_web_chat_through_nginx_survives_the_kill(scenario: Scenario) -> None:
    web = scenario.web
    assert not web.error, (web.error, web.turns)
    assert web.turns_before_kill == WEB_TURNS_BEFORE_KILL and len(web.turns) == len(wage_arrears(web.person))
    assert web.case_no
    assert set(web.transports) == {"polling"}, web.transports  # every request through nginx, sticky
    [(channel,)] = query(scenario.stack.database, "SELECT channel FROM cases WHERE conversation_id = %s",
                         (web.session,))
    assert channel == "web"


def test_a_replica_killed_after_the_filing_before_saving_files_no_second_case(scenario: Scenario) -> None:
    """The unlucky citizen: the back office filed its case, the replica died before it saved
    the conversation; the confirmation sent again must give that same case, not a second (the
    idempotency key is a digest of the confirmed answers: actions/filing.py submission_key)."""
    told = scenario.unlucky.completed.get(scenario.unlucky_sender)
    cases = [n for c, n in scenario.rows if c == scenario.unlucky_sender]
    assert scenario.held_case_no in cases
    assert cases == [told], (
        f"filed before the kill: {scenario.held_case_no}; told after the retry: {told}; cases: {cases}"
    )


def test_the_store_check_notices_lost_and_duplicated_cases() -> None:
    """The check the tests above rely on, on made-up rows."""
    rows = [("a", "XF0000000001"), ("b", "XF0000000002"), ("b", "XF0000000003"), ("d", "XF0000000004")]
    told = {"a": "XF0000000001", "b": "XF0000000003", "c": "XF0000000009", "e": ""}
    check = check_cases(rows, told, ["a", "b", "c", "d", "e"])
    assert check == CaseCheck(cases=4, told=4, lost=["c", "e"], duplicated={"b": ["XF0000000002", "XF0000000003"]},
                              filed_untold=["d"])
    assert not check.ok
    assert check_cases(rows[:2], {"a": "XF0000000001", "b": "XF0000000002"}).ok
    assert not check_cases(rows[:1], {"a": "XF0000000002"}).ok  # another number than the row's


def test_an_answer_is_read_back_only_for_the_message_that_was_processed() -> None:
    """How the load driver decides that a message whose answer was lost had been processed
    (and takes the stored answer instead of sending it twice)."""
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "user", "text": "你好"},
        {"event": "bot", "text": "您好！"},
        {"event": "user", "text": "张建国"},
        {"event": "slot", "name": "petitioner_name", "value": "张建国"},
        {"event": "bot", "text": "请问您的身份证号码？", "data": {"buttons": [{"title": "跳过", "payload": "/skip"}]}},
    ]
    assert stored_answer(events, "张建国", answered=1) == [
        {"text": "请问您的身份证号码？", "buttons": [{"title": "跳过", "payload": "/skip"}]}]
    assert stored_answer(events, "张建国", answered=2) is None  # not processed: send it again
    assert stored_answer(events[:3], "张建国", answered=1) is None
    assert stored_answer(events, "李秀兰", answered=1) is None  # another message

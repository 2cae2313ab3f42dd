"""The production launcher's Rasa speed-up (connectors/speedups.py) changes no verdict.

Runs in the Rasa environment: every answer the action server could give is judged by the
cached validator exactly as by Rasa's own ``jsonschema.validate``, and an invalid one is
rejected with Rasa's error message.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support.stack import ROOT, rasa_python

SCRIPT = r"""
import json, sys
import jsonschema
from rasa.core.actions.action import RemoteAction
from connectors.speedups import action_result_check, install

samples = json.loads(sys.argv[1])
shortcut = action_result_check()
fast = [shortcut(s) for s in samples]
spec = RemoteAction.action_response_format_spec()

def original(result):
    try:
        jsonschema.validate(result, spec)
        return "ok"
    except jsonschema.ValidationError as e:
        return "invalid"

before = [original(s) for s in samples]
install()
action = RemoteAction("action_test", None)
after, messages = [], []
for s in samples:
    try:
        action._validate_action_result(s)
        after.append("ok")
    except jsonschema.ValidationError as e:
        after.append("invalid")
        messages.append(e.message)
print(json.dumps({"before": before, "after": after, "messages": messages, "fast": fast,
                  "patched": RemoteAction._validate_action_result.__module__}))
"""

SAMPLES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "phone", "value": "13812345678"},
                {"event": "active_loop", "name": "petition_form"},
                {"event": "followup", "name": "action_listen"}],
     "responses": [{"text": "请问您的住址？", "buttons": [{"title": "同意", "payload": "/affirm"}]}]},
    {"events": [{"event": "slot"}], "responses": []},  # a slot event without a name
    {"events": "not a list", "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [], "responses": "text"},
    # every kind of event an action answers with, right and wrong
    {"events": [{"event": "bot", "text": "您好", "data": {"buttons": []}, "metadata": {}},
                {"event": "reset_slots"}, {"event": "restart"}, {"event": "action_execution_rejected",
                                                              "name": "petition_form"},
                {"event": "user", "text": "我要投诉", "parse_data": {"intent": {"name": "file_petition",
                                                                      "confidence": 0.9}, "entities": []}},
                {"event": "reminder", "intent": "x", "date_time": "2026-11-30T10:00:00"},
                {"event": "followup", "name": "utter_greet", "timestamp": None}],
     "responses": [{"text": "好的"}]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "phone"}]}}], "responses": []},
    {"events": [{"event": "slot", "name": 5, "value": 1}], "responses": []},
    {"events": [{"event": "action", "name": 3}], "responses": []},
    {"events": [{"event": "entities", "entities": [{"entity": "phone", "value": "1"}]}], "responses": []},
    {"events": [{"event": "entities"}], "responses": []},
    {"events": [{"event": 7}], "responses": []},
    {"events": ["slot"], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "noon"}], "responses": []},
    {"events": [{"event": "bot", "metadata": "x"}], "responses": []},
    {"events": [], "responses": [{"text": "x"}, "y"]},
    {"responses": []},
    {},
    [],
    "not an object",
]


def test_cached_validation_gives_rasas_verdicts_and_message(tmp_path) -> None:
    run = subprocess.run(
        [str(rasa_python()), "-c", SCRIPT, json.dumps(SAMPLES, ensure_ascii=False)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore",
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},  # Keras writes its settings under HOME
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["patched"] == "connectors.speedups"
    assert result["after"] == result["before"]
    assert result["before"][:2] == ["ok", "ok"] and "invalid" in result["before"][2:]
    assert result["before"].count("ok") >= 4 and result["before"].count("invalid") >= 8
    # the shortcut itself accepts exactly the valid answers (Rasa's check only confirms errors)
    assert result["fast"] == [verdict == "ok" for verdict in result["before"]]
    assert all("Failed to validate Action server response" in m for m in result["messages"])


def test_the_development_profile_runs_rasa_with_the_speed_up(tmp_path) -> None:
    """`make run` (Procfile) starts Rasa through ``python -m connectors.speedups``, which is
    Rasa's own command line: the same arguments, the same output."""
    rasa_line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("rasa:"))
    assert "$RASA_PY -m connectors.speedups run " in rasa_line
    env = {"RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    ours = subprocess.run([str(rasa_python()), "-m", "connectors.speedups", "--version"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    theirs = subprocess.run([str(rasa_python()), "-m", "rasa", "--version"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert re.search(r"Rasa Version\s*:\s*3\.6\.21", ours.stdout)
    assert ours.stdout == theirs.stdout


KEEPALIVE_SCRIPT = r"""
import asyncio, json
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig
from connectors.speedups import install

async def main():
    peers, seen = [], []

    async def handler(request):
        peers.append(request.transport.get_extra_info("peername")[1])
        seen.append({"auth": request.headers.get("Authorization"), "body": await request.json()})
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer t"})
    answers = [await endpoint.request(json={"n": i, "text": "我要投诉 a/b", "x": [1.5, None, True]})
               for i in range(3)]
    await asyncio.sleep(2.5)  # longer than the connector keeps an idle connection
    answers.append(await endpoint.request(json={"n": 3, "text": "我要投诉 a/b", "x": [1.5, None, True]}))
    await runner.cleanup()
    return {"peers": peers, "seen": seen, "answers": answers}

before = asyncio.run(main())
install()
after = asyncio.run(main())
print(json.dumps({"before": before, "after": after}))
"""


def test_connections_to_the_action_server_are_kept_open_briefly(tmp_path) -> None:
    """Rasa opens a connection per call; with the speed-up, calls within the keep-alive share
    one, a call after it opens a new one, and what the server receives is the same."""
    run = subprocess.run(
        [str(rasa_python()), "-c", KEEPALIVE_SCRIPT],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore",
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    before, after = result["before"], result["after"]
    assert len(set(before["peers"])) == 4  # Rasa: a new connection every time
    assert len(set(after["peers"][:3])) == 1  # the first three share one connection
    assert after["peers"][3] != after["peers"][0]  # the idle one was not reused
    assert after["seen"] == before["seen"] == [
        {"auth": "Bearer t", "body": {"n": i, "text": "我要投诉 a/b", "x": [1.5, None, True]}} for i in range(4)]
    assert after["answers"] == before["answers"]


GRAPH_SCRIPT = r"""
import asyncio, json, sys
from rasa.core.agent import load_agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
import connectors.speedups as speedups

TEXTS = json.loads(sys.argv[2])

async def outputs(agent):
    out = []
    for text in TEXTS:
        parsed = await agent.processor.parse_message(UserMessage(text))
        tracker = DialogueStateTracker("t", agent.domain.slots)
        for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                      UserUttered(text, parsed["intent"], parsed["entities"], parsed)):
            tracker.update(event)
        prediction = agent.processor._predict_next_with_tracker(tracker)
        out.append({"parse": parsed, "policy": prediction.policy_name,
                    "action": agent.domain.action_names_or_texts[prediction.max_confidence_index],
                    "probabilities": prediction.probabilities})
    return out

async def main():
    agent = await load_agent(model_path=sys.argv[1])
    dask = await outputs(agent)
    speedups.install()
    assert DaskGraphRunner.run is speedups.run_in_order
    ours = await outputs(agent)
    return {"same": ours == dask, "n": len(ours), "actions": [o["action"] for o in ours],
            "first_difference": next(([a, b] for a, b in zip(dask, ours) if a != b), None)}

print(json.dumps(asyncio.run(main()), ensure_ascii=False, default=str))
"""

GRAPH_TEXTS = ["你好", "我要投诉小区物业乱收费", "信访要不要交钱", "同意", "13812345678", "呃……",
               "厨房起火了怎么办", "我上次那个事怎么样了", "不想登记了", "谢谢"]


def test_the_graph_runs_in_order_give_what_dask_gives(tmp_path) -> None:
    """The NLU pipeline and the policies of the trained model, run by Rasa's dask runner and
    by the speed-up: the same parse and the same prediction for each message."""
    import os

    model = os.environ.get("MODEL_PATH")
    if not model:
        pytest.skip("no trained model (MODEL_PATH; make test sets it)")
    run = subprocess.run(
        [str(rasa_python()), "-c", GRAPH_SCRIPT, model, json.dumps(GRAPH_TEXTS, ensure_ascii=False)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore",
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["n"] == len(GRAPH_TEXTS)
    assert result["same"] is True, result["first_difference"]
    assert len(set(result["actions"])) > 2  # the messages led to different predictions

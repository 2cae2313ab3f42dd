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

from tests.support.stack import ROOT, in_rasa, model_path, rasa_python

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
    result = in_rasa(tmp_path, SCRIPT, json.dumps(SAMPLES, ensure_ascii=False))
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
    result = in_rasa(tmp_path, KEEPALIVE_SCRIPT)
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
    result = in_rasa(tmp_path, GRAPH_SCRIPT, model, json.dumps(GRAPH_TEXTS, ensure_ascii=False))
    assert result["n"] == len(GRAPH_TEXTS)
    assert result["same"] is True, result["first_difference"]
    assert len(set(result["actions"])) > 2  # the messages led to different predictions


HISTORY_SCRIPT = r"""
import json, sys, copy, random, time
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.events import (ActionExecuted, ActionReverted, DefinePrevUserUtteredFeaturization,
    Restarted, SessionStarted, UserUtteranceReverted, UserUttered, ActiveLoop, SlotSet)
from connectors import history

root = sys.argv[1]
importer = TrainingDataImporter.load_from_dict(
    domain_path=f"{root}/domain.yml",
    training_data_paths=[f"{root}/data", f"{root}/tests/stories"])
domain = importer.get_domain()
graph = importer.get_stories()
generated = TrainingDataGenerator(graph, domain, remove_duplicates=False, augmentation_factor=0).generate()

RASA_STATES = Domain.states_for_tracker_history
RASA_APPLIED = DialogueStateTracker.applied_events
RASA_COPY = DialogueStateTracker.copy
from rasa.core.actions.forms import FormAction
RASA_FORM_TRACKER = FormAction._temporary_tracker
history.install()
OURS_FORM_TRACKER = FormAction._temporary_tracker
assert OURS_FORM_TRACKER is not RASA_FORM_TRACKER
OURS_STATES = Domain.states_for_tracker_history
OURS_APPLIED = DialogueStateTracker.applied_events
OURS_COPY = DialogueStateTracker.copy
assert OURS_COPY is not RASA_COPY

import dataclasses
import rasa.shared.core.trackers as trackers_module
OURS_DATACLASSES = trackers_module.dataclasses
assert OURS_DATACLASSES is not dataclasses
OURS_COPY_MODULE = trackers_module.copy
assert OURS_COPY_MODULE is not copy

# (where, what, Rasa's, ours): each replaced piece
SWAPS = [(Domain, "states_for_tracker_history", RASA_STATES, OURS_STATES),
         (DialogueStateTracker, "applied_events", RASA_APPLIED, OURS_APPLIED),
         (DialogueStateTracker, "copy", RASA_COPY, OURS_COPY),
         (FormAction, "_temporary_tracker", RASA_FORM_TRACKER, OURS_FORM_TRACKER),
         (trackers_module, "dataclasses", dataclasses, OURS_DATACLASSES),
         (trackers_module, "copy", copy, OURS_COPY_MODULE)]

def rasa(fn):
    # fn run on Rasa's own pieces
    for owner, name, theirs, _ in SWAPS:
        setattr(owner, name, theirs)
    try:
        return fn()
    finally:
        for owner, name, _, ours in SWAPS:
            setattr(owner, name, ours)

from rasa.shared.core.events import LoopInterrupted, ActionExecutionRejected
from rasa.shared.core.trackers import EventVerbosity

def picture(tr, shared=None):
    # everything a tracker holds, comparable between two trackers on the same events (the
    # events not in `shared` by what they hold)
    out = {key: value for key, value in vars(tr).items() if key != history.ATTRIBUTE}
    out["events"] = [id(e) if shared is None or id(e) in shared else e.as_dict() for e in tr.events]
    out["events_type"] = (type(tr.events).__name__, tr.events.maxlen)
    out["slots"] = {name: (type(slot).__name__, vars(slot)) for name, slot in tr.slots.items()}
    out["state"] = tr.current_state(EventVerbosity.ALL)
    return copy.deepcopy(out)  # as it is now, whatever changes later

copies_checked = 0
form_trackers_checked = 0
import time as clock

def check_form_tracker(t, label):
    # the tracker a form's validation gets: Rasa's, and ours from a copy
    global checked, mismatches, first, form_trackers_checked
    if not FORMS:
        return
    form = FORMS[len(label) % len(FORMS)]
    additional = [SlotSet(slots[len(label) % len(slots)], "回答"), SlotSet("requested_slot", None)] if slots else []
    real_time = clock.time
    clock.time = lambda: 1764500000.0  # the events both make are then alike
    try:
        which = OTHER_DOMAIN if len(label) % 4 == 0 else domain
        ref = rasa(lambda: form._temporary_tracker(t, additional, which))
        ours = form._temporary_tracker(t, additional, which)
    finally:
        clock.time = real_time
    shared = {id(e) for e in t.events} | {id(e) for e in additional}
    checked += 1; form_trackers_checked += 1
    a, b = picture(ours, shared), picture(ref, shared)
    if a != b:
        mismatches += 1
        first = first or {"label": label, "form_tracker": [k for k in a if a.get(k) != b.get(k)]}
def check_copy(t, label):
    global checked, mismatches, first, copies_checked
    before = picture(t)
    ref = rasa(lambda: t.copy())
    ours = t.copy()
    checked += 1; copies_checked += 1
    if picture(ours) != picture(ref):
        mismatches += 1
        a, b = picture(ours), picture(ref)
        first = first or {"label": label, "copy": [k for k in a if a.get(k) != b.get(k)]}
        return
    # the copy goes its own way: the tracker it was made from does not change
    if slots:
        ours.update(SlotSet(slots[len(label) % len(slots)], "改过的值"))
    ours.update(LoopInterrupted(True))
    ours.update(ActionExecutionRejected(loops[0] if loops else "x"))
    if ours.latest_action is not None:
        ours.latest_action["action_name"] = "changed"
    if picture(t) != before:
        mismatches += 1
        first = first or {"label": label, "copy": "the original changed"}

slots = [s.name for s in domain.slots]
loops = list(domain.form_names)
RULE_ONLY = {"rule_only_slots": slots[::3], "rule_only_loops": loops[:1]}
FORMS = [FormAction(name, None) for name in loops]
# a domain whose slots are not those the trackers were made with (a model reloaded since)
OTHER_DOMAIN = copy.deepcopy(domain)
for slot in OTHER_DOMAIN.slots:
    if type(slot).__name__ == "TextSlot" and slot.name != "requested_slot":
        slot.initial_value = slot._value = "另一个初始值"
        break
COMBOS = [(False, False, None), (False, True, RULE_ONLY), (True, True, None), (False, True, None), (True, False, None)]

def vandalise(states):
    for s in states:
        for sub in list(s.values()):
            if isinstance(sub, dict):
                sub.clear(); sub["x"] = "y"
        s.clear()

rng = random.Random(7)
hidden_seen = 0
checked = mismatches = 0
first = None
kinds = set()
def check(t, label):
    global checked, mismatches, first
    for omit, ignore, rod in COMBOS:
        ref = rasa(lambda: t.past_states(domain, omit, ignore, rod))
        ours = t.past_states(domain, omit, ignore, rod)
        again = t.past_states(domain, omit, ignore, rod)
        vandalise(ours)
        again2 = t.past_states(domain, omit, ignore, rod)
        checked += 1
        if again != ref or again2 != ref:
            mismatches += 1
            first = first or {"label": label, "combo": [omit, ignore, bool(rod)], "ref": ref[-3:], "ours": again2[-3:]}
    check_copy(t, label)
    check_form_tracker(t, label)
    # the tracker's state as an action gets it: the same, and a copy as deep
    ref_state = rasa(lambda: t.current_state(EventVerbosity.ALL))
    ours_state = t.current_state(EventVerbosity.ALL)
    checked += 1
    if ours_state != ref_state or repr(ours_state) != repr(ref_state):
        mismatches += 1
        first = first or {"label": label, "current_state": True}
    elif t.active_loop is not None and isinstance(t.active_loop.trigger_message, dict):
        def scramble(value):
            if isinstance(value, dict):
                for item in value.values():
                    scramble(item)
                value["scrambled"] = True
            elif isinstance(value, list):
                for item in value:
                    scramble(item)
                value.append("scrambled")
        scramble(ours_state["active_loop"])
        if t.current_state(EventVerbosity.ALL) != ref_state:
            mismatches += 1
            first = first or {"label": label, "current_state": "the tracker changed"}
    ref_applied = rasa(lambda: t.applied_events())
    ours_applied = t.applied_events()
    ours_applied.append("junk")
    checked += 1
    if t.applied_events() != ref_applied:
        mismatches += 1
        first = first or {"label": label, "applied": True}

start = time.time()
trackers = sorted(generated, key=lambda t: -len(t.events))
chosen = trackers[:40] + rng.sample(trackers[40:], min(40, max(0, len(trackers) - 40)))
for n, source in enumerate(chosen):
    maxlen = 12 if n % 5 == 4 else None
    t = DialogueStateTracker(source.sender_id, domain.slots, maxlen, is_rule_tracker=source.is_rule_tracker,
                             sender_source="stories")
    if n % 3 == 0:
        t.model_id, t.assistant_id = "model-1", "xinfang-intake"
    t._stored_events = 0  # what a tracker store keeps on a tracker: not in a copy
    events = list(source.events)
    for i, e in enumerate(events):
        if isinstance(e, ActionExecuted) and e.action_name != "action_listen" and rng.random() < 0.3:
            # a turn that RulePolicy predicted and hid from the ML policies
            e = ActionExecuted(e.action_name, e.policy, e.confidence, hide_rule_turn=True,
                               action_text=e.action_text)
            hidden_seen += 1
        t.update(e, domain)
        kinds.add(type(e).__name__)
        check(t, f"{n}:{i}")
        # citizens who do not follow the script: reverts, restarts, featurisation flips
        r = rng.random()
        extra = None
        if r < 0.03:
            extra = UserUtteranceReverted()
        elif r < 0.05:
            extra = ActionReverted()
        elif r < 0.06:
            extra = Restarted()
        elif r < 0.07:
            extra = SessionStarted()
        elif r < 0.10 and isinstance(e, UserUttered):
            extra = DefinePrevUserUtteredFeaturization(rng.random() < 0.5)
        elif r < 0.12 and loops:
            extra = ActiveLoop(rng.choice(loops + [None]))
        elif r < 0.14 and loops:
            # a message with everything a parse can hold, then a form started by it
            parse = {"intent": {"name": "inform", "confidence": 0.9}, "text": "我叫张三 13812345678",
                     "entities": [{"entity": "phone", "value": "13812345678", "start": 5, "end": 16}],
                     "intent_ranking": [{"name": "inform", "confidence": 0.9}],
                     "response_selector": {"faq": {"ranking": [], "response": {"responses": [{"text": "答"}]}}},
                     "weights": (0.5, 0.25), "extra": {7: {"nested": [1, 2.5, None, True, ("a", "b")]}}}
            t.update(UserUttered("我叫张三 13812345678", parse["intent"], parse["entities"], parse), domain)
            extra = ActiveLoop(rng.choice(loops))
        if 0.12 <= r < 0.2 and t.latest_message is not None:
            # another tracker on the same event objects (Rasa's tracker.copy(), a form's
            # temporary tracker) changes how the latest user message is featurised
            other = t.copy()
            other.update(ActionExecuted("action_listen"))
            other.update(DefinePrevUserUtteredFeaturization(rng.random() < 0.5))
            kinds.add("shared-flag")
            check(t, f"{n}:{i}+shared-flag")
        if extra is not None:
            t.update(extra, domain)
            kinds.add(type(extra).__name__)
            check(t, f"{n}:{i}+{type(extra).__name__}")
print(json.dumps({"trackers": len(chosen), "checked": checked, "mismatches": mismatches, "first": first,
                  "kinds": sorted(kinds), "rules": sum(1 for t in chosen if t.is_rule_tracker), "hidden": hidden_seen, "copies": copies_checked, "form_trackers": form_trackers_checked,
                  "seconds": round(time.time() - start, 1)}, default=str, ensure_ascii=False))
"""


def test_the_kept_history_gives_rasas_states_applied_events_and_copies(tmp_path) -> None:
    """Every prefix of 80 conversations made from the stories, rules and test stories (the
    longest 40 and 40 others), grown one event at a time in one tracker, with reverted
    turns, restarts, new sessions, forms switched, turns hidden by rules, a user message
    featurised differently through another tracker on the same events, and trackers cut by
    ``max_event_history``: the states each policy gets (for both ways of treating rule-only
    turns, with and without unset slots and rule-only data), the applied events, the
    tracker's copy, the tracker a form's validation gets (also with a domain whose slots
    differ from the tracker's) and the tracker's state sent to an action (its form started
    by a message holding tuples and numeric keys) are those of Rasa's own code, also when
    the caller changed the previous result, the copy or the state."""
    result = in_rasa(tmp_path, HISTORY_SCRIPT, str(ROOT))
    assert result["mismatches"] == 0, result["first"]
    assert result["trackers"] == 80 and result["rules"] > 0 and result["hidden"] > 0
    assert result["checked"] > 3000 and result["copies"] > 500 and result["form_trackers"] > 500
    assert {"UserUtteranceReverted", "ActionReverted", "Restarted", "SessionStarted", "ActiveLoop",
            "DefinePrevUserUtteredFeaturization", "shared-flag"} <= set(result["kinds"])


EMPTY_DOMAIN_SCRIPT = r"""
import json, sys
from rasa.shared.core.domain import Domain
import connectors.speedups as speedups

domains = {"empty": Domain.empty(), "project": Domain.load(sys.argv[1]),
           "responses only": Domain.from_dict({"responses": {"utter_x": [{"text": "您好"}]}}),
           "intents only": Domain.from_dict({"intents": ["greet"]}),
           "slots only": Domain.from_dict({"slots": {"x": {"type": "any", "mappings": []}}})}
before = {name: d.is_empty() for name, d in domains.items()}
speedups.install()
after = {name: d.is_empty() for name, d in domains.items()}
print(json.dumps({"before": before, "after": after}))
"""


def test_whether_the_domain_is_empty_is_answered_as_rasa_does(tmp_path) -> None:
    result = in_rasa(tmp_path, EMPTY_DOMAIN_SCRIPT, str(ROOT / "domain.yml"))
    assert result["after"] == result["before"]
    assert result["before"]["empty"] is True and result["before"]["project"] is False
    assert result["before"]["intents only"] is False


FREEZE_SCRIPT = r"""
import asyncio, gc, json, sys, types
from connectors.speedups import install
install()
import rasa.core.run

async def main():
    app = types.SimpleNamespace(ctx=types.SimpleNamespace())
    # what each Sanic worker runs before it serves (rasa.core.run.serve_application)
    agent = await rasa.core.run.load_agent_on_start(sys.argv[1], None, None, app, asyncio.get_running_loop())
    frozen, collected = gc.get_freeze_count(), len(gc.get_objects())
    parsed = await agent.parse_message("我要投诉小区噪音")
    return {"frozen": frozen, "collected": collected, "same_agent": app.ctx.agent is agent,
            "intent": parsed["intent"]["name"]}

print(json.dumps(asyncio.run(main())))
"""


def test_each_worker_freezes_its_loaded_model_out_of_the_garbage_collector(tmp_path) -> None:
    """After a worker loads the model, the collector no longer walks its objects: what it still
    tracks is a small part of what was frozen, and the model answers as before."""
    result = in_rasa(tmp_path, FREEZE_SCRIPT, str(model_path()))
    assert result["same_agent"] and result["intent"] == "file_petition"
    assert result["frozen"] > 100_000 and result["collected"] < result["frozen"] / 20


ACTION_DOMAIN_SCRIPT = r"""
import json, sys
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.utils.endpoints import EndpointConfig
from connectors.speedups import install

# the domain the model is trained with: domain.yml and the policy answers' responses in data/
domain = TrainingDataImporter.load_from_dict(domain_path=sys.argv[1], training_data_paths=[sys.argv[2]]).get_domain()
endpoint = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True)
tracker = DialogueStateTracker("c", domain.slots)
for event in (ActionExecuted("action_session_start"), SessionStarted(), SlotSet("phone", "13812345678")):
    tracker.update(event)
NAMES = ("validate_petition_form", "action_session_start", "action_greet")

def bodies():
    return {name: json.loads(json.dumps(RemoteAction(name, endpoint)._action_call_format(tracker, domain)))
            for name in NAMES}

before = bodies()
install()
after, again = bodies(), bodies()
print(json.dumps({"before": before, "after": after, "again": again == after}, ensure_ascii=False))
"""


def test_the_actions_that_read_the_domain_get_it_without_the_responses(tmp_path) -> None:
    """The forms' validators and action_session_start get the domain as Rasa sends it, less
    the responses (Rasa renders them); the rest of each call, and the calls that get no
    domain, are as Rasa makes them."""
    result = in_rasa(tmp_path, ACTION_DOMAIN_SCRIPT, str(ROOT / "domain.yml"), str(ROOT / "data"))
    before, after = result["before"], result["after"]
    assert result["again"]
    for name in ("validate_petition_form", "action_session_start"):
        rasas = before[name].pop("domain")
        ours = after[name].pop("domain")
        assert rasas["responses"] and "responses" not in ours
        assert ours == {key: value for key, value in rasas.items() if key != "responses"}
        assert "petition_form" in ours["forms"] and "phone" in ours["slots"] and ours["session_config"]
        assert after[name] == before[name]  # the tracker, the action's name, the version
    assert "domain" not in before["action_greet"] and after["action_greet"] == before["action_greet"]
    size = lambda value: len(json.dumps(value, ensure_ascii=False).encode("utf-8"))  # noqa: E731
    assert size(rasas) > 3 * size(ours)  # what the action server no longer parses with every form turn


JOINED_WRITES_SCRIPT = r"""
import asyncio, json, sys
import aiohttp

class Server(asyncio.Protocol):
    requests = []  # per request: its bytes, and in how many pieces the server read them

    def connection_made(self, transport):
        self.transport, self.buffer, self.pieces = transport, b"", 0

    def data_received(self, data):
        self.buffer += data
        self.pieces += 1
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
            length = int(fields.get("content-length", 0))
            if fields.get("expect") == "100-continue" and not getattr(self, "continued", False):
                self.continued = True
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            if len(rest) < length:
                return
            Server.requests.append({"bytes": (head + b"\r\n\r\n" + rest[:length]).decode("utf-8"), "pieces": self.pieces})
            self.buffer, self.pieces, self.continued = rest[length:], 0, False
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")

WRITES = []  # every write of the client to a socket, by the port it goes to
write = asyncio.selector_events._SelectorSocketTransport.write
def counted(self, data):
    WRITES.append(self.get_extra_info("peername")[1])
    return write(self, data)
asyncio.selector_events._SelectorSocketTransport.write = counted

async def calls(port):
    Server.requests = []
    WRITES.clear()
    answers = []
    async with aiohttp.ClientSession() as session:
        for i in range(10):
            async with session.post(f"http://127.0.0.1:{port}/webhook", json={"n": i, "text": "我要投诉" * 150}) as r:
                answers.append(await r.text())
        async with session.get(f"http://127.0.0.1:{port}/health") as r:
            answers.append(await r.text())
        async with session.post(f"http://127.0.0.1:{port}/webhook", data=b"x" * 100, expect100=True) as r:
            answers.append(await r.text())
    return answers, list(Server.requests), WRITES.count(port)

async def main():
    server = await asyncio.get_running_loop().create_server(Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    before = await asyncio.wait_for(calls(port), 30)
    from connectors.speedups import install
    install()
    after = await asyncio.wait_for(calls(port), 30)
    return {"before": before, "after": after}

print(json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def test_a_request_to_the_action_server_is_sent_in_one_piece(tmp_path) -> None:
    """With the speed-up a request's headers leave with its body: the server reads each call
    in one piece, the same bytes as before; a request without a body and one waiting for
    ``100 Continue`` are still sent whole."""
    result = in_rasa(tmp_path, JOINED_WRITES_SCRIPT)
    (answers_before, before, writes_before), (answers_after, after, writes_after) = result["before"], result["after"]
    assert answers_after == answers_before == ["ok"] * 12
    assert len(after) == 12 and [r["bytes"] for r in after] == [r["bytes"] for r in before]
    assert "\\u6211\\u8981" in after[9]["bytes"] and after[10]["bytes"].startswith("GET /health")
    assert writes_before == 10 * 2 + 1 + 2  # aiohttp alone: the headers, then the body
    assert writes_after == 10 + 1 + 2  # the headers wait for the 100 Continue as before
    assert [r["pieces"] for r in after[:11]] == [1] * 11  # the server reads each call at once

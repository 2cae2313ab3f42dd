"""The production launcher's Rasa speed-up (connectors/speedups.py) changes no verdict.

Runs in the Rasa environment: every answer the action server could give is judged by the
cached validator exactly as by Rasa's own ``jsonschema.validate``, and an invalid one is
rejected with Rasa's error message.
"""

from __future__ import annotations

import json
import subprocess

from tests.support.stack import ROOT, rasa_python

SCRIPT = r"""
import json, sys
import jsonschema
from rasa.core.actions.action import RemoteAction
from connectors.speedups import install

samples = json.loads(sys.argv[1])
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
print(json.dumps({"before": before, "after": after, "messages": messages,
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
    assert all("Failed to validate Action server response" in m for m in result["messages"])

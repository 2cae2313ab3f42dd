"""The emergency set (tests/data/emergencies.yml): every emergency is spotted and its reply names
the right numbers first; the same words without a danger now leave the citizen in peace; the
NLU component makes the intent ``emergency`` whatever the classifiers said."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from actions.safety import emergency_message
from bot.rules.safety import detect_emergency

ROOT = Path(__file__).resolve().parents[2]
SET_FILE = ROOT / "tests" / "data" / "emergencies.yml"
RASA_PYTHON = ROOT / ".venv" / "rasa" / "bin" / "python"
NUMBER_WORDS = ("110", "119", "120", "122", "12356")


def load_set() -> dict:
    with SET_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


SET = load_set()
EMERGENCIES = [
    (kind, tuple(group["first"]), text)
    for kind, group in SET["emergencies"].items()
    for text in group["texts"]
]
NON_EMERGENCIES = list(SET["non_emergencies"])


def numbers_in_order(line: str) -> list[str]:
    """The emergency numbers a line names, in the order it names them."""
    found = []
    for index in range(len(line)):
        for number in sorted(NUMBER_WORDS, key=len, reverse=True):
            if line.startswith(number, index) and not line[index + len(number): index + len(number) + 1].isdigit():
                if not line[index - 1: index].isdigit():
                    found.append(number)
                break
    return found


def test_the_set_is_large_and_varied() -> None:
    assert len(EMERGENCIES) >= 170
    assert len(NON_EMERGENCIES) >= 170
    assert len({kind for kind, _, _ in EMERGENCIES}) >= 9
    texts = [text for _, _, text in EMERGENCIES] + NON_EMERGENCIES
    assert len(texts) == len(set(texts)), "a message is in the set twice"


@pytest.mark.parametrize(("kind", "first", "text"), EMERGENCIES, ids=[t for _, _, t in EMERGENCIES])
def test_every_emergency_is_spotted_and_its_numbers_come_first(kind: str, first: tuple[str, ...], text: str) -> None:
    found = detect_emergency(text)
    assert found is not None, f"missed: {text}"
    assert found.kind == kind, f"{text}: {found}"
    first_line = emergency_message(found).splitlines()[0]
    named = numbers_in_order(first_line)
    assert named[: 1] == [first[0]], f"{text}: the first line names {named} first: {first_line}"
    assert all(number in named for number in first), f"{text}: {first} not all in {first_line}"


def test_the_same_words_without_a_danger_now_are_left_alone() -> None:
    alarms = [(text, detect_emergency(text)) for text in NON_EMERGENCIES if detect_emergency(text) is not None]
    for text, found in alarms:
        print(f"false alarm: {text} -> {found.kind} ({found.words})")
    rate = 1 - len(alarms) / len(NON_EMERGENCIES)
    print(f"non-emergencies left alone: {rate:.1%} ({len(NON_EMERGENCIES) - len(alarms)}/{len(NON_EMERGENCIES)})")
    assert rate >= 0.95, alarms


# --- the NLU component, in the Rasa environment ------------------------------------------------

COMPONENT_CHECK = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
    from rasa.shared.nlu.training_data.message import Message
    from connectors.safety_net import EmergencySafetyNet

    cases = json.loads(sys.argv[2])
    out = []
    for case in cases:
        ranking = [{"name": n, "confidence": c} for n, c in case["ranking"]]
        message = Message(data={"text": case["text"], "intent": dict(ranking[0]), "intent_ranking": ranking})
        net = EmergencySafetyNet({**EmergencySafetyNet.get_default_config(), **case.get("config", {})})
        net.process([message])
        FallbackClassifier(case["fallback"]).process([message])
        out.append({"intent": message.get("intent"), "ranking": message.get("intent_ranking"),
                    "output": message.as_dict(only_output_properties=True).get("safety_net")})
    print(json.dumps(out, ensure_ascii=False))
    """
)


def fallback_config() -> dict:
    """FallbackClassifier's thresholds as config.yml sets them."""
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    [step] = [s for s in pipeline if s["name"] == "FallbackClassifier"]
    return {"threshold": step["threshold"], "ambiguity_threshold": step["ambiguity_threshold"]}


def run_component(cases: list[dict]) -> list[dict]:
    if not RASA_PYTHON.exists():
        pytest.skip("no Rasa environment (.venv/rasa)")
    cases = [{**case, "fallback": fallback_config()} for case in cases]
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", COMPONENT_CHECK, str(ROOT), json.dumps(cases, ensure_ascii=False)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_component_makes_the_intent_emergency_whatever_the_classifier_said() -> None:
    faq_ranking = [("faq", 0.93), ("file_petition", 0.05), ("emergency", 0.02)]
    cases = [
        {"text": "厨房起火了怎么办", "ranking": faq_ranking},
        {"text": "我妈倒在厨房叫不醒", "ranking": [("inform", 0.5), ("faq", 0.46), ("emergency", 0.04)]},
        {"text": "去年着火的厂房赔偿还没给", "ranking": [("file_petition", 0.9), ("faq", 0.1)]},
        {"text": "/emergency", "ranking": [("emergency", 1.0)]},
        {"text": "/affirm", "ranking": [("affirm", 1.0)]},
        {"text": "带一桶汽油去区政府门口", "ranking": [("prohibited_action", 0.9), ("emergency", 0.1)]},
        {"text": "一群人冲进来把店砸了，还在打", "ranking": [("prohibited_action", 0.55), ("emergency", 0.45)]},
        {"text": "楼道堆满杂物万一着火怎么办", "ranking": [("emergency", 0.7), ("faq", 0.3)]},
        {"text": "楼道堆满杂物万一着火怎么办", "ranking": [("emergency", 0.7), ("faq", 0.3)],
         "config": {"veto_dismissed": True}},
        {"text": "快来人", "ranking": [("emergency", 0.9), ("greet", 0.1)], "config": {"veto_dismissed": True}},
    ]
    fire, collapse, past, payload, button, petrol, unsure, hypothetical, vetoed, unknown = run_component(cases)

    assert fire["intent"] == {"name": "emergency", "confidence": 1.0}
    # the ranking keeps the other intents in their order, emergency first; no fallback
    assert [entry["name"] for entry in fire["ranking"]] == ["emergency", "faq", "file_petition"]
    assert fire["output"]["kind"] == "fire" and fire["output"]["classifier_intent"] == "faq"
    assert collapse["intent"]["name"] == "emergency" and collapse["output"]["kind"] == "medical"
    # no danger now: the classifier's word stands
    assert past["intent"] == {"name": "file_petition", "confidence": 0.9} and past["output"] is None
    # payloads are left alone
    assert payload["intent"]["name"] == "emergency" and payload["output"] is None
    assert button["intent"]["name"] == "affirm"
    # the 第26条 warning starts with the numbers itself: the intent is kept
    assert petrol["intent"]["name"] == "prohibited_action" and petrol["output"]["kept"] is True
    # ... only when the classifier is sure of it
    assert unsure["intent"] == {"name": "emergency", "confidence": 1.0}
    # a hypothetical the classifier called an emergency: kept by default, vetoed when asked
    assert hypothetical["intent"]["name"] == "emergency"
    assert vetoed["intent"]["name"] == "faq" and vetoed["output"] == {"vetoed": "emergency"}
    # the classifier alone, no words the detector knows: never vetoed
    assert unknown["intent"]["name"] == "emergency"

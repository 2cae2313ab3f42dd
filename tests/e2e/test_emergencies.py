"""Emergencies are never missed, end to end through the REST channel against the real processes.

Every emergency of tests/data/emergencies.yml, sent as the opening message of a fresh
conversation, gets a reply whose first line names the right numbers first, whatever the
classifier makes of it; a sample sent in the middle of the petition form (after the consent
and the name), at the consent question and during a status lookup also gets the numbers first,
and the form goes on with the answers kept. The same words without a danger now get no
emergency text (at least 95%). Recall and precision are printed.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.support.chat import Chat
from tests.support.stack import Stack, new_sender, texts_of

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NUMBER_WORDS = ("12356", "110", "119", "120", "122")
# What only the emergency reply says (actions/prompts.yml emergency.*).
EMERGENCY_MARKS = ("请立即拨打", "紧急求助电话")
WAGES = "我在三墩那边的工地干了半年活，老板一直拖着工资不给，一共欠了我三万二"
PARALLEL = 4

with (ROOT / "tests" / "data" / "emergencies.yml").open(encoding="utf-8") as _handle:
    SET = yaml.safe_load(_handle)
EMERGENCIES = [
    (kind, tuple(group["first"]), text)
    for kind, group in SET["emergencies"].items()
    for text in group["texts"]
]
NON_EMERGENCIES = list(SET["non_emergencies"])
# about 20, spread over every kind
FORM_SAMPLE = EMERGENCIES[:: max(1, len(EMERGENCIES) // 20)][:20]
RESULTS: dict[str, int] = {}


def numbers_in_order(line: str) -> list[str]:
    """The emergency numbers a line names, in the order it names them."""
    found, index = [], 0
    while index < len(line):
        for number in NUMBER_WORDS:
            if line.startswith(number, index) and not line[index - 1: index].isdigit() \
                    and not line[index + len(number): index + len(number) + 1].isdigit():
                found.append(number)
                index += len(number) - 1
                break
        index += 1
    return found


def names_first(reply: str, first: tuple[str, ...]) -> bool:
    """Whether the first line of ``reply`` names ``first[0]`` first and every number of ``first``."""
    first_line = reply.strip().splitlines()[0] if reply.strip() else ""
    named = numbers_in_order(first_line)
    return bool(named) and named[0] == first[0] and all(number in named for number in first)


def opening_reply(stack: Stack, text: str) -> str:
    return texts_of(stack.say(new_sender("emergency-set"), text))


def replies(stack: Stack, texts: list[str]) -> list[str]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda text: opening_reply(stack, text), texts))


def test_every_emergency_as_an_opening_message_gets_its_numbers_first(stack: Stack) -> None:
    started = time.monotonic()
    answers = replies(stack, [text for _, _, text in EMERGENCIES])
    missed = [
        (kind, text, reply.splitlines()[0] if reply else "(no reply)")
        for (kind, first, text), reply in zip(EMERGENCIES, answers)
        if not names_first(reply, first)
    ]
    for kind, text, first_line in missed:
        print(f"missed [{kind}] {text!r}: {first_line}")
    caught = len(EMERGENCIES) - len(missed)
    RESULTS["caught"] = caught
    print(f"recall: {caught}/{len(EMERGENCIES)} = {caught / len(EMERGENCIES):.1%} "
          f"({time.monotonic() - started:.0f}s)")
    assert missed == []


def test_the_same_words_without_a_danger_get_no_emergency_text(stack: Stack) -> None:
    started = time.monotonic()
    answers = replies(stack, NON_EMERGENCIES)
    alarms = [
        (text, reply.splitlines()[0])
        for text, reply in zip(NON_EMERGENCIES, answers)
        if any(mark in reply for mark in EMERGENCY_MARKS)
    ]
    for text, first_line in alarms:
        print(f"false alarm {text!r}: {first_line}")
    quiet = len(NON_EMERGENCIES) - len(alarms)
    print(f"non-emergencies without emergency text: {quiet}/{len(NON_EMERGENCIES)} = "
          f"{quiet / len(NON_EMERGENCIES):.1%} ({time.monotonic() - started:.0f}s)")
    if "caught" in RESULTS:
        precision = RESULTS["caught"] / (RESULTS["caught"] + len(alarms))
        print(f"precision over the set: {precision:.1%}")
    assert quiet >= 0.95 * len(NON_EMERGENCIES), alarms


def petition_until_the_id_question(stack: Stack, prefix: str) -> Chat:
    chat = Chat(stack, prefix)
    chat.expect(WAGES, "是否同意")
    chat.expect("同意", "姓名")
    chat.expect("张建国", "身份证号码")
    return chat


@pytest.mark.parametrize(("kind", "first", "text"), FORM_SAMPLE, ids=[t for _, _, t in FORM_SAMPLE])
def test_an_emergency_in_the_middle_of_the_form_comes_first_and_the_answers_are_kept(
    stack: Stack, kind: str, first: tuple[str, ...], text: str
) -> None:
    chat = petition_until_the_id_question(stack, f"emergency-form-{kind}")
    reply = chat.expect(text, "身份证号码", "登记信息都保留着", absent=("请问您的姓名",))
    assert names_first(reply, first), chat.transcript()
    # the form goes on where it was: the name is kept, the next question is the phone
    chat.expect("11010519491231002X", "手机号码", absent=("请问您的姓名",))


@pytest.mark.parametrize(("kind", "first", "text"), FORM_SAMPLE[:3], ids=[t for _, _, t in FORM_SAMPLE[:3]])
def test_an_emergency_at_the_consent_question_comes_first(stack: Stack, kind: str, first: tuple[str, ...], text: str) -> None:
    chat = Chat(stack, f"emergency-consent-{kind}")
    chat.expect(WAGES, "是否同意")
    reply = chat.say(text)
    assert names_first(reply, first), chat.transcript()
    chat.expect("同意", "姓名")


@pytest.mark.parametrize(("kind", "first", "text"), FORM_SAMPLE[-3:], ids=[t for _, _, t in FORM_SAMPLE[-3:]])
def test_an_emergency_during_a_status_lookup_comes_first(stack: Stack, kind: str, first: tuple[str, ...], text: str) -> None:
    chat = Chat(stack, f"emergency-status-{kind}")
    chat.expect("我想查询一下信访件的办理进度", "信访件编号")
    reply = chat.say(text)
    assert names_first(reply, first), chat.transcript()
    assert "信访件编号" in reply, chat.transcript()  # the question asked again

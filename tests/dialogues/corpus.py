"""The dialogue corpus: loading and validating ``tests/dialogues/*.yml``, playing the dialogues.

A file holds ``dialogues:``, a list of conversations a citizen could have with the assistant::

    - name: wages-all-in-one              # unique over the corpus
      behaviour: all_in_one               # one of BEHAVIOURS
      style: free                         # free | stepwise | other (files nothing)
      turns:
        - user: "我叫……，电话……，在三墩的工地……"
          gives: [petitioner_name, phone]  # form slots this message answers (FORM_SLOTS)
          expect: ["已记下", "姓名"]        # fragments that must appear in the replies
          absent: ["请问您的姓名"]          # fragments that must not
        - click: 同意                      # a button title of the previous reply
          expect: [...]
        - new_session: true                # the citizen comes back later ("/session_start")
      case:                                # the stored case (back office API), dotted paths
        petitioner.name: 张建国
        is_repeat: false
        contains: {facts: 拖着工资}        # fragments of stored texts
      # or: no_case: true

Every reply is also checked generically (``generic_problems``): a reply that tells the
citizen to press 「X」 carries a button titled X, and no reply shows a Python value, a raw
placeholder or an English error.

``run_dialogue`` plays one dialogue against a running stack (``tests.support.stack.Stack``)
and returns a ``Result`` with the transcript; ``run_corpus`` plays many concurrently, one
conversation id each. The end-to-end test (tests/e2e/test_dialogues.py) and the benchmark
(bench/dialogues.py) both use them.
"""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from bot.rules.fields import FORM_SLOTS
from tests.support.chat import Chat
from tests.support.stack import button_payloads, texts_of

CORPUS_DIR = Path(__file__).resolve().parent

# What a dialogue is about: each behaviour the assistant must handle is covered by several.
BEHAVIOURS: dict[str, str] = {
    "all_in_one": "several answers and the matter in one message",
    "out_of_order": "answers given before they are asked, or in another order",
    "matter_during_consent": "the matter told while the consent question is open",
    "vague_opener": "greetings and openers that say nothing yet",
    "fillers": "嗯、那个、就是说: hesitation around the answers",
    "typos": "typos and homophones (身份正, 电化号, 手几号)",
    "digit_forms": "numbers in Chinese characters, full width, with spaces or dashes",
    "voice_transcript": "long unpunctuated text from speech input",
    "wrapped_answers": "answers wrapped in extra words",
    "corrections": "corrections in natural words",
    "change_of_mind": "cancel then continue, 不同意 then 同意",
    "mid_question": "a question in the middle of the form (time limits, who is responsible)",
    "new_session": "leaving and coming back later",
    "emergency": "an emergency or a threat in the middle: numbers first, answers kept",
    "litigation_split": "a matter for another procedure discovered in the middle (诉访分离)",
    "repeated_invalid": "the same answer wrong again and again: the hotline offer, nothing lost",
    "elderly": "elderly and low-literacy phrasing",
    "group": "matters of many people (第二十条 representatives)",
    "status_query": "asking about an earlier petition's progress in odd words",
    "repeat_petition": "a petition that was raised before",
}
STYLES = ("free", "stepwise", "other")

DIALOGUE_KEYS = {"name", "behaviour", "style", "turns", "case", "no_case", "known_gap"}
TURN_KEYS = {"user", "click", "new_session", "expect", "absent", "gives"}
# Fields of the back office's case JSON (bot/api/schemas.py case_json) a dialogue may check.
CASE_PATHS = frozenset(
    {
        "status", "channel", "category", "purpose", "respondent", "facts", "request", "is_repeat",
        "group_size", "litigation", "responsible_unit",
        "petitioner.name", "petitioner.id_type", "petitioner.id_number", "petitioner.contact_type",
        "petitioner.phone", "petitioner.address",
        "location.text", "location.division", "location.status",
        "prior_case.body", "prior_case.case_no", "prior_case.review_stage",
        "prior_case.same_matter_after_recheck", "prior_case.new_facts",
    }
)
SESSION_START = "/session_start"
FILED_MARK = re.compile(r"信访件编号：XF\d{10}")

# Generic checks of every reply.
BUTTON_MENTION = re.compile(r"(?:点击|点|按)「([^」]+)」")
FORBIDDEN_IN_REPLIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Python traceback", re.compile(r"Traceback")),
    ("a Python None", re.compile(r"None")),
    ("an unfilled placeholder", re.compile(r"[{}]")),
    ("a template or action name", re.compile(r"(?<![A-Za-z])(?:utter|action)_[a-z_]+")),
    (
        "English error text",
        re.compile(
            r"(?i)(?<![a-z])(?:error|exception|failed|failure|invalid|sorry|unexpected|not found|internal server)(?![a-z])"
        ),
    ),
)


class CorpusError(ValueError):
    """The corpus does not follow the format."""


@dataclass(frozen=True)
class Turn:
    user: str | None = None
    click: str | None = None
    new_session: bool = False
    expect: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    gives: tuple[str, ...] = ()

    @property
    def said(self) -> str:
        if self.new_session:
            return SESSION_START
        return f"[点击「{self.click}」]" if self.click is not None else str(self.user)


@dataclass(frozen=True)
class Dialogue:
    name: str
    behaviour: str
    style: str
    turns: tuple[Turn, ...]
    source: str
    case: dict[str, Any] | None = None
    contains: dict[str, str] = field(default_factory=dict)
    no_case: bool = False
    # What the assistant does not do yet that this dialogue needs: the dialogue is still played
    # and reported, and the corpus test does not fail on it (it says when it passes again).
    known_gap: str | None = None

    @property
    def files(self) -> bool:
        return self.style in ("free", "stepwise")


# --- loading and validation -------------------------------------------------------------------


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CorpusError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


def _turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a turn is a mapping, got {raw!r}")
    unknown = set(raw) - TURN_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(TURN_KEYS)})")
    kinds = [k for k in ("user", "click", "new_session") if k in raw]
    if len(kinds) != 1:
        raise CorpusError(f"{where}: exactly one of user / click / new_session, got {kinds}")
    if "new_session" in raw and raw["new_session"] is not True:
        raise CorpusError(f"{where}: new_session must be true")
    for key in ("user", "click"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise CorpusError(f"{where}: {key} must be non-empty text, got {raw[key]!r}")
    gives = _strings(raw["gives"], f"{where} gives") if "gives" in raw else ()
    unknown_slots = [s for s in gives if s not in FORM_SLOTS]
    if unknown_slots:
        raise CorpusError(f"{where}: gives unknown form slots {unknown_slots} (FORM_SLOTS: {FORM_SLOTS})")
    if gives and "user" not in raw:
        raise CorpusError(f"{where}: only a user message gives answers")
    return Turn(
        user=raw.get("user"),
        click=raw.get("click"),
        new_session=bool(raw.get("new_session")),
        expect=_strings(raw["expect"], f"{where} expect") if "expect" in raw else (),
        absent=_strings(raw["absent"], f"{where} absent") if "absent" in raw else (),
        gives=gives,
    )


def _dialogue(raw: Any, source: str, index: int) -> Dialogue:
    where = f"{source}[{index}]"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a dialogue is a mapping")
    where = f"{source}: {raw.get('name', index)!r}"
    unknown = set(raw) - DIALOGUE_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(DIALOGUE_KEYS)})")
    for key in ("name", "behaviour", "style", "turns"):
        if key not in raw:
            raise CorpusError(f"{where}: missing {key!r}")
    if not isinstance(raw["name"], str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", raw["name"]):
        raise CorpusError(f"{where}: name must be lowercase ascii words joined by '-'")
    if raw["behaviour"] not in BEHAVIOURS:
        raise CorpusError(f"{where}: unknown behaviour {raw['behaviour']!r} (allowed: {sorted(BEHAVIOURS)})")
    if raw["style"] not in STYLES:
        raise CorpusError(f"{where}: unknown style {raw['style']!r} (allowed: {STYLES})")
    if not isinstance(raw["turns"], list) or not raw["turns"]:
        raise CorpusError(f"{where}: turns must be a non-empty list")
    turns = tuple(_turn(t, f"{where} turn {i + 1}") for i, t in enumerate(raw["turns"]))
    if turns[0].click is not None:
        raise CorpusError(f"{where}: the first turn cannot click a button")
    for i, turn in enumerate(turns[1:], start=1):
        if turn.click is not None and turns[i - 1].new_session:
            raise CorpusError(f"{where} turn {i + 1}: no button to click after a new session")
    if not any(t.expect for t in turns):
        raise CorpusError(f"{where}: a dialogue must assert something")
    case, contains = None, {}
    if "case" in raw:
        if not isinstance(raw["case"], dict) or not raw["case"]:
            raise CorpusError(f"{where}: case must be a non-empty mapping")
        case = dict(raw["case"])
        contains = case.pop("contains", {}) or {}
        if not isinstance(contains, dict) or not all(isinstance(v, str) and v for v in contains.values()):
            raise CorpusError(f"{where}: case.contains maps a field to a text fragment")
        unknown_paths = sorted((set(case) | set(contains)) - CASE_PATHS)
        if unknown_paths:
            raise CorpusError(f"{where}: unknown case fields {unknown_paths} (allowed: {sorted(CASE_PATHS)})")
    no_case = raw.get("no_case", False)
    if no_case not in (True, False):
        raise CorpusError(f"{where}: no_case must be true")
    if case is not None and no_case:
        raise CorpusError(f"{where}: case and no_case exclude each other")
    if raw["style"] in ("free", "stepwise") and case is None:
        raise CorpusError(f"{where}: a {raw['style']} dialogue files a petition: give its case")
    if raw["style"] == "other" and case is not None:
        raise CorpusError(f"{where}: a dialogue of style 'other' files nothing: use no_case")
    known_gap = raw.get("known_gap")
    if known_gap is not None and not (isinstance(known_gap, str) and known_gap.strip()):
        raise CorpusError(f"{where}: known_gap says in words what is not built yet")
    return Dialogue(
        name=raw["name"], behaviour=raw["behaviour"], style=raw["style"], turns=turns, source=source,
        case=case, contains=contains, no_case=bool(no_case), known_gap=known_gap,
    )


def load_corpus(directory: Path = CORPUS_DIR) -> list[Dialogue]:
    """Every dialogue of ``directory/*.yml``, validated; raises CorpusError on any mistake."""
    dialogues: list[Dialogue] = []
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise CorpusError(f"no dialogue files in {directory}")
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or set(data) != {"dialogues"} or not isinstance(data["dialogues"], list):
            raise CorpusError(f"{path.name}: the file holds exactly one key, 'dialogues', a list")
        dialogues.extend(_dialogue(raw, path.name, i) for i, raw in enumerate(data["dialogues"]))
    seen: set[str] = set()
    for dialogue in dialogues:
        if dialogue.name in seen:
            raise CorpusError(f"{dialogue.source}: the name {dialogue.name!r} is used twice")
        seen.add(dialogue.name)
    return dialogues


# --- playing ----------------------------------------------------------------------------------


@dataclass
class TurnRecord:
    said: str
    reply: str
    buttons: list[str]
    requested_slot: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Result:
    dialogue: Dialogue
    sender: str
    records: list[TurnRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    filed_at: int | None = None  # user turns (messages and clicks) up to the filing reply
    completed: bool = False  # every turn was played
    tracked: bool = False  # requested_slot was read after every turn

    @property
    def passed(self) -> bool:
        return self.completed and not self.problems

    def transcript(self) -> str:
        d = self.dialogue
        lines = [f"=== {d.name} ({d.source}, {d.behaviour}, {d.style}) conversation {self.sender}"]
        for i, record in enumerate(self.records, start=1):
            lines.append(f"  [{i}] citizen: {record.said}")
            lines.extend(f"      bot: {line}" for line in record.reply.splitlines() or ["(no reply)"])
            if record.buttons:
                lines.append(f"      buttons: {' | '.join(record.buttons)}")
            lines.extend(f"      !! {p}" for p in record.problems)
        lines.extend(f"  !! {p}" for p in self.problems)
        return "\n".join(lines)


def generic_problems(replies: list[dict[str, Any]]) -> list[str]:
    """What is wrong with one turn's replies whatever the dialogue (see the module docstring)."""
    problems: list[str] = []
    titles = set(button_payloads(replies))
    for reply in replies:
        text = reply.get("text") or ""
        for title in BUTTON_MENTION.findall(text):
            if title not in titles:
                problems.append(f"the reply mentions the button 「{title}」 but carries {sorted(titles) or 'none'}")
        for what, pattern in FORBIDDEN_IN_REPLIES:
            found = pattern.search(text)
            if found:
                problems.append(f"the reply shows {what}: {found.group(0)!r}")
    return problems


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of the case JSON, or ABSENT."""
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return ABSENT
        data = data[key]
    return data


def case_problems(dialogue: Dialogue, cases: list[dict[str, Any]]) -> list[str]:
    if dialogue.no_case:
        return [f"expected no case, found {[c.get('case_no') for c in cases]}"] if cases else []
    if dialogue.case is None:
        return []
    if len(cases) != 1:
        return [f"expected exactly one stored case, found {len(cases)}"]
    [case] = cases
    problems = []
    for path, expected in dialogue.case.items():
        actual = get_path(case, path)
        if actual != expected:
            problems.append(f"case {path}: expected {expected!r}, stored {actual!r}")
    for path, fragment in dialogue.contains.items():
        actual = get_path(case, path)
        if not isinstance(actual, str) or fragment not in actual:
            problems.append(f"case {path}: expected to contain {fragment!r}, stored {actual!r}")
    return problems


def _requested_slot(stack: Any, sender: str) -> str | None:
    tracker = stack.tracker(sender)
    return (tracker.get("slots") or {}).get("requested_slot")


def run_dialogue(stack: Any, dialogue: Dialogue, *, track: bool = False, keep_going: bool = False) -> Result:
    """Play ``dialogue`` in a new conversation; stop at the first failed turn unless ``keep_going``.

    ``track`` reads the tracker after every turn to record the slot asked next.
    """
    chat = Chat(stack, sender=f"rest-dlg-{dialogue.name[:40]}-{uuid.uuid4().hex[:8]}")
    result = Result(dialogue, chat.sender, tracked=track)
    user_turns = 0
    for turn in dialogue.turns:
        if turn.click is not None:
            payloads = button_payloads(chat.last)
            if turn.click not in payloads:
                result.problems.append(f"no button {turn.click!r} to click; the last reply had {list(payloads)}")
                break
            message = payloads[turn.click]
        else:
            message = SESSION_START if turn.new_session else str(turn.user)
        try:
            chat.last = stack.say(chat.sender, message)
        except Exception as exc:  # noqa: BLE001 - a failed request is a failed dialogue, reported
            result.problems.append(f"sending {message!r} failed: {exc}")
            break
        reply = texts_of(chat.last)
        record = TurnRecord(turn.said, reply, list(button_payloads(chat.last)))
        result.records.append(record)
        if not turn.new_session:
            user_turns += 1
            if not reply.strip():
                record.problems.append("no reply at all")
        if result.filed_at is None and FILED_MARK.search(reply):
            result.filed_at = user_turns
        record.problems.extend(generic_problems(chat.last))
        record.problems.extend(f"missing {f!r}" for f in turn.expect if f not in reply)
        record.problems.extend(f"unexpected {f!r}" for f in turn.absent if f in reply)
        if track:
            record.requested_slot = _requested_slot(stack, chat.sender)
        if record.problems and not keep_going:
            break
    else:
        result.completed = True
    if result.completed:
        status, body = stack.api_get(f"/cases?conversation_id={chat.sender}")
        if status != 200:
            result.problems.append(f"the case API answered {status}: {body!r}")
        else:
            result.problems.extend(case_problems(dialogue, body.get("cases", [])))
    if any(r.problems for r in result.records) and not result.problems:
        result.problems.append("a turn failed (see above)")
    return result


def run_corpus(
    stack: Any, dialogues: Sequence[Dialogue], *, workers: int = 4, track: bool = False, keep_going: bool = False
) -> list[Result]:
    """Play the dialogues concurrently (one conversation each); results in the corpus order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda d: run_dialogue(stack, d, track=track, keep_going=keep_going), dialogues))


# --- figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    mean_turns_free: float | None
    mean_turns_stepwise: float | None
    filed: dict[str, int]  # style -> dialogues that filed a petition
    expected_filed: dict[str, int]  # style -> dialogues that should have
    reask_share: float | None  # re-asked turns / tracked turns
    reasked_turns: int
    tracked_turns: int
    per_behaviour: dict[str, tuple[int, int]]  # behaviour -> (passed, total)


def _mean(values: Iterable[int]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def reasked(result: Result) -> int:
    """Turns after which the form asks for a slot an earlier turn already gave."""
    given: set[str] = set()
    count = 0
    records = iter(result.records)
    for turn, record in zip(result.dialogue.turns, records):
        if not turn.new_session and record.requested_slot in given:
            count += 1
        given.update(turn.gives)
    return count


def figures(results: Sequence[Result]) -> Figures:
    """The corpus figures: turns per filed petition by style, re-asks, passes per behaviour."""
    turns = {style: [r.filed_at for r in results if r.dialogue.style == style and r.filed_at] for style in STYLES}
    tracked = [r for r in results if r.tracked]
    tracked_turns = sum(
        1 for r in tracked for t, _ in zip(r.dialogue.turns, r.records) if not t.new_session
    )
    reasks = sum(reasked(r) for r in tracked)
    per_behaviour: dict[str, tuple[int, int]] = {}
    for behaviour in BEHAVIOURS:
        mine = [r for r in results if r.dialogue.behaviour == behaviour]
        per_behaviour[behaviour] = (sum(r.passed for r in mine), len(mine))
    return Figures(
        mean_turns_free=_mean(turns["free"]),
        mean_turns_stepwise=_mean(turns["stepwise"]),
        filed={style: len(turns[style]) for style in ("free", "stepwise")},
        expected_filed={style: sum(r.dialogue.style == style for r in results) for style in ("free", "stepwise")},
        reask_share=reasks / tracked_turns if tracked_turns else None,
        reasked_turns=reasks,
        tracked_turns=tracked_turns,
        per_behaviour=per_behaviour,
    )

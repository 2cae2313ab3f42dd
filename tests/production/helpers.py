"""Conversations against the production stack: a chat bound to a Rasa replica, and the
scripted turns of ``bench/conversations.py``."""

from __future__ import annotations

import random
import re
import threading
from typing import Any, Callable

from bench.conversations import CASE_MARK, Citizen, Turn, make_citizen
from tests.support.chat import Chat
from tests.support.stack import ProductionStack, texts_of

CASE_NO = re.compile(r"信访件编号：(XF\d{10})")

_rng = random.Random()


def citizen() -> Citizen:
    return make_citizen(_rng)


class ReplicaChat(Chat):
    """A citizen's chat; each message goes to ``replica`` unless another is named."""

    def __init__(self, stack: ProductionStack, prefix: str, replica: str = "rasa"):
        super().__init__(stack, prefix)
        self.stack: ProductionStack = stack
        self.replica = replica

    def say(self, message: str, replica: str | None = None) -> str:
        self.last = self.stack.say(self.sender, message, replica=replica or self.replica)
        reply = texts_of(self.last)
        self.turns.append((message, reply))
        return reply

    def expect_on(self, replica: str, message: str, *fragments: str) -> str:
        reply = self.say(message, replica=replica)
        missing = [f for f in fragments if f not in reply]
        assert not missing, f"missing {missing} in the reply to {message!r}\n{self.transcript()}"
        return reply

    def play(self, turns: list[Turn]) -> None:
        for turn in turns:
            self.expect(turn.message, *turn.expect)


def case_no_in(reply: str) -> str | None:
    match = CASE_NO.search(reply)
    return match.group(1) if match else None


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in parallel threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def replies_with_case_no(replies: list[list[dict[str, Any]]]) -> list[str]:
    return [no for no in (case_no_in(texts_of(r)) for r in replies) if no]


__all__ = ["CASE_MARK", "ReplicaChat", "at_once", "case_no_in", "citizen", "replies_with_case_no"]

"""A citizen's side of a conversation over the REST channel, with readable failures."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack, button_payloads, new_sender, texts_of


class Chat:
    def __init__(self, stack: Stack, prefix: str = "citizen", sender: str | None = None):
        self.stack = stack
        self.sender = sender or new_sender(prefix)
        self.turns: list[tuple[str, str]] = []
        self.last: list[dict[str, Any]] = []

    def say(self, message: str) -> str:
        self.last = self.stack.say(self.sender, message)
        reply = texts_of(self.last)
        self.turns.append((message, reply))
        return reply

    def expect(self, message: str, *fragments: str, absent: tuple[str, ...] = ()) -> str:
        """Say ``message`` and assert every fragment appears (and no ``absent`` one) in the reply."""
        reply = self.say(message)
        missing = [f for f in fragments if f not in reply]
        present = [f for f in absent if f in reply]
        assert not missing and not present, (
            f"missing {missing} / unexpected {present} in the reply to {message!r}\n{self.transcript()}"
        )
        return reply

    def click(self, title: str, *fragments: str, absent: tuple[str, ...] = ()) -> str:
        """Press the button titled ``title`` of the last reply."""
        payloads = button_payloads(self.last)
        assert title in payloads, f"no button {title!r} in {list(payloads)}\n{self.transcript()}"
        return self.expect(payloads[title], *fragments, absent=absent)

    def transcript(self) -> str:
        lines = [f"conversation {self.sender}:"]
        for user, bot in self.turns:
            lines.append(f"  citizen: {user}")
            lines.extend(f"  bot: {line}" for line in bot.splitlines())
        return "\n".join(lines)

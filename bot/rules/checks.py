"""The result type of every validation rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """Outcome of checking one answer.

    ``value`` is the normalized value when ``ok``; otherwise ``error`` is a short
    machine code (e.g. "empty", "length", "checksum") and ``message`` a polite Chinese
    explanation of what was wrong, with an example of the expected form.
    """

    ok: bool
    value: Any = None
    error: str | None = None
    message: str | None = None


def passed(value: Any) -> Check:
    """A successful check carrying the normalized value."""
    return Check(ok=True, value=value)


def failed(error: str, message: str) -> Check:
    """A failed check with its machine code and Chinese message."""
    return Check(ok=False, error=error, message=message)


def refused(rule: str, error: str, *, key: str | None = None, **values: Any) -> Check:
    """A failed check whose message is ``<rule>.<key or error>`` in bot/rules/messages.yml,
    filled with ``values``; a ``how`` entry of the rule, when there is one, is appended."""
    from bot.rules.messages import has_message, message

    text = message(f"{rule}.{key or error}", **values)
    if has_message(f"{rule}.how"):
        text += message(f"{rule}.how", **values)
    return Check(ok=False, error=error, message=text)

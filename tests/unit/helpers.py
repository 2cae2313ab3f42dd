"""Assertions shared by the rule tests."""

from __future__ import annotations

import re

from bot.rules.checks import Check

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def assert_rejected(check: Check, error: str, *fragments: str) -> None:
    """``check`` failed with ``error``; its message is Chinese, shows an example and
    contains every fragment."""
    assert check.ok is False
    assert check.value is None
    assert check.error == error, check
    assert check.message, check
    assert len(_CJK_RE.findall(check.message)) >= 10, check.message
    assert "例如" in check.message, check.message
    for fragment in fragments:
        assert fragment in check.message, (fragment, check.message)


def assert_accepted(check: Check, value: object) -> None:
    """``check`` passed with exactly ``value``."""
    assert check == Check(ok=True, value=value), check

"""The read-back of a petition before it is submitted."""

from __future__ import annotations

from typing import Any, Mapping

from bot.rules import fields
from bot.rules.jurisdiction import resolve_place, responsible_unit

from actions import texts


def proposed_unit(slots: Mapping[str, Any]) -> str | None:
    """The responsible unit the routing table proposes for the place and category."""
    place, category = slots.get("place"), slots.get("category")
    if not place or not category:
        return None
    return responsible_unit(category, resolve_place(place))


def summary_lines(slots: Mapping[str, Any]) -> list[str]:
    """One "label：value" line per answered question (the petition contract's order and
    formats, personal numbers masked), then the proposed unit."""
    lines = fields.summary_lines(slots)
    if slots.get("register_anyway") is True:
        lines.append(texts.text("recheck.summary_flag"))
    unit = proposed_unit(slots)
    if unit:
        lines.append(f"拟交办单位：{unit}")
    return lines


def render_summary(slots: Mapping[str, Any]) -> str:
    """The whole read-back message with its header and instructions."""
    return "\n".join([texts.text("summary.header"), *summary_lines(slots), texts.text("summary.footer")])

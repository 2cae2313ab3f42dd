"""The read-back of a petition before it is submitted."""

from __future__ import annotations

from typing import Any, Mapping

from bot.rules.jurisdiction import resolve_place, responsible_unit
from bot.rules.masking import mask_id_number
from bot.rules.petition import FIELD_LABELS, REVIEW_STAGES

from actions import texts
from actions.common import NOT_APPLICABLE


def proposed_unit(slots: Mapping[str, Any]) -> str | None:
    """The responsible unit the routing table proposes for the place and category."""
    place, category = slots.get("place"), slots.get("category")
    if not place or not category:
        return None
    return responsible_unit(category, resolve_place(place))


def summary_lines(slots: Mapping[str, Any]) -> list[str]:
    """One "label：value" line per answered question, personal numbers masked."""
    lines = []
    for slot, label in FIELD_LABELS.items():
        value = slots.get(slot)
        if value in (None, "", NOT_APPLICABLE):
            continue
        if slot == "id_number":
            value = mask_id_number(value)
        elif slot == "is_first":
            value = "是" if value else "否，之前反映过"
        elif slot == "review_stage":
            value = REVIEW_STAGES.get(value, value)
        elif slot == "group_size":
            value = f"{int(value)}人"
        lines.append(f"{label}：{value}")
    unit = proposed_unit(slots)
    if unit:
        lines.append(f"拟交办单位：{unit}")
    return lines


def render_summary(slots: Mapping[str, Any]) -> str:
    """The whole read-back message with its header and instructions."""
    return "\n".join([texts.text("summary.header"), *summary_lines(slots), texts.text("summary.footer")])

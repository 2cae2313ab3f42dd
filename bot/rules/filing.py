"""What a filing did, and where an earlier case of the same matter stands (条例第十九、
三十五、三十六条). Written once here for the back office (bot/store/repeats.py), its API and
the action server that tells the citizen.
"""

from __future__ import annotations

from bot.rules.statuses import (
    ACCEPTED,
    ASSIGNED,
    CLOSED,
    NOT_ACCEPTED,
    RECHECK_REQUESTED,
    RECHECKED,
    REGISTERED,
    REPLIED,
    REVIEW_REQUESTED,
    REVIEWED,
)

# The ``outcome`` of POST /cases (and ``IdempotencyKey.outcome``).
CREATED = "created"  # a new case
ADDED = "added_to_case"  # the same matter still being handled: material added, no new case
REPEAT = "repeat"  # a new case, linked to the handled earlier case of the same matter
OUTCOMES = (CREATED, ADDED, REPEAT)

# Where the earlier case of the same matter stands.
HANDLING = "handling"  # 第十九条: not accepted again while it is handled
HANDLED = "handled"  # answered or closed: a 重复信访, with the 复查 right (第三十五条)
AFTER_RECHECK = "after_recheck"  # 第三十六条: the same facts and reasons are not accepted again
STAGE_OF_STATUS: dict[str, str] = {
    REGISTERED: HANDLING,
    ACCEPTED: HANDLING,
    ASSIGNED: HANDLING,
    REVIEW_REQUESTED: HANDLING,
    RECHECK_REQUESTED: HANDLING,
    REPLIED: HANDLED,
    CLOSED: HANDLED,
    NOT_ACCEPTED: HANDLED,
    REVIEWED: HANDLED,
    RECHECKED: AFTER_RECHECK,
}

# The 复查/复核 stage (bot/rules/fields.py REVIEW_STAGES) a handled earlier case stands at.
_REVIEW_STAGE_OF_STATUS = {REVIEWED: "reviewed", RECHECKED: "rechecked"}

# Kinds of link from a case to an earlier one, and who made it.
LINK_REPEAT = "repeat"
LINK_MERGED = "merged"
LINK_LABELS: dict[str, str] = {LINK_REPEAT: "重复信访（同一事项再次反映）", LINK_MERGED: "合并办理"}
ORIGIN_AUTO = "auto"


def stage_of(status: str, *, rechecked: bool = False) -> str:
    """Where an earlier case stands: its status, and whether a 复核 opinion was given (a case
    closed after 复核 is still "after 复核")."""
    stage = STAGE_OF_STATUS.get(status, HANDLED)
    if stage == HANDLED and rechecked:
        return AFTER_RECHECK
    return stage


def review_stage_of(status: str, *, reviewed: bool = False, rechecked: bool = False) -> str:
    """The REVIEW_STAGES key of an earlier case: from its status and its opinions."""
    if stage_of(status) == HANDLING:
        return "no_reply_yet"
    if rechecked:
        return "rechecked"
    if reviewed:
        return "reviewed"
    return _REVIEW_STAGE_OF_STATUS.get(status, "replied")

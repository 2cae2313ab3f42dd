"""Workflow statuses of a case (信访件): the one list of names and their Chinese labels.

The store, the workflow steps, the deadlines owed, the API, the console and the citizen's
status lookup all import these; the transitions between them are in ``bot/rules/workflow.py``.
"""

from __future__ import annotations

REGISTERED = "registered"
ACCEPTED = "accepted"
NOT_ACCEPTED = "not_accepted"
ASSIGNED = "assigned"
REPLIED = "replied"
CLOSED = "closed"
REVIEW_REQUESTED = "review_requested"
REVIEWED = "reviewed"
RECHECK_REQUESTED = "recheck_requested"
RECHECKED = "rechecked"

CASE_STATUS_LABELS: dict[str, str] = {
    REGISTERED: "已登记，待受理",
    ACCEPTED: "已受理，正在办理",
    NOT_ACCEPTED: "不予受理",
    ASSIGNED: "已交办责任单位",
    REPLIED: "已书面答复",
    CLOSED: "已办结",
    REVIEW_REQUESTED: "复查中",
    REVIEWED: "已出具复查意见",
    RECHECK_REQUESTED: "复核中",
    RECHECKED: "已出具复核意见",
}


def status_label(status: str | None) -> str:
    return CASE_STATUS_LABELS.get(status or "", status or "")

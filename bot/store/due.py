"""What the agency owes next on a case, and by when: one rule for the console, the
statistics and the citizen's status lookup."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case as sql_case

from bot.rules.statuses import ACCEPTED, ASSIGNED, RECHECK_REQUESTED, REGISTERED, REVIEW_REQUESTED
from bot.store.models import Case



def next_due_column() -> Any:
    """SQL expression: the date by which the agency owes the next step (NULL: nothing owed)."""
    return sql_case(
        (Case.status == REGISTERED, Case.acceptance_notice_due),
        (Case.status.in_((ACCEPTED, ASSIGNED)), Case.handling_due),
        (Case.status == REVIEW_REQUESTED, Case.review_opinion_due),
        (Case.status == RECHECK_REQUESTED, Case.recheck_opinion_due),
        else_=None,
    )


# REGISTERED: the 信访部门 registers and forwards or assigns within 15 days (第22条); the body
# with the matter tells the citizen in writing that it received it and how it will be handled
# (第23条; not "whether accepted", the 2005 wording). ACCEPTED/ASSIGNED: the 60 days of 第34条,
# owed only for 第31条(六) matters; a matter following its own procedure has no handling_due.
NEXT_DUE_LABELS = {
    REGISTERED: ("登记转送，书面告知接收情况以及处理途径和程序", "第二十二条、第二十三条"),
    ACCEPTED: ("办结并书面答复", "第三十四条"),
    ASSIGNED: ("办结并书面答复", "第三十四条"),
    REVIEW_REQUESTED: ("出具复查意见", "第三十五条"),
    RECHECK_REQUESTED: ("出具复核意见", "第三十六条"),
}


def owed_next(case: Case) -> tuple[str, str, date] | None:
    """(label, article, date) of what the agency owes next for ``case``; None when nothing is owed.

    The same rule as ``next_due_column`` (SQL) for one loaded case.
    """
    due = {
        REGISTERED: case.acceptance_notice_due,
        ACCEPTED: case.handling_due,
        ASSIGNED: case.handling_due,
        REVIEW_REQUESTED: case.review_opinion_due,
        RECHECK_REQUESTED: case.recheck_opinion_due,
    }.get(case.status)
    if due is None:
        return None
    label, article = NEXT_DUE_LABELS[case.status]
    return label, article, due

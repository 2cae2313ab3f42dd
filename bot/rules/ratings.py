"""The citizen's evaluation of how a matter was handled (信访工作条例 第二十一条: the
petitioner may check the progress and result and rate the handling).

One rating per case, given after the written reply (or the closing of the case). The chat asks
for it within ``rating_period_days`` (bot/config/jurisdiction.yml) of the reply; the console
shows it and never changes it.
"""

from __future__ import annotations

import re

from bot.rules.jurisdiction import load_jurisdiction

SATISFIED = "satisfied"
BASIC = "basic"
DISSATISFIED = "dissatisfied"

RATING_LABELS: dict[str, str] = {
    SATISFIED: "满意",
    BASIC: "基本满意",
    DISSATISFIED: "不满意",
}
RATINGS: tuple[str, ...] = tuple(RATING_LABELS)

# 满意 and 基本满意 count as satisfied in 群众满意率 (bot/store/assessment.py).
SATISFIED_RATINGS: tuple[str, ...] = (SATISFIED, BASIC)



def rating_period_days() -> int:
    """Days after the written reply during which the citizen is asked to rate it (configured
    in bot/config/jurisdiction.yml ``rating_period_days``)."""
    return load_jurisdiction().rating_period_days

COMMENT_MAX = 1000

# The notification inviting the citizen to rate (bot/store/notifications.py; the action server
# adds the three buttons to it).
RATING_REQUEST_KIND = "rating_request"


def rating_label(rating: str | None) -> str:
    return RATING_LABELS.get(rating or "", rating or "")


# The words of a rating in a message ("不满意，太慢了" -> dissatisfied); the negative first.
_RATING_WORDS: tuple[tuple[str, "re.Pattern[str]"], ...] = (
    (DISSATISFIED, re.compile(r"不满意|不太满意|很不满意|非常不满意|不满")),
    (BASIC, re.compile(r"基本满意|还算满意|一般|还行|凑合")),
    (SATISFIED, re.compile(r"满意|很好|非常好")),
)


def parse_rating(text: str | None) -> str | None:
    """The rating a message gives, or None: "基本满意吧" -> "basic"."""
    for rating, pattern in _RATING_WORDS:
        if pattern.search(text or ""):
            return rating
    return None

"""Leader reception days (领导接访日) and 包案: the limits, formats and the reminder's kind, one
place for the console, the API and the action server.

信访工作条例 第二十条: a visit goes to the reception place of the body at the same level or
one level up, and several people with a common matter choose at most five representatives.
"""

from __future__ import annotations

import re

# Several people visiting together choose at most five representatives (第二十条).
MAX_REPRESENTATIVES = 5
# Bookings one reception day takes by default, and the most a member of staff may set.
DEFAULT_CAPACITY = 10
MAX_CAPACITY = 200
# Reception days the assistant lists at once.
LISTED_DAYS = 5
# The notification of a booking the day before (bot/store/notifications.py).
REMINDER_KIND = "reception_reminder"

TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")  # "09:00"
LEADER_MAX = 64
PLACE_MAX = 255
TOPICS_MAX = 500
NOTE_MAX = 1000

# What a citizen brings to a reception day.
WHAT_TO_BRING = "本人有效身份证件、信访件编号，以及与反映事项有关的材料（复印件即可）"


def representatives_for(group_size: int | None) -> int:
    """People a booking admits: the petitioner, or at most five representatives of a group."""
    return max(1, min(int(group_size or 1), MAX_REPRESENTATIVES))

# A case that is no longer being handled cannot be booked (the back office's refusal and the
# chat's answer to a case proven with its query code).
NOT_BEING_HANDLED = ("信访件 {case_no} 目前的状态是「{status_label}」，不在办理中，不能预约领导接访。"
                     "对处理意见不服的，可以依法请求复查、复核；有新的情况，可以重新反映。")


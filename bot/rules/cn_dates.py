"""Dates as citizens and staff read them: 2026年12月7日 (Asia/Shanghai).

The one Chinese date format of the project: the chat, the notifications, the console and the
rules' messages all use ``cn_date``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot.rules.deadlines import TZ


def cn_date(value: date | datetime | str | None) -> str:
    """2026-12-07 -> "2026年12月7日"; a datetime is first taken to Asia/Shanghai (naive = UTC);
    an ISO string is read; None gives ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(TZ).date()
    return f"{value.year}年{value.month}月{value.day}日"

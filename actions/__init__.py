"""Custom actions of the petition assistant (rasa-sdk action server).

Loading the package is the action server's start: it warns when the official holiday calendar
does not cover the coming 90 days, since the time limits the actions tell citizens would then
be counted without that year's holidays (see bot/config/holidays.yml).
"""

import logging

from bot.rules.deadlines import log_calendar_coverage

logger = logging.getLogger(__name__)

log_calendar_coverage(logger)

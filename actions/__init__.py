"""Custom actions of the petition assistant (rasa-sdk action server).

Loading the package is the action server's start. It reads the action server's settings once
(``bot.settings.actions``; with ``APP_ENV=production`` a development secret stops it here),
points the rules at the jurisdiction and holidays files they name, refuses calls that do not
carry Rasa's shared secret (``actions/endpoint_auth.py``), arranges for the back
office client's session to be closed when the server stops, and warns when the official
holiday calendar does not cover the coming 90 days, since the time limits the actions tell
citizens would then be counted without that year's holidays (see bot/config/holidays.yml).
"""

import logging

from actions.backoffice import close_session_at_server_stop
from actions.endpoint_auth import require_endpoint_token
from bot.rules import deadlines, jurisdiction
from bot.settings.actions import load_action_settings, set_action_settings

logger = logging.getLogger(__name__)


def _start() -> None:
    settings = load_action_settings()
    settings.check_production()
    set_action_settings(settings)
    jurisdiction.use_file(settings.jurisdiction_file)
    deadlines.use_holidays_file(settings.holidays_file)
    close_session_at_server_stop()
    require_endpoint_token(settings)
    deadlines.log_calendar_coverage(logger)


_start()

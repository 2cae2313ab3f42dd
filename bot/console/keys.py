"""Application and request keys of the staff console."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.console.rasa import RasaClient

if TYPE_CHECKING:
    from bot.store.models import StaffSession, StaffUser

# The console's own Jinja2 environment (templates under bot/templates/console/).
JINJA = web.AppKey("console_jinja", jinja2.Environment)
# Read-only engine on Rasa's tracker store.
TRACKER_ENGINE = web.AppKey("tracker_engine", AsyncEngine)
RASA = web.AppKey("rasa_client", RasaClient)

# The console session and user of the request (set by the session authenticator).
STAFF = web.RequestKey("staff", "tuple[StaffSession, StaffUser]")

"""The JSON API under ``/api/v1``: every route of it, for the action server (service token)
and for staff tools. ``setup_api(app)`` adds them to the application of ``bot.app``."""

from __future__ import annotations

from aiohttp import web

from bot.api import cases, conversations, handoffs, notifications, ratings, reception, reports, warnings


def setup_api(app: web.Application) -> None:
    for module in (cases, conversations, handoffs, notifications, ratings, reception, reports, warnings):
        module.setup(app)

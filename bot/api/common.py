"""What every route of the JSON API shares: its prefix and the reading of a JSON body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.web.errors import ApiError

API_PREFIX = "/api/v1"


async def read_json_object(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "payload_too_large") from None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json")
    return body

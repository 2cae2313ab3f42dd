"""Only Rasa may call the action server: every call to ``/webhook`` and ``/actions`` must carry
the shared secret ``ACTION_ENDPOINT_TOKEN`` (``Authorization: Bearer <token>``, sent by Rasa
from its endpoints file). Anything else is answered 401 before an action runs. ``/health``
stays open for probes.
"""

from __future__ import annotations

import hmac
import logging

from bot.settings.actions import ActionSettings

logger = logging.getLogger(__name__)

PROTECTED_PATHS = ("/webhook", "/actions")
RASA_SDK_APP = "rasa_sdk"  # the name rasa_sdk.endpoint.create_app gives its Sanic app


def is_authorized(header: str | None, token: str) -> bool:
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def require_endpoint_token(settings: ActionSettings) -> bool:
    """Register the check on the rasa-sdk Sanic app (every worker inherits it); False when the
    package is loaded without the app (tests, scripts)."""
    from sanic import Sanic, response
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app(RASA_SDK_APP)
    except SanicException:
        return False
    token = settings.endpoint_token

    async def check_endpoint_token(request):  # type: ignore[no-untyped-def]
        if request.path.rstrip("/") not in PROTECTED_PATHS:
            return None
        if is_authorized(request.headers.get("Authorization"), token):
            return None
        logger.warning("refused a call to %s without the action endpoint token", request.path)
        return response.json({"error": "unauthorized"}, status=401)

    app.register_middleware(check_endpoint_token, "request")
    return True

"""Async client of the back office JSON API (POST /cases, GET /status, GET /notifications,
POST /handoffs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.settings import load_settings

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)


class BackOfficeError(Exception):
    """The back office answered with an error or could not be reached."""

    def __init__(self, status: int | None, code: str, message: str = "", body: Any = None):
        super().__init__(f"{status} {code} {message}".strip())
        self.status = status
        self.code = code
        self.message = message
        self.body = body

    @property
    def unavailable(self) -> bool:
        """Down, timed out or a server error: worth retrying later with the same key."""
        return self.status is None or self.status >= 500


@dataclass
class BackOfficeClient:
    base_url: str
    token: str

    @classmethod
    def from_settings(cls) -> "BackOfficeClient":
        settings = load_settings()
        return cls(settings.backoffice_url.rstrip("/"), settings.service_token)

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    async def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        url = f"{self.base_url}/api/v1{path}"
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.request(method, url, **kwargs) as response:
                    try:
                        body = await response.json(content_type=None)
                    except ValueError:
                        body = None
                    return response.status, body
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("back office %s %s unreachable: %s", method, path, type(exc).__name__)
            raise BackOfficeError(None, "unreachable", str(exc)) from exc

    async def create_case(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """File a case; replaying the same key returns the first result, never a second case."""
        status, body = await self._request(
            "POST", "/cases", json=payload, headers=self._headers(**{"Idempotency-Key": idempotency_key})
        )
        if status in (200, 201) and isinstance(body, dict) and "case" in body:
            return body
        raise _error(status, body)

    async def case_status(self, case_no: str, code: str, requester: str) -> dict[str, Any]:
        """The citizen's status lookup; ``requester`` (the chat sender) is rate limited."""
        status, body = await self._request(
            "GET",
            f"/status/{quote(case_no)}",
            params={"code": code},
            headers=self._headers(**{"X-Requester": requester}),
        )
        if status == 200 and isinstance(body, dict):
            return body
        raise _error(status, body)

    async def notification(self, notification_id: str) -> dict[str, Any]:
        """A notification of the citizen about their case (its ``text`` is said as is)."""
        status, body = await self._request(
            "GET", f"/notifications/{quote(str(notification_id), safe='')}", headers=self._headers()
        )
        if status == 200 and isinstance(body, dict) and body.get("text"):
            return body
        raise _error(status, body)


    async def request_handoff(self, conversation_id: str, channel: str, reason: str | None = None) -> dict[str, Any]:
        """Flag the conversation for a person (POST /handoffs); the open handoff of the
        conversation, the same one when it was already requested (``created`` tells)."""
        status, body = await self._request(
            "POST",
            "/handoffs",
            json={"conversation_id": conversation_id, "channel": channel, "reason": reason},
            headers=self._headers(),
        )
        if status in (200, 201) and isinstance(body, dict) and isinstance(body.get("handoff"), dict):
            return body
        raise _error(status, body)


def _error(status: int, body: Any) -> BackOfficeError:
    body = body if isinstance(body, dict) else {}
    return BackOfficeError(status, str(body.get("error", "http_error")), str(body.get("message", "")), body)

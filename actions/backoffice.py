"""Async client of the back office JSON API (POST /cases, GET /status, GET /notifications,
POST /handoffs).

The action server keeps one ``aiohttp.ClientSession`` for the back office for its lifetime:
created on first use inside the running event loop (so each Sanic worker process has its
own), its connections kept alive between calls, and closed when the server stops
(``close_session_at_server_stop``, called when the ``actions`` package is loaded).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import quote

import aiohttp

from bot.settings.actions import action_settings

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)
RASA_SDK_APP = "rasa_sdk"  # the name rasa_sdk.endpoint.create_app gives its Sanic app

_session: Optional[aiohttp.ClientSession] = None
_session_loop: Optional[asyncio.AbstractEventLoop] = None


def shared_session() -> aiohttp.ClientSession:
    """The session of this process, created on first use inside the running event loop."""
    global _session, _session_loop
    loop = asyncio.get_running_loop()
    if _session is None or _session.closed or _session_loop is not loop:
        _session, _session_loop = aiohttp.ClientSession(timeout=TIMEOUT), loop
    return _session


async def close_session() -> None:
    """Close the session (a later call opens a new one); nothing to do when none is open."""
    global _session, _session_loop
    session, _session, _session_loop = _session, None, None
    if session is not None and not session.closed:
        await session.close()


async def _close_after_server_stop(_app: Any, _loop: Any = None) -> None:
    await close_session()


def close_session_at_server_stop() -> bool:
    """Close the session when the rasa-sdk server stops (its Sanic ``after_server_stop``, in
    every worker). rasa-sdk creates its Sanic app before it loads the ``actions`` package, so
    the app is found by name; False when the package is loaded without it (tests, scripts)."""
    from sanic import Sanic
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app(RASA_SDK_APP)
    except SanicException:
        return False
    app.register_listener(_close_after_server_stop, "after_server_stop")
    return True


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
        """The client of the action server's settings (read once per process)."""
        settings = action_settings()
        return cls(settings.backoffice_url.rstrip("/"), settings.service_token)

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    async def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        url = f"{self.base_url}/api/v1{path}"
        try:
            return await self._send(method, url, **kwargs)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("back office %s %s unreachable: %s", method, path, type(exc).__name__)
            raise BackOfficeError(None, "unreachable", str(exc)) from exc

    @staticmethod
    async def _send(method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        async with shared_session().request(method, url, **kwargs) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            return response.status, body

    async def create_case(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """File a case; replaying the same key returns the first result, never a second case."""
        status, body = await self._request(
            "POST", "/cases", json=payload, headers=self._headers(**{"Idempotency-Key": idempotency_key})
        )
        if status in (200, 201) and isinstance(body, dict) and "case" in body:
            return body
        raise _error(status, body)

    async def cases_of_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """The cases filed from one conversation, newest first (GET /cases?conversation_id=);
        personal numbers masked."""
        status, body = await self._request(
            "GET", "/cases", params={"conversation_id": conversation_id}, headers=self._headers()
        )
        if status == 200 and isinstance(body, dict) and isinstance(body.get("cases"), list):
            return body["cases"]
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


    async def ratings_of_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """The answered cases of a conversation: ``case_no``, ``rating`` (label or None),
        ``open`` (can be rated today), ``due`` (GET /ratings?conversation_id=)."""
        status, body = await self._request(
            "GET", "/ratings", params={"conversation_id": conversation_id}, headers=self._headers()
        )
        if status == 200 and isinstance(body, dict) and isinstance(body.get("cases"), list):
            return body["cases"]
        raise _error(status, body)

    async def rate_case(self, case_no: str, rating: str, comment: str | None, conversation_id: str,
                        query_code: str | None = None) -> dict[str, Any]:
        """The citizen's rating of a case filed from this conversation, or of the case whose
        query code the citizen gave in it (POST /cases/{no}/rating; the sender is rate limited
        on wrong codes like a status lookup)."""
        payload: dict[str, Any] = {"rating": rating, "comment": comment, "conversation_id": conversation_id}
        if query_code:
            payload["query_code"] = query_code
        status, body = await self._request(
            "POST", f"/cases/{quote(case_no, safe='')}/rating",
            headers=self._headers(**{"X-Requester": conversation_id}), json=payload,
        )
        if status == 201 and isinstance(body, dict):
            return body
        raise _error(status, body)

    async def reception_days(self, conversation_id: str) -> dict[str, Any]:
        """The coming reception days, this conversation's case that may be booked and the days
        it is booked on (GET /reception-days?conversation_id=)."""
        status, body = await self._request(
            "GET", "/reception-days", params={"conversation_id": conversation_id}, headers=self._headers()
        )
        if status == 200 and isinstance(body, dict):
            return body
        raise _error(status, body)

    async def book_reception(self, day_id: str, conversation_id: str, channel: str,
                             proof: tuple[str, str] | None = None) -> dict[str, Any]:
        """Book this conversation's case on a reception day, or the case of ``proof`` (case
        number, query code) from another chat or device (POST /reception-days/{id}/bookings;
        the chat sender is rate limited on wrong codes like a status lookup)."""
        body_json: dict[str, Any] = {"conversation_id": conversation_id, "channel": channel}
        if proof:
            body_json.update(case_no=proof[0], query_code=proof[1])
        status, body = await self._request(
            "POST", f"/reception-days/{quote(day_id, safe='')}/bookings",
            headers=self._headers(**{"X-Requester": conversation_id}), json=body_json,
        )
        if status == 201 and isinstance(body, dict):
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

    async def erase_conversation(self, conversation_id: str) -> bool:
        """Delete what an unfiled conversation holds (POST /conversations/{id}/erase): True when
        erased, False when a case was filed from it (HTTP 409: kept for the archive period)."""
        status, body = await self._request(
            "POST", f"/conversations/{quote(conversation_id, safe='')}/erase", headers=self._headers()
        )
        if status == 200 and isinstance(body, dict) and body.get("erased") is True:
            return True
        if status == 409:
            return False
        raise _error(status, body)


def _error(status: int, body: Any) -> BackOfficeError:
    body = body if isinstance(body, dict) else {}
    return BackOfficeError(status, str(body.get("error", "http_error")), str(body.get("message", "")), body)

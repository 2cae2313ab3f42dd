"""Async client of Rasa's HTTP API (``rasa run --enable-api --auth-token``).

Used for what the back office says into a conversation: notifications of case updates
(``trigger_intent`` with an external intent, or an appended bot message), and the human
handoff (pause, officer messages, resume). ``output_channel=latest`` delivers through the
channel the citizen last used (socket.io widget, WeChat); the REST channel cannot push, the
message is then only in the tracker.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15, connect=3)


class RasaError(Exception):
    """Rasa could not be reached or refused the request."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class RasaClient:
    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = session

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def _call(self, method: str, url: str, params: dict[str, str], body: Any = None) -> Any:
        params = {**params, "token": self.token}
        try:
            async with self.session.request(method, url, params=params, json=body,
                                            timeout=TIMEOUT) as response:
                if response.status >= 400:
                    text = (await response.text())[:200]
                    raise RasaError(f"HTTP {response.status}: {text}", response.status)
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaError(f"unreachable ({type(exc).__name__})") from None
        except ValueError:
            raise RasaError("invalid JSON from Rasa") from None

    async def tracker_state(self, conversation_id: str) -> dict[str, Any]:
        """The tracker without events: ``paused``, ``active_loop``, latest input channel."""
        return await self._call("GET", self._url(conversation_id, "tracker"),
                                {"include_events": "NONE"})

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, Any]
    ) -> dict[str, Any]:
        """Run the assistant as if ``intent`` had been uttered (nothing happens when paused)."""
        return await self._call(
            "POST", self._url(conversation_id, "trigger_intent"),
            {"output_channel": "latest"}, {"name": intent, "entities": entities},
        )

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> Any:
        """Append events; bot messages among them are delivered (also while paused)."""
        return await self._call(
            "POST", self._url(conversation_id, "tracker/events"),
            {"output_channel": "latest", "execute_side_effects": "true",
             "include_events": "NONE"},
            events,
        )

    async def say(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> None:
        await self.append_events(conversation_id, [bot_event(text, metadata)])


def bot_event(text: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": metadata}

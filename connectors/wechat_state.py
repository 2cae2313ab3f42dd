"""State the WeChat channel keeps between requests: which messages it has seen (WeChat retries
a message up to 3 times when it gets no answer within 5 seconds) and the numbered choices it
last offered each citizen.

Two backends with the same interface:

- ``MemoryState`` (default): one process. Enough for ``make run`` and a single-worker server.
- ``RedisState`` (``redis_url`` set): shared by every Sanic worker and every Rasa replica, as
  production needs — a retry may reach another worker than the first attempt. Keys live under
  the configured prefix and expire on their own. The client is opened per process on first use
  (Sanic forks its workers after the channel is built).

A message's record goes ``processing`` → ``replied`` (answered in the HTTP response; the
reply is kept so that a retry of a response WeChat did not receive gets the same answer) or
``api`` (answered through the customer-service API; a retry only gets "success").
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional, Protocol

from connectors.wechat_text import Choice

PROCESSING = "processing"
REPLIED = "replied"
API = "api"


@dataclass(frozen=True)
class Record:
    status: str
    reply: str = ""

    def dumps(self) -> str:
        return json.dumps({"status": self.status, "reply": self.reply}, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes) -> "Record":
        data = json.loads(raw)
        return cls(str(data.get("status", PROCESSING)), str(data.get("reply", "")))


class ChannelState(Protocol):
    async def claim(self, key: str) -> Optional[Record]:
        """Mark the message ``key`` as being processed. ``None`` when this call claimed it
        (first time seen); otherwise the record of the earlier attempt."""

    async def update(self, key: str, record: Record) -> None: ...

    async def get_choices(self, sender: str) -> list[Choice]: ...

    async def set_choices(self, sender: str, choices: list[Choice]) -> None: ...

    async def first_use(self, key: str) -> bool:
        """Record ``key`` (a callback's timestamp and nonce); False when it was seen before."""

    async def close(self) -> None: ...


def _choices_dumps(choices: list[Choice]) -> str:
    return json.dumps([[c.title, c.payload] for c in choices], ensure_ascii=False)


def _choices_loads(raw: str | bytes | None) -> list[Choice]:
    if not raw:
        return []
    try:
        return [Choice(str(title), str(payload)) for title, payload in json.loads(raw)]
    except (ValueError, TypeError):
        return []


class _ExpiringDict:
    """A bounded dict whose entries expire (oldest dropped first when full)."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def _purge(self, now: float) -> None:
        while self._data:
            key, (expires, _) = next(iter(self._data.items()))
            if expires > now and len(self._data) <= self.max_entries:
                break
            del self._data[key]

    def get(self, key: str) -> Optional[str]:
        now = time.monotonic()
        self._purge(now)
        entry = self._data.get(key)
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def set(self, key: str, value: str, keep_expiry: bool = False) -> None:
        now = time.monotonic()
        entry = self._data.get(key)
        expires = entry[0] if keep_expiry and entry else now + self.ttl
        self._data[key] = (expires, value)
        if not (keep_expiry and entry):
            self._data.move_to_end(key)
        self._purge(now)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


# How long a callback's nonce is remembered: longer than the accepted clock skew either way.
NONCE_TTL = 15 * 60


class MemoryState:
    def __init__(self, message_ttl: float, choices_ttl: float, max_entries: int = 100_000) -> None:
        self._messages = _ExpiringDict(message_ttl, max_entries)
        self._choices = _ExpiringDict(choices_ttl, max_entries)
        self._nonces = _ExpiringDict(NONCE_TTL, max_entries)

    async def first_use(self, key: str) -> bool:
        if self._nonces.get(key) is not None:
            return False
        self._nonces.set(key, "1")
        return True

    async def claim(self, key: str) -> Optional[Record]:
        raw = self._messages.get(key)
        if raw is not None:
            return Record.loads(raw)
        self._messages.set(key, Record(PROCESSING).dumps())
        return None

    async def update(self, key: str, record: Record) -> None:
        self._messages.set(key, record.dumps(), keep_expiry=True)

    async def get_choices(self, sender: str) -> list[Choice]:
        return _choices_loads(self._choices.get(sender))

    async def set_choices(self, sender: str, choices: list[Choice]) -> None:
        if choices:
            self._choices.set(sender, _choices_dumps(choices))
        else:
            self._choices.delete(sender)

    async def close(self) -> None:
        return None


class RedisState:
    def __init__(self, url: str, prefix: str, message_ttl: int, choices_ttl: int) -> None:
        self.url = url
        self.prefix = prefix
        self.message_ttl = message_ttl
        self.choices_ttl = choices_ttl
        self._client = None
        self._pid: Optional[int] = None

    def client(self):
        if self._client is None or self._pid != os.getpid():
            from redis.asyncio import Redis

            self._client = Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
            self._pid = os.getpid()
        return self._client

    def _msg(self, key: str) -> str:
        return f"{self.prefix}msg:{key}"

    def _ch(self, sender: str) -> str:
        return f"{self.prefix}choices:{sender}"

    async def first_use(self, key: str) -> bool:
        return bool(await self.client().set(f"{self.prefix}nonce:{key}", "1", nx=True, ex=NONCE_TTL))

    async def claim(self, key: str) -> Optional[Record]:
        client = self.client()
        if await client.set(self._msg(key), Record(PROCESSING).dumps(), nx=True, ex=self.message_ttl):
            return None
        raw = await client.get(self._msg(key))
        return Record.loads(raw) if raw else Record(PROCESSING)

    async def update(self, key: str, record: Record) -> None:
        await self.client().set(self._msg(key), record.dumps(), xx=True, keepttl=True)

    async def get_choices(self, sender: str) -> list[Choice]:
        return _choices_loads(await self.client().get(self._ch(sender)))

    async def set_choices(self, sender: str, choices: list[Choice]) -> None:
        if choices:
            await self.client().set(self._ch(sender), _choices_dumps(choices), ex=self.choices_ttl)
        else:
            await self.client().delete(self._ch(sender))

    async def close(self) -> None:
        if self._client is not None and self._pid == os.getpid():
            await self._client.close()
        self._client = None

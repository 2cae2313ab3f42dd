"""A Redis lock store whose ticket operations are atomic across processes.

Rasa 3.6's ``RedisLockStore`` changes a conversation's ticket lock by reading it, changing
it in Python and writing it back (``issue_ticket``, ``update_lock``, ``finish_serving``,
``cleanup``). Two processes doing that at the same moment both read the same lock: both
issue themselves the same ticket number and both go ahead. Two messages of one conversation
arriving at two Sanic workers or two replicas at once are then processed in parallel on the
same tracker — the production tests caught this filing one confirmed petition twice (each
run of the form drew its own idempotency key), and it also forks the tracker's history.

``AtomicRedisLockStore`` keeps Rasa's lock format, key names (``<key_prefix>:lock:<id>``) and
waiting behaviour, and runs every read-change-write of a lock as one optimistic Redis
transaction (``WATCH``/``MULTI``/``EXEC``, retried when another process changed the lock in
between), so ticket numbers are unique and a lock is never deleted under a waiting ticket.

endpoints (``deploy/endpoints.prod.yml``)::

    lock_store:
      type: connectors.lockstore.AtomicRedisLockStore
      url: <host>         # and port, db, password, key_prefix: as for `type: redis`
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")
_UNCHANGED = object()  # a change that leaves the stored lock as it is


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` with atomic ticket operations (see the module docstring)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds a lock store of a custom type as `cls(endpoint_config=...)`.
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
            kwargs.pop("type", None)
        super().__init__(**kwargs)

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def _change(
        self,
        conversation_id: Text,
        change: Callable[[Optional[TicketLock]], Tuple[Any, T]],
    ) -> T:
        """Apply ``change`` to the stored lock atomically.

        ``change(lock)`` returns ``(new_lock, result)``: a ``TicketLock`` to store, ``None``
        to delete the lock, or ``_UNCHANGED``; it may run more than once (on contention).
        """
        key = self._key(conversation_id)

        def transaction(pipe: Any) -> T:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new_lock, result = change(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            elif new_lock is not _UNCHANGED:
                pipe.set(key, new_lock.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket, and the lock when nobody else holds a ticket (one step)."""

        def release(lock: Optional[TicketLock]) -> Tuple[Any, bool]:
            if lock is None:
                return _UNCHANGED, False
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return lock, False
            return None, True

        deleted = self._change(conversation_id, release)
        self._log_deletion(conversation_id, deleted)

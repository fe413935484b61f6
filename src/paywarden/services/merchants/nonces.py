"""Seen signature nonces: each (key, nonce) is accepted once within the replay window.

A nonce is claimed by inserting it: the primary key makes a second insert
fail, on SQLite and PostgreSQL alike, however many processes race. A row is
kept until the signature carrying it could no longer be accepted anyway
(``created`` + the window); expired rows are purged now and then.
"""

from __future__ import annotations

import threading

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import request_nonces

PURGE_INTERVAL_NS = 60 * 10**9


class Nonces:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._purged_at = -PURGE_INTERVAL_NS
        self._purge_lock = threading.Lock()

    def claim(self, key_id: str, nonce: str, *, expires_at_ns: int) -> bool:
        """True if this nonce is new for this key; False if it was seen and is still live."""
        now = self._clock.now_ns()
        self._maybe_purge(now)
        try:
            with self._database.engine.begin() as conn:
                # An expired row not yet purged must not refuse a legitimate reuse.
                conn.execute(delete(request_nonces).where(
                    request_nonces.c.key_id == key_id, request_nonces.c.nonce == nonce,
                    request_nonces.c.expires_at <= now))
                conn.execute(insert(request_nonces).values(key_id=key_id, nonce=nonce,
                                                           expires_at=expires_at_ns))
        except IntegrityError:
            return False
        return True

    def purge_expired(self) -> int:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            result = conn.execute(delete(request_nonces).where(request_nonces.c.expires_at <= now))
        return int(result.rowcount)

    def _maybe_purge(self, now: int) -> None:
        with self._purge_lock:
            if now - self._purged_at < PURGE_INTERVAL_NS:
                return
            self._purged_at = now
        self.purge_expired()

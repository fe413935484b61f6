"""Reads that may be a little old go to a replica: statements, history, reports.

``PAYWARDEN_READ_DATABASE_URL`` names the replicas (libpq's
``target_session_attrs=standby`` or ``prefer-standby`` over every member's address);
``PAYWARDEN_READ_STALENESS_S`` bounds how old what they answer may be. Before a replica
is used, and again at most every ``CHECK_EVERY_S``, its lag is read: zero when it has
replayed all it received, else the age of the last transaction it replayed
(``pg_last_xact_replay_timestamp``). A replica further behind than the bound, or one
that cannot be reached, is passed over and the read goes to the primary. Nothing that
writes, and nothing a write decides on, reads here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, text

from .unavailable import is_unavailable

CHECK_EVERY_S = 1.0
LAG_SQL = text(
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = "
    "pg_last_wal_replay_lsn() THEN 0 ELSE coalesce(EXTRACT(EPOCH FROM now() - "
    "pg_last_xact_replay_timestamp()), 1e9) END")


class Replica:
    def __init__(self, url: str, *, staleness_s: float, check_every_s: float = CHECK_EVERY_S,
                 now_s: Callable[[], float] = time.monotonic) -> None:
        self.engine: Engine = create_engine(url, pool_size=4, max_overflow=4,
                                            pool_pre_ping=True)
        self.staleness_s = staleness_s
        self._check_every_s = check_every_s
        self._now_s = now_s
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._fresh = False
        self.lag_s: float | None = None  # as last read; None if unreachable

    def usable(self) -> bool:
        """Fresh enough for a read now (the answer kept for ``check_every_s``)."""
        with self._lock:
            now = self._now_s()
            if self._checked_at is not None and now - self._checked_at < self._check_every_s:
                return self._fresh
            self._checked_at = now
        lag = self._read_lag()
        with self._lock:
            self.lag_s = lag
            self._fresh = lag is not None and lag <= self.staleness_s
            return self._fresh

    def failed(self) -> None:
        """A connection to it failed: primary only until the next check."""
        with self._lock:
            self._fresh = False
            self._checked_at = self._now_s()

    def _read_lag(self) -> float | None:
        try:
            with self.engine.connect() as conn:
                standby, lag = conn.execute(LAG_SQL).one()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            return None
        return float(lag) if standby else None  # a primary here is not a replica

    def dispose(self) -> None:
        self.engine.dispose()

"""When the database is away, not wrong: a failover, a restart, no primary yet.

A PostgreSQL cluster loses its primary now and then (decision 0065). While it has none,
a connection is refused, a connection in use breaks, or one lands on a server that has
just become a replica. None of these is a bug, and nothing was applied: the request is
answered 503 with ``Retry-After``, and a retry under the same id or idempotency key
finds what committed (an acknowledgement lost with the old primary included).
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

# Raised by psycopg itself: the server went away, refused us, or is read-only now.
_DRIVER_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError,
                  pg_errors.ReadOnlySqlTransaction)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or takes no writes now; retry later."""

    code = "database_unavailable"


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the PostgreSQL server is away or read-only."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return isinstance(exc.orig, _DRIVER_ERRORS)
    return isinstance(exc, _DRIVER_ERRORS)


def connection_broken(connection: object) -> bool:
    """A psycopg connection that cannot be used again (a SQLite one never is)."""
    return bool(getattr(connection, "broken", False) or (
        isinstance(connection, psycopg.Connection) and connection.closed))

"""The SQLite database file a serving process writes into, and whether it is still there.

SQLite keeps writing into a file that was deleted or renamed over: its open
descriptors point at the old inode, every commit "succeeds", and all of it is
gone at the next start. A directory made read-only lets the open process go on
too, until SQLite must create its ``-wal`` or ``-shm`` file again. So:

- each driver connection remembers the (st_dev, st_ino) of the file it opened
  (:class:`GuardedConnection`), and after every COMMIT compares it with the file
  now at the path and checks the directory is writable (a ``stat`` and an
  ``access``, microseconds). On a mismatch the commit is reported as failed:
  nothing is acknowledged that went into a lost file;
- :meth:`SqliteFile.check` (run every second by the serving process's
  maintenance thread) compares the path with the identity the process first
  opened, and checks that the directory is still writable.

Either way the loss is sticky: :class:`DatabaseFileLost` (an ``InvariantViolation``)
from then on, and every watcher (the process's fail-stop) is told once.

Replacing the file under a running process is also how a database gets corrupted:
the old ``-wal`` stays beside the new file, and SQLite applies it at the next
open. Put a database back with ``paywarden restore``, which refuses while it is
in use and removes the old ``-wal`` and ``-shm``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...domain.errors import InvariantViolation

Identity = tuple[int, int]  # (st_dev, st_ino)
Watcher = Callable[[str, BaseException | None], None]
_ENDS_TRANSACTION = ("COMMIT", "END")


class DatabaseFileLost(InvariantViolation):
    """The database file at the path is not the one this process writes into."""


class SqliteFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._identity: Identity | None = None
        self._lost: str | None = None
        self._watchers: list[Watcher] = []

    def __repr__(self) -> str:
        return f"SqliteFile({str(self.path)!r}, lost={self._lost!r})"

    @property
    def lost(self) -> str | None:
        """Why the file is lost, or None while it is the one opened."""
        return self._lost

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(reason, error)`` once, when the file is found lost."""
        with self._lock:
            self._watchers.append(watcher)

    def forget(self) -> None:
        """Every connection was closed on purpose (``Database.dispose``): the next one
        opens whatever file is at the path then (a restore swaps it in)."""
        with self._lock:
            self._identity = None

    def opening(self) -> None:
        """Before a new driver connection opens the path: refuse to create an empty file
        where the one this process had open was removed."""
        self.raise_if_lost()
        expected = self._identity
        if expected is not None:
            now = self._stat()
            if now != expected:
                self._fail(self._changed(now, "this process had open"))

    def opened(self, identity: Identity) -> None:
        """A new driver connection opened ``identity``; the first one names the file."""
        with self._lock:
            if self._identity is None and self._lost is None:
                self._identity = identity
                return
            expected = self._identity
        if identity != expected:
            self._fail(f"a new connection opened another file at {self.path} than this "
                       "process had open: it was removed or replaced")

    def committed(self, identity: Identity) -> None:
        """After a commit on a connection that opened ``identity``: still the file at the
        path, in a writable directory? (Two system calls, a few microseconds.)"""
        self.raise_if_lost()
        now = self._stat()
        if now != identity:
            self._fail(self._changed(now, "a commit went into"))
        self._check_directory()

    def check(self) -> None:
        """The periodic check: the file at the path is the one opened; its directory is writable."""
        self.raise_if_lost()
        expected = self._identity
        if expected is not None:
            now = self._stat()
            if now != expected:
                self._fail(self._changed(now, "this process writes into"))
        self._check_directory()

    def raise_if_lost(self) -> None:
        if self._lost is not None:
            raise DatabaseFileLost(self._lost)

    def _check_directory(self) -> None:
        # A read-only directory lets this process go on until SQLite must create its -wal
        # or -shm file again (the next start): stop now, while it can be fixed.
        if not os.access(self.path.parent, os.W_OK):
            self._fail(f"the database directory {self.path.parent} is no longer writable")

    def _stat(self) -> Identity | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def _changed(self, now: Identity | None, what: str) -> str:
        how = "removed" if now is None else "replaced by another file"
        return f"the database file {self.path} that {what} was {how}"

    def _fail(self, reason: str) -> None:
        with self._lock:
            first = self._lost is None
            if first:
                self._lost = reason
            watchers = list(self._watchers) if first else []
        for watcher in watchers:
            watcher(reason, None)  # no exception yet: the watcher logs where this was found
        raise DatabaseFileLost(self._lost or reason)


class GuardedConnection(sqlite3.Connection):
    """A pysqlite connection that checks its file after every commit.

    Both ways a commit is issued are covered: ``commit()`` (SQLAlchemy) and
    ``execute("COMMIT")`` (the ledger writer). A COMMIT sent through a cursor is
    not seen here; the periodic :meth:`SqliteFile.check` still catches the loss.
    """

    guard: SqliteFile | None = None
    identity: Identity = (0, 0)

    def attach(self, guard: SqliteFile) -> None:
        st = os.stat(guard.path)
        self.identity = (st.st_dev, st.st_ino)
        self.guard = guard
        guard.opened(self.identity)

    def commit(self) -> None:
        was = self.in_transaction
        super().commit()
        if was and self.guard is not None:
            self.guard.committed(self.identity)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        was = self.in_transaction
        cursor = super().execute(sql, parameters)
        if (was and not self.in_transaction and self.guard is not None
                and sql.lstrip()[:6].upper().startswith(_ENDS_TRANSACTION)):
            self.guard.committed(self.identity)
        return cursor

"""One serving process per SQLite file.

Several processes may write one SQLite file (commands beside a server), but a
second *server* on it is almost always a mistake: a second ``make run`` on
another port, an old server left running. Both would answer, each with its own
background chores and in-memory state, and nobody would be told. So a server
holds an exclusive ``flock`` on ``<file>.serving`` while it runs; a second one
is refused at once, naming the first one's pid. The kernel drops the lock when
the process ends, however it ends, so a crash leaves nothing to clean up.
PostgreSQL deployments run several servers behind a load balancer on purpose:
no lock there.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SUFFIX = ".serving"


class AlreadyServed(Exception):
    """Another process serves this SQLite file; ``pid`` as it wrote it (may be None)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is served by another process (pid {pid})")
        self.path = path
        self.pid = pid


class ServingLock:
    """Held from :meth:`take` until :meth:`release` or the end of the process."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    @classmethod
    def take(cls, database_file: Path) -> ServingLock:
        path = database_file.with_name(database_file.name + SUFFIX)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyServed(database_file, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None

"""SQLite WAL checkpoints off the ledger writer's path, on a thread of their own.

With ``wal_autocheckpoint``, the connection whose COMMIT pushes the WAL past its
threshold copies the WAL back into the database file and fsyncs it, inside that
COMMIT: every few batches the ledger writer's commit took 20-180 ms instead of
5-15 (decision 0003), a sixth of its time and its worst batches. Here a thread
with its own connection runs a PASSIVE checkpoint after each commit the writer
reports: it never waits for and never blocks the writer, and the copying and the
fsync release the GIL, so they run on the other core while the next batch is
applied.

Durability does not change: a commit is durable once the WAL is fsynced
(``synchronous=FULL``), before and after this. The writer keeps an automatic
checkpoint of its own at ``FALLBACK_PAGES``, so the WAL stays bounded should this
thread fall behind or fail. It also lets the WAL start over: a busy writer begins
its next batch before this thread's checkpoint ends, so the WAL is never wholly
copied back when a batch begins; the fallback's checkpoint in a commit then has
only the last batch or two left to copy, and the next batch rewinds the WAL.
"""

from __future__ import annotations

import threading
from typing import Any

import structlog

from ...adapters.store import Database

log = structlog.get_logger(__name__)

FALLBACK_PAGES = 4_096  # the writer's own autocheckpoint: 16 MiB of WAL at 4 KiB pages
IDLE_S = 1.0  # a checkpoint at least this often while anything was committed


class Checkpointer:
    def __init__(self, database: Database, *, wait_s: float) -> None:
        self._database = database
        self._wait_s = wait_s
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> Checkpointer:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ledger-checkpointer",
                                        daemon=True)
        self._thread.start()
        return self

    def committed(self) -> None:
        """The writer committed: the WAL has grown."""
        self._wanted.set()

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wanted.set()
        thread.join(self._wait_s)
        if thread.is_alive():
            log.error("ledger.checkpointer_stuck", wait_s=self._wait_s)
        self._thread = None

    def _run(self) -> None:
        proxy: Any = None
        try:
            proxy = self._database.raw_connection()
            conn = proxy.driver_connection
            proxy.detach()  # its own until it stops: the platform's pool keeps all its places
            while not self._stopping:
                if not self._wanted.wait(IDLE_S):
                    continue
                self._wanted.clear()
                if self._stopping:
                    break
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception as exc:  # noqa: BLE001 - the writer's fallback bounds the WAL
            log.error("ledger.checkpointer_failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            if proxy is not None:
                proxy.close()

"""The ids that failed for good, kept in the engine so that a batch need not look them up.

Probing ``transfers_failed`` for a full batch's 8,190 ids costs 2-4 ms on SQLite
(2-4% of the batch). The table only ever grows, and its timestamps only ever
increase (they are handed out under the ledger's lock), so the engine keeps
every failed id in a set and, whenever another process wrote since its last
batch, reads only the rows newer than the newest it has seen: an empty range
scan, usually. The set is complete while it holds at most ``ids_max`` ids;
beyond that (give or take one batch) it is dropped, and every batch probes the
table for its own ids.

The ``Book`` adds a batch's new failures to the set as it applies the batch;
if the batch is rolled back, ``forget`` drops the set, like the cached accounts.
"""

from __future__ import annotations

from collections.abc import Collection

import structlog

from ...adapters.store.ledger_writer import LedgerWriter

log = structlog.get_logger(__name__)

FAILED_IDS_CACHED_MAX = 100_000


class FailedIds:
    def __init__(self, ids_max: int = FAILED_IDS_CACHED_MAX) -> None:
        self._ids_max = ids_max
        self._ids: set[str] | None = set()  # None: too many to keep, probe instead
        self._newest = 0  # timestamp of the newest failed row read

    def forget(self) -> None:
        """A batch was rolled back: what it added may not be stored. Read all again."""
        if self._ids is not None:
            self._ids = set()
            self._newest = 0

    def catch_up(self, writer: LedgerWriter) -> None:
        """Under the ledger's lock, after another writer committed: read its failures."""
        if self._ids is None:
            return
        room = self._ids_max - len(self._ids)
        rows = writer.failed_since(self._newest, room + 1)
        self._ids.update(tid for tid, _ in rows)
        if rows:
            self._newest = rows[-1][1]
        self._bound()

    @property
    def complete(self) -> bool:
        """Whether the set holds every failed id (else each batch probes for its own)."""
        return self._ids is not None

    def for_batch(self, writer: LedgerWriter, batch_ids: Collection[str]) -> set[str]:
        """Every failed id among ``batch_ids`` (the set may hold others too)."""
        if self._ids is None:
            return writer.failed_ids(batch_ids)
        return self._ids

    def committed(self, newest: int) -> None:
        """A batch committed, its newest failed row at ``newest`` (already in the set)."""
        self._newest = max(self._newest, newest)
        self._bound()

    def _bound(self) -> None:
        if self._ids is not None and len(self._ids) > self._ids_max:
            log.info("ledger.failed_ids_probed", ids_max=self._ids_max)
            self._ids = None

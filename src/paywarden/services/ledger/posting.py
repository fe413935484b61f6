"""Ledger transfers applied inside the caller's transaction, for changes that must commit
together with their ledger movements (a payment's state, its audit entry, its webhook).

The engine's group commit is for throughput; this path is for atomicity. Both
take the single ``ledger_state`` lock first, so they apply one after the other and
timestamps stay ordered; the engine notices the version moved and reloads its
cached accounts. Take this lock first in the transaction (before reading rows
you will update): lock order is ledger_state → your rows → audit_head.

An id's outcome never changes here either: every id is looked up first, so a
stored id is answered ``exists`` (or ``exists_with_different_fields``) and an id
that failed for good ``id_already_failed``, before any balance, state or account
check. Unlike the engine, this path records no failures: its caller's whole
transaction rolls back when any transfer fails (an escrow payment refused for
want of funds, say), and a failure written in it would vanish with it anyway.
That is also what the caller needs: a payment's legs are named
``{payment_id}.{version}.{i}`` and must stay retryable after the buyer tops up.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from ...adapters.store.ledger_writer import writer_for
from ...domain.ledger import Book, Transfer, TransferResult
from .. import audit
from .batch_events import batch_event
from .engine import index_loaded


class Ledger:
    """The ledger as one transaction sees it, locked for writing."""

    def __init__(self, conn: Connection) -> None:
        if not conn.in_transaction():
            conn.begin()
        self._writer = writer_for(conn.dialect.name, conn.connection)
        self.version, self.last_timestamp = self._writer.lock()

    def post(self, transfers: Sequence[Transfer], *, now_ns: int,
             actor: str = audit.SYSTEM) -> list[TransferResult]:
        """Apply ``transfers`` (make them one linked chain to get all or nothing); written and
        audited only if every one is ``ok``. The caller commits or rolls back."""
        writer = self._writer
        base = max(now_ns, self.last_timestamp + 1)
        own = [t.id for t in transfers if type(t.id) is str]
        ids = {*own, *(t.pending_id for t in transfers if type(t.pending_id) is str)}
        stored, pendings = index_loaded(writer.load_transfers(ids))
        failed = writer.failed_ids(own)
        wanted = {t.debit_account_id for t in transfers} | {t.credit_account_id for t in transfers}
        wanted |= {p.debit_account_id for p in pendings.values()}
        wanted |= {p.credit_account_id for p in pendings.values()}
        accounts = {a.id: a for a in writer.load_accounts({i for i in wanted if type(i) is int})}
        book = Book(accounts, stored, pendings, failed)  # records nothing: see above
        results = book.apply(transfers, base)
        if any(r is not TransferResult.OK for r in results):
            return results
        last = base + len(transfers) - 1
        writer.write_book(book, accounts)
        writer.bump(self.version + 1, last)
        writer.append_audit([batch_event(at_ns=now_ns, version=self.version, first=base,
                                         last=last, book=book, actor=actor)])
        self.version, self.last_timestamp = self.version + 1, last
        return results

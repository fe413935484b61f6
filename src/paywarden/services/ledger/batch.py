"""The ledger shared by many units of work in one transaction: the group commit of
payment transitions (and of every later capability that moves money with a state
change, docs/decisions/0017).

The order inside the caller's transaction:

    LedgerBatch(writer, now_ns)
    load(chains, accounts, reads) lock the ledger (ledger_state), as posting.Ledger does, and
                                  read every account and stored id the batch names, and the
                                  caller's own reads (on PostgreSQL all in one round trip);
                                  missing accounts are created here, in this transaction
    apply(chain)                  per unit: validate-then-apply in memory; a refused chain
                                  leaves no trace (Book undoes a linked chain)
    flush(at_ns, actor)           write every row once, bump the ledger's version; returns
                                  the audit events the caller appends with its own

Nothing is written before ``flush``, so a unit that is refused after its chain was
applied cannot exist: apply the chain last among a unit's refusable checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...adapters.store.ledger_writer import LedgerWriter, Read
from ...domain.audit.leaves import Event
from ...domain.errors import InvariantViolation
from ...domain.ledger import Account, Book, Transfer, TransferResult
from ...domain.ledger.digests import rows_digest
from .. import audit
from .batch_events import batch_event, ledger_event
from .engine import NewAccount, index_loaded


class LedgerBatch:
    def __init__(self, writer: LedgerWriter, *, now_ns: int) -> None:
        self._writer = writer
        self._now_ns = now_ns
        self.version = 0
        self._first = self._ts = now_ns
        self._created: list[Account] = []
        self._loaded = False
        self.book = Book({}, {}, {})

    def load(self, chains: Iterable[Sequence[Transfer]], accounts: Sequence[NewAccount],
             reads: Mapping[str, Read] | None = None) -> dict[str, list[Any]]:
        """Lock the ledger and read what the batch's chains need; create the ``accounts``
        that do not exist. ``reads``: the caller's own reads, made under the lock in the
        same round trip where the database allows (their rows, by key)."""
        if self._loaded:
            raise InvariantViolation("a ledger batch is loaded once, before any chain")
        self._loaded = True
        ids: set[str] = set()
        own: list[str] = []
        wanted = {a.id for a in accounts}
        for chain in chains:
            for t in chain:
                ids.add(t.id)
                own.append(t.id)
                if t.pending_id is not None:
                    ids.add(t.pending_id)
                wanted.add(t.debit_account_id)
                wanted.add(t.credit_account_id)
        got = self._writer.lock_and_load(ids, own, wanted, reads or {})
        self.version = got.version
        self._first = self._ts = max(self._now_ns, got.last_timestamp + 1)
        stored, pendings = index_loaded(got.transfers)
        found = {a.id: a for a in got.accounts}
        behind = ({p.debit_account_id for p in pendings.values()}
                  | {p.credit_account_id for p in pendings.values()}) - wanted
        if behind:  # accounts of stored pending transfers the chains did not name
            found.update((a.id, a) for a in self._writer.load_accounts(behind))
        # Records no failures (as posting.Ledger): a unit refused for want of funds is
        # prepared again under the same leg ids once the buyer tops up.
        book = Book(found, stored, pendings, got.failed)
        for new in accounts:
            if new.id not in book.accounts:
                account = Account(new.id, new.ledger, new.code, new.flags, new.user_data,
                                  self._ts)
                self._ts += 1
                book.accounts[new.id] = account
                self._created.append(account)
        self.book = book
        return got.reads

    def apply(self, chain: Sequence[Transfer]) -> list[TransferResult]:
        """Apply one unit's chain (make it linked for all or nothing)."""
        if not self._loaded:
            raise InvariantViolation("a ledger batch applied a chain before loading")
        results = self.book.apply(chain, self._ts)
        self._ts += len(chain)
        return results

    def flush(self, *, at_ns: int, actor: str = audit.SYSTEM) -> list[Event]:
        """Write the batch; returns its audit events (accounts created, transfers)."""
        writer, book = self._writer, self.book
        events: list[Event] = []
        if self._created:
            writer.insert_accounts(self._created)
            created = [(a.id, a.ledger, a.code, a.user_data, a.timestamp) for a in self._created]
            events.append(ledger_event(
                "ledger.accounts_created", f"ledger:{self.version + 1}", at_ns=at_ns,
                version=self.version, first=self._created[0].timestamp,
                last=self._created[-1].timestamp, actor=actor,
                after={"accounts": len(created), "digest": rows_digest(created)}))
        if book.rows:
            writer.write_book(book, book.accounts)
            events.append(batch_event(at_ns=at_ns, version=self.version, first=self._first,
                                      last=self._ts - 1, book=book, actor=actor))
        if events:
            writer.bump(self.version + 1, self._ts - 1)
            self.version += 1
        return events

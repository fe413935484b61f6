"""Deferred net settlement on the hub: positions under each participant's net debit cap,
windows closed and settled on the hub's ledger (decision 0057; the rules are
domain/clearing/positions.py).

The hub calls :class:`NetPositions` inside its own unit of work, so a position commits
with the transfer's status, its messages and its audit entry, or not at all:

    reserve(batch, uetr, payer, payee, amount, currency) -> bool   False: over the limit
    commit(batch, uetr)          the decider settled it: it joins the open window
    release(batch, uetr)         the decider rejected it: the reservation is given back
    check_withdrawal(batch, bic, currency, amount)   before liquidity leaves a settlement
                                 account (pacs.009 out): the exposure stays covered

The limit is min(cap, settlement balance): the cap from ``caps(bic)``, the balance
(credits posted − debits posted − debits pending) of the participant's
CLEARING_SETTLEMENT account as this batch sees it. A batch starts from a snapshot of the
currency's unsettled windows and totals, read once, and replays over it the changes the
earlier units of the batch queued and still hold (``Batch.queued``: a refused unit's are
gone), so two reservations in one group commit cannot both spend the same headroom.

``close`` and ``settle`` are units of their own. Settling writes one linked chain: each
net debtor's obligation from its settlement account to the currency's NET_SETTLEMENT
account, then from there to each net creditor; with the window marked settled and the
audit entry, in one transaction: a settle cut short anywhere happened whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Executable, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import accounts, net_windows
from ...domain.clearing.positions import (
    Change,
    NetBook,
    Position,
    PositionState,
    Window,
    WindowState,
)
from ...domain.errors import DomainError, InvariantViolation
from ...domain.ledger import Transfer, TransferFlags
from ...domain.ledger.chart import AccountKind, TransferCode
from ...domain.money import check_currency
from .. import audit
from ..crashpoints import CrashPoints
from ..ledger.accounts import AccountRef, new_account, platform_account
from ..ledger.engine import NewAccount
from ..writepath import Batch, GroupWriter
from . import net_rows

WINDOWS_SHOWN_MAX = 100
CYCLE_ACTOR = "system:clearing-cycle"
Caps = Callable[[str], int]  # a participant's net debit cap, minor units


class NetPositions(Protocol):
    """What the hub calls, inside its unit of work."""

    def reserve(self, batch: Batch, uetr: str, payer: str, payee: str, amount: int,
                currency: str) -> bool: ...
    def commit(self, batch: Batch, uetr: str) -> None: ...
    def release(self, batch: Batch, uetr: str) -> None: ...


@dataclass
class _InBatch:
    """One currency's state for one batch: the stored snapshot, the positions read this
    batch, and the changes earlier units queued (row by row)."""

    snapshot: net_rows.Snapshot
    loaded: dict[str, Position] = field(default_factory=dict)
    queued: list[tuple[Executable, dict[str, Any], Change]] = field(default_factory=list)
    book: NetBook | None = None  # snapshot + queued, kept while no unit was forgotten
    balances: dict[str, int] = field(default_factory=dict)  # stored: unchanged this batch
    marks: dict[Executable, tuple[int, dict[str, Any] | None]] = field(default_factory=dict)

    def intact(self, batch: Batch) -> bool:
        """No row this state has seen queued was dropped since (a forgotten unit's rows
        are cut from the end of each statement's list, so the last one seen tells)."""
        for statement, (length, last) in self.marks.items():
            rows = batch.queued(statement)
            if len(rows) < length or (length and rows[length - 1] is not last):
                return False
        return True

    def mark(self, batch: Batch, statements: tuple[Executable, ...]) -> None:
        for statement in statements:
            rows = batch.queued(statement)
            self.marks[statement] = (len(rows), rows[-1] if rows else None)


@dataclass(frozen=True)
class WindowView:
    id: str
    currency: str
    state: WindowState
    opened_ns: int
    closed_ns: int | None
    settled_ns: int | None
    positions: dict[str, int]  # participant → credits − debits committed

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "currency": self.currency, "state": str(self.state),
                "opened_ns": self.opened_ns, "closed_ns": self.closed_ns,
                "settled_ns": self.settled_ns, "positions": self.positions,
                "sum": sum(self.positions.values())}


@dataclass(frozen=True)
class Settlement:
    window_id: str
    currency: str
    obligations: dict[str, int]
    transfer_ids: tuple[str, ...]

    def public(self) -> dict[str, Any]:
        return {"window_id": self.window_id, "currency": self.currency,
                "obligations": self.obligations, "transfers": list(self.transfer_ids)}


def settlement_account(bic: str, currency: str) -> AccountRef:
    return AccountRef(AccountKind.CLEARING_SETTLEMENT, bic, currency)


def settlement_chain(wid: str, currency: str, owed: dict[str, int]) -> list[Transfer]:
    """Debtors into NET_SETTLEMENT first, then out to creditors: linked, all or nothing;
    the pass-through account may not go below zero, so it ends where it began."""
    net = platform_account(AccountKind.NET_SETTLEMENT, currency)
    legs: list[Transfer] = []
    for bic, amount in sorted(owed.items(), key=lambda item: (item[1] > 0, item[0])):
        if amount == 0:
            continue
        ours = settlement_account(bic, currency)
        debit, credit = (ours, net) if amount < 0 else (net, ours)
        legs.append(Transfer(f"net:{wid}:{bic}", debit.id, credit.id, abs(amount), net.ledger,
                             int(TransferCode.CLEARING_NET), int(TransferFlags.LINKED),
                             user_data=wid))
    if legs:
        legs[-1] = legs[-1]._replace(flags=0)
    return legs


class NetWindows:
    def __init__(self, database: Database, *, writer: GroupWriter, clock: Clock, caps: Caps,
                 crash_at: str | None = None) -> None:
        self._database = database
        self._writer = writer
        self._clock = clock
        self._caps = caps
        self._crash = CrashPoints(crash_at, prefix="clearing.net.")

    # -- inside the hub's unit of work -------------------------------------------------------

    def reserve(self, batch: Batch, uetr: str, payer: str, payee: str, amount: int,
                currency: str) -> bool:
        """Reserve under the payer's limit; False over it (the hub answers AM04). The same
        UETR again answers as the first time did; with other fields it is refused."""
        book, state = self._book(batch, check_currency(currency))
        known = self._find(batch, uetr)
        if known is not None:
            if not known.same_transfer(payer, payee, amount, currency):
                raise DomainError("position_exists_with_different_fields",
                                  f"net position {uetr} exists with other fields")
            return known.state is not PositionState.RELEASED
        limit = min(self._caps(payer), self.balance(batch, payer, currency))
        changes = book.reserve(uetr, payer, payee, amount, limit=max(0, limit))
        if changes is None:
            return False
        self._queue(batch, state, currency, changes)
        return True

    def commit(self, batch: Batch, uetr: str) -> None:
        position = self._located(batch, uetr)
        book, state = self._book(batch, position.currency)
        self._queue(batch, state, position.currency, book.commit(uetr, now_ns=batch.now_ns))

    def release(self, batch: Batch, uetr: str) -> None:
        position = self._located(batch, uetr)
        book, state = self._book(batch, position.currency)
        self._queue(batch, state, position.currency, book.release(uetr))

    def check_withdrawal(self, batch: Batch, bic: str, currency: str, amount: int) -> None:
        """Call before the withdrawal's chain is posted: ``net_exposure_uncovered`` when it
        would leave the settlement balance below the participant's exposure."""
        book, _ = self._book(batch, currency)
        book.check_withdrawal(bic, balance=self.balance(batch, bic, currency), amount=amount)

    def balance(self, batch: Batch, bic: str, currency: str) -> int:
        """What the settlement account holds for this batch: the ledger's in-batch state if
        a chain of the batch touched it, else the stored one (unchanged this batch)."""
        ref = settlement_account(bic, currency)
        account = batch.ledger.book.accounts.get(ref.id)  # the batch's accounts: fixed at load
        if account is not None:
            dp, dpo, _, cpo = account.balances()
            return cpo - dpo - dp
        stored = self._state(batch, currency).balances
        if bic not in stored:
            a = accounts.c
            row = batch.conn.execute(select(a.debits_pending, a.debits_posted,
                                            a.credits_posted).where(a.id == ref.id)).first()
            stored[bic] = 0 if row is None else (row.credits_posted - row.debits_posted
                                                 - row.debits_pending)
        return stored[bic]

    # -- the batch's view ----------------------------------------------------------------

    def _state(self, batch: Batch, currency: str) -> _InBatch:
        key = f"net:{currency}"
        state = batch.cache.get(key)
        if state is None:
            state = batch.cache[key] = _InBatch(net_rows.snapshot(batch.conn, currency))
        if not isinstance(state, _InBatch):
            raise InvariantViolation(f"batch cache {key} holds a {type(state).__name__}")
        return state

    def _book(self, batch: Batch, currency: str) -> tuple[NetBook, _InBatch]:
        """The currency's book as this unit must see it. Built once per batch and kept up
        to date by :meth:`_queue`; rebuilt from the snapshot and the changes still queued
        only after a unit of the batch was refused (its changes are gone)."""
        state = self._state(batch, currency)
        if state.book is not None and state.intact(batch):
            return state.book, state
        statements = net_rows.upserts(batch.conn.dialect.name)
        live = {id(row) for s in statements.all for row in batch.queued(s)}
        state.queued = [q for q in state.queued if id(q[1]) in live]
        snap = state.snapshot
        book = NetBook(currency, windows=snap.windows, totals=snap.totals,
                       reserved=snap.reserved, number_max=snap.number_max,
                       positions=state.loaded.values())
        for _, _, change in state.queued:
            book.apply(change)
        state.book = book
        state.mark(batch, statements.all)
        return book, state

    def _queue(self, batch: Batch, state: _InBatch, currency: str,
               changes: Sequence[Change]) -> None:
        statements = net_rows.upserts(batch.conn.dialect.name)
        for change in changes:
            statement, row = net_rows.row_of(statements, change, currency=currency,
                                             now_ns=batch.now_ns)
            batch.later(statement, row)
            state.queued.append((statement, row, change))
        state.mark(batch, statements.all)

    def _find(self, batch: Batch, uetr: str) -> Position | None:
        """The position as this batch sees it: queued earlier in the batch, or stored."""
        for key, state in list(batch.cache.items()):
            if key.startswith("net:") and isinstance(state, _InBatch):
                book, _ = self._book(batch, key[4:])
                if uetr in book.positions:
                    return book.positions[uetr]
        stored = net_rows.stored_position(batch.conn, uetr)
        if stored is not None:
            state = self._state(batch, stored.currency)
            state.loaded[uetr] = stored
            if state.book is not None:
                state.book.apply(stored)
        return stored

    def _located(self, batch: Batch, uetr: str) -> Position:
        position = self._find(batch, uetr)
        if position is None:
            raise DomainError("position_not_found", f"no net position {uetr}")
        return position

    # -- windows: units of their own ------------------------------------------------------

    def close(self, currency: str, *, actor: str, window: str | None = None) -> Window:
        """Close the currency's open window (its obligations are final) and open the next.
        ``window``: close that window only; once it is closed (or settled) it is answered
        as it stands, so a retried close never closes the next window in its stead."""
        unit = _CloseUnit(self, check_currency(currency), actor, window)
        result: Window = self._writer.execute(unit)
        return result

    def settle(self, wid: str, *, actor: str) -> Settlement:
        """Settle a closed window's obligations in one linked chain, once."""
        with self._database.engine.connect() as conn:
            window = net_rows.stored_window(conn, wid)
            if window is None:
                raise DomainError("window_not_found", f"no net window {wid}")
            if window.state is WindowState.SETTLED:
                raise DomainError("window_settled", f"net window {wid} is settled already")
            if window.state is WindowState.OPEN:
                raise DomainError("window_open", f"net window {wid} is open: close it first")
            totals = net_rows.window_totals(conn, [wid])[wid]
        owed = {p: cr - dr for p, (dr, cr) in totals.items()}
        chain = settlement_chain(wid, window.currency, owed)
        refs = [platform_account(AccountKind.NET_SETTLEMENT, window.currency)] + [
            settlement_account(bic, window.currency) for bic in sorted(owed)]
        unit = _SettleUnit(self, window, owed, chain, [new_account(r) for r in refs], actor)
        result: Settlement = self._writer.execute(unit)
        return result

    def cycle(self, every_s: float) -> int:
        """The settlement cycle: close each open window at least ``every_s`` old that
        holds committed positions, then settle every closed window; the number settled.
        A window settled meanwhile by hand is passed over."""
        oldest = self._clock.now_ns() - int(every_s * 1_000_000_000)
        for view in self.windows():
            if view.state is WindowState.OPEN and view.positions and view.opened_ns <= oldest:
                self.close(view.currency, actor=CYCLE_ACTOR)
        settled = 0
        for view in self.windows():
            if view.state is not WindowState.CLOSED:
                continue
            try:
                self.settle(view.id, actor=CYCLE_ACTOR)
            except DomainError as exc:
                if exc.code != "window_settled":
                    raise
                continue
            settled += 1
        return settled

    def windows(self, currency: str | None = None) -> list[WindowView]:
        """The newest windows first, at most WINDOWS_SHOWN_MAX, with their positions."""
        query = select(net_windows).order_by(net_windows.c.opened_ns.desc(),
                                             net_windows.c.number.desc())
        if currency is not None:
            query = query.where(net_windows.c.currency == currency)
        with self._database.engine.connect() as conn:
            found = [net_rows.window_from(r)
                     for r in conn.execute(query.limit(WINDOWS_SHOWN_MAX))]
            totals = net_rows.window_totals(conn, [w.id for w in found])
        return [WindowView(w.id, w.currency, w.state, w.opened_ns, w.closed_ns, w.settled_ns,
                           {p: cr - dr for p, (dr, cr) in totals[w.id].items()})
                for w in found]

    def _window_for_settle(self, batch: Batch, wid: str, currency: str) -> NetBook:
        book, _ = self._book(batch, currency)
        if wid not in book.windows:  # settled before this batch, so not in its snapshot
            stored = net_rows.stored_window(batch.conn, wid)
            if stored is not None:
                book.apply(stored)
        return book


@dataclass
class _CloseUnit:
    service: NetWindows
    currency: str
    actor: str
    window: str | None = None
    chain: tuple[()] = ()
    accounts: tuple[NewAccount, ...] = ()
    savepoint: bool = False
    _closed: Window | None = None

    def run(self, batch: Batch) -> None:
        s = self.service
        book, state = s._book(batch, self.currency)
        open_now = book.open_window
        if self.window is not None and (open_now is None or open_now.id != self.window):
            known = book.windows.get(self.window) or net_rows.stored_window(batch.conn,
                                                                            self.window)
            if known is None or known.currency != self.currency:
                raise DomainError("window_not_found", f"no net window {self.window} in "
                                  f"{self.currency}")
            self._closed = known  # closed before: as it stands, nothing more is closed
            return
        closed, changes = book.close(now_ns=batch.now_ns)
        s._queue(batch, state, self.currency, changes)
        batch.audit(audit.entry(at_ns=batch.now_ns, actor=self.actor,
                                action="clearing.window_closed", object_id=closed.id,
                                detail={"currency": self.currency},
                                after=book.obligations(closed.id)))
        self._closed = closed

    def result(self) -> Window:
        if self._closed is None:
            raise InvariantViolation("a window close committed without closing a window")
        return self._closed


@dataclass
class _SettleUnit:
    service: NetWindows
    window: Window
    owed: dict[str, int]
    chain: list[Transfer]
    accounts: list[NewAccount]
    actor: str
    savepoint: bool = False
    _done: Settlement | None = None

    def run(self, batch: Batch) -> None:
        s, wid = self.service, self.window.id
        book = s._window_for_settle(batch, wid, self.window.currency)
        owed, changes = book.settle(wid, now_ns=batch.now_ns)
        if owed != self.owed:
            raise InvariantViolation(f"window {wid} changed after it closed: {owed} is not "
                                     f"{self.owed}")
        _, state = s._book(batch, self.window.currency)
        s._queue(batch, state, self.window.currency, changes)
        batch.post(self.chain)
        s._crash.reached("clearing.net.settle_posted")
        batch.audit(audit.entry(at_ns=batch.now_ns, actor=self.actor,
                                action="clearing.window_settled", object_id=wid,
                                detail={"currency": self.window.currency,
                                        "transfers": len(self.chain)}, after=owed))
        self._done = Settlement(wid, self.window.currency, owed,
                                tuple(t.id for t in self.chain))

    def result(self) -> Settlement:
        if self._done is None:
            raise InvariantViolation("a window settle committed without settling")
        return self._done

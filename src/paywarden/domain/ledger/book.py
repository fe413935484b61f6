"""Applying transfers to the slice of ledger state a batch needs.

The caller loads into a ``Book`` every account, stored transfer and pending
state the batch refers to, calls ``apply`` once per submission, and then
writes out ``rows``, ``new_pendings``, ``changed_pendings`` and the accounts in
``dirty``. Nothing here does I/O, so the same rules run against SQLite,
PostgreSQL and the in-memory model of the property tests.

A transfer is checked in full before it touches any balance, so a single
failing transfer needs no undo. Only a linked chain that fails part-way is
rolled back, from an undo log kept while the chain is open.

An id's outcome never changes (TigerBeetle's order of checks): after the
transfer's own shape, its id is answered first — ``exists`` or
``exists_with_different_fields`` if a transfer with that id is stored,
``id_already_failed`` if the id is among ``failed`` — before any account,
balance or pending state is looked at. With ``record_failures``, a transfer
refused with one of ``RECORDED_FAILURES`` joins ``failed`` (and ``failed_rows``,
to be written) even when its linked chain is undone, so that its retry cannot
succeed later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import InvariantViolation
from .model import (
    AMOUNT_MAX,
    SYSTEM_ID_PREFIX,
    Account,
    AccountFlags,
    Pending,
    PendingState,
    Row,
    Transfer,
    TransferFlags,
)
from .results import RECORDED_FAILURES
from .results import TransferResult as R
from .shape import check_transfer

_LINKED = int(TransferFlags.LINKED)
_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING)
_VOID = int(TransferFlags.VOID_PENDING)
_RESOLVE = _POST | _VOID
_CLOSED = int(AccountFlags.CLOSED)
_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
_EXPIRY = int(TransferFlags.EXPIRY)
_NS_PER_S = 1_000_000_000
_OK = R.OK
_EXISTS = R.EXISTS
_CHAIN_OPEN = R.LINKED_EVENT_CHAIN_OPEN

Stored = tuple[Any, ...]  # a transfer row laid out as ``Row`` describes


class Book:
    """Ledger state for one batch, and the changes the batch makes to it."""

    def __init__(
        self,
        accounts: dict[int, Account],
        transfers: dict[str, Stored],
        pendings: dict[int, Pending],
        failed: set[str] | None = None,
        *,
        record_failures: bool = False,
    ) -> None:
        self.accounts = accounts
        self.transfers = transfers  # by id: stored rows, then rows added here
        self.pendings = pendings  # by timestamp of the pending transfer
        self.failed = set() if failed is None else failed  # ids that failed for good
        self.record_failures = record_failures
        self.failed_rows: list[tuple[object, ...]] = []  # laid out as FAILED_COLUMNS
        self.rows: list[Stored] = []
        self.new_pendings: list[Pending] = []
        self.changed_pendings: list[Pending] = []
        self.dirty: set[int] = set()
        self._undo: list[tuple[Account, tuple[int, int, int, int], int]] | None = None
        self._undo_pendings: list[tuple[Pending, int]] = []

    # -- transfers -------------------------------------------------------

    def apply(self, transfers: Sequence[Transfer], timestamp_base: int) -> list[R]:
        """Apply ``transfers`` in order; event ``i`` gets timestamp ``timestamp_base + i``.

        A chain still open at the end of ``transfers`` fails as a whole.
        """
        results: list[R] = []
        append = results.append
        apply_one = self._apply_one
        record = self.record_failures
        chain_start = -1
        chain_failed = False
        last = len(transfers) - 1
        ts = timestamp_base - 1
        for i, t in enumerate(transfers):
            ts += 1
            flags = t.flags
            if flags.__class__ is int:  # the common case, without isinstance
                linked = flags & _LINKED
            else:
                linked = isinstance(flags, int) and flags.__class__ is not bool and flags & _LINKED
            if chain_start < 0 and not linked:  # outside any chain: the hot path
                result = apply_one(t, ts)
                append(result)
                if result is not _OK and record and result in RECORDED_FAILURES:
                    self._record_failure(t, ts, result)
                continue
            if chain_start < 0:
                chain_start = i
                chain_failed = False
                self._begin_chain()
            if chain_failed:
                append(R.LINKED_EVENT_FAILED)
            elif linked and i == last:
                append(_CHAIN_OPEN)  # never tried, so never recorded as failed
            else:
                result = apply_one(t, ts)
                append(result)
                if result is not _OK and record and result in RECORDED_FAILURES:
                    self._record_failure(t, ts, result)
                if result is not _OK and result is not _EXISTS:
                    self._fail_chain(results, chain_start, i)
                    chain_failed = True
            if not linked:
                chain_start = -1
                chain_failed = False
                self._undo = None
        if chain_start >= 0:
            if not chain_failed:
                self._fail_chain(results, chain_start, len(transfers))
            results[-1] = _CHAIN_OPEN
            self._undo = None
        return results

    def _apply_one(self, t: Transfer, ts: int) -> R:
        shape = check_transfer(t)
        if shape is not None:
            return shape
        tid, dr_id, cr_id, amount, ledger, code, flags, _, timeout_s, user_data = t
        transfers = self.transfers
        existing = transfers.get(tid)
        if existing is not None:
            return _compare_existing(t, existing, transfers)
        if tid in self.failed:
            return R.ID_ALREADY_FAILED
        if flags & _RESOLVE:
            return self._resolve(t, ts)
        accounts = self.accounts
        dr = accounts.get(dr_id)
        if dr is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        cr = accounts.get(cr_id)
        if cr is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        if dr.ledger != ledger or cr.ledger != ledger:
            return R.LEDGER_MISMATCH
        dr_flags = dr.flags
        cr_flags = cr.flags
        if (dr_flags | cr_flags) & _CLOSED:
            return R.ACCOUNT_CLOSED
        dr_dpe = dr.debits_pending
        dr_dpo = dr.debits_posted
        cr_cpe = cr.credits_pending
        cr_cpo = cr.credits_posted
        debits = dr_dpe + dr_dpo + amount  # type: ignore[operator]
        credits = cr_cpe + cr_cpo + amount  # type: ignore[operator]
        if debits > AMOUNT_MAX:
            return R.OVERFLOWS_DEBITS
        if credits > AMOUNT_MAX:
            return R.OVERFLOWS_CREDITS
        if dr_flags & _DMNEC and debits > dr.credits_posted:
            return R.EXCEEDS_CREDITS
        if cr_flags & _CMNED and credits > cr.debits_posted:
            return R.EXCEEDS_DEBITS
        pending = flags & _PENDING
        expires_at = None
        if pending and timeout_s:
            expires_at = ts + timeout_s * _NS_PER_S
            if expires_at > AMOUNT_MAX:
                return R.OVERFLOWS_TIMEOUT
        if self._undo is not None:
            self._remember(dr)
            self._remember(cr)
        dirty = self.dirty
        dirty.add(dr_id)
        dirty.add(cr_id)
        if pending:
            dr.debits_pending = dr_dpe = dr_dpe + amount  # type: ignore[operator]
            cr.credits_pending = cr_cpe = cr_cpe + amount  # type: ignore[operator]
            record = Pending(ts, dr_id, cr_id, amount, expires_at)  # type: ignore[arg-type]
            self.pendings[ts] = record
            self.new_pendings.append(record)
        else:
            dr.debits_posted = dr_dpo = dr_dpo + amount  # type: ignore[operator]
            cr.credits_posted = cr_cpo = cr_cpo + amount  # type: ignore[operator]
        # The row as ``_append`` lays it out, built here: this is the hot path.
        row = (
            ts, tid, dr.id, cr.id, amount, ledger, code, flags, None, timeout_s, user_data,
            dr.last_transfer, cr.last_transfer,
            dr_dpe, dr_dpo, dr.credits_pending, dr.credits_posted,
            cr.debits_pending, cr.debits_posted, cr_cpe, cr_cpo,
        )  # fmt: skip
        dr.last_transfer = ts
        cr.last_transfer = ts
        self.rows.append(row)
        transfers[tid] = row
        return _OK

    def _resolve(self, t: Transfer, ts: int) -> R:
        """Post or void the pending transfer ``t.pending_id`` names."""
        row = self.transfers.get(t.pending_id)  # type: ignore[arg-type]
        if row is None:
            return R.PENDING_NOT_FOUND
        if not row[Row.FLAGS] & _PENDING:
            return R.PENDING_NOT_PENDING
        if (
            (t.debit_account_id and t.debit_account_id != row[Row.DEBIT])
            or (t.credit_account_id and t.credit_account_id != row[Row.CREDIT])
            or (t.ledger and t.ledger != row[Row.LEDGER])
            or (t.code and t.code != row[Row.CODE])
        ):
            return R.PENDING_HAS_DIFFERENT_FIELDS
        pending = self.pendings.get(row[Row.TIMESTAMP])
        if pending is None:
            raise InvariantViolation(f"pending transfer {row[Row.ID]!r} has no pending state")
        state = pending.state
        if state == PendingState.POSTED:
            return R.ALREADY_POSTED
        if state == PendingState.VOIDED:
            return R.ALREADY_VOIDED
        if state == PendingState.EXPIRED or (
            pending.expires_at is not None and pending.expires_at <= ts
        ):
            return R.PENDING_EXPIRED
        post = t.flags & _POST
        amount = pending.amount if t.amount is None else t.amount
        if post and amount > pending.amount:
            return R.EXCEEDS_PENDING_AMOUNT
        if not post and amount != pending.amount:
            return R.VOID_AMOUNT_MUST_MATCH
        dr = self._account(pending.debit_account_id)
        cr = self._account(pending.credit_account_id)
        if post and (dr.flags | cr.flags) & _CLOSED:
            return R.ACCOUNT_CLOSED
        if self._undo is not None:
            self._remember(dr)
            self._remember(cr)
        self.dirty.add(dr.id)
        self.dirty.add(cr.id)
        self._release(pending, dr, cr, PendingState.POSTED if post else PendingState.VOIDED)
        if post:
            dr.debits_posted += amount
            cr.credits_posted += amount
        self._append(ts, t.id, dr, cr, amount, row[Row.LEDGER], row[Row.CODE], t.flags,
                     row[Row.ID], 0, t.user_data)
        return R.OK

    # -- expiry ----------------------------------------------------------

    def expire(self, pending_row: Stored, ts: int) -> None:
        """Void a timed-out pending transfer: the engine's own write, not a client's."""
        pending = self.pendings.get(pending_row[Row.TIMESTAMP])
        if pending is None or pending.state != PendingState.PENDING:
            raise InvariantViolation(f"expiring {pending_row[Row.ID]!r}, which is not pending")
        if pending.expires_at is None or pending.expires_at > ts:
            raise InvariantViolation(f"expiring {pending_row[Row.ID]!r} before its timeout")
        dr = self._account(pending.debit_account_id)
        cr = self._account(pending.credit_account_id)
        self.dirty.add(dr.id)
        self.dirty.add(cr.id)
        self._release(pending, dr, cr, PendingState.EXPIRED)
        self._append(ts, SYSTEM_ID_PREFIX + pending_row[Row.ID], dr, cr, pending.amount,
                     pending_row[Row.LEDGER], pending_row[Row.CODE],
                     TransferFlags.VOID_PENDING | TransferFlags.EXPIRY, pending_row[Row.ID],
                     0, None)

    # -- helpers ---------------------------------------------------------

    def _record_failure(self, t: Transfer, ts: int, result: R) -> None:
        """Remember a failure that a retry could otherwise turn into a success."""
        self.failed.add(t.id)
        self.failed_rows.append((ts, t.id, t.debit_account_id, t.credit_account_id, t.amount,
                                 t.ledger, t.code, t.flags, t.pending_id, t.timeout_s,
                                 t.user_data, result.value))

    def _account(self, account_id: int) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise InvariantViolation(f"account {account_id} of a stored transfer is not loaded")
        return account

    def _release(self, pending: Pending, dr: Account, cr: Account, state: int) -> None:
        if dr.debits_pending < pending.amount or cr.credits_pending < pending.amount:
            raise InvariantViolation(
                f"pending balances of accounts {dr.id}, {cr.id} below a pending amount"
            )
        if self._undo is not None:
            self._undo_pendings.append((pending, pending.state))
        dr.debits_pending -= pending.amount
        cr.credits_pending -= pending.amount
        pending.state = state
        self.changed_pendings.append(pending)

    def _remember(self, account: Account) -> None:
        """Record an account's state before a chain member changes it."""
        self._undo.append((account, account.balances(), account.last_transfer))  # type: ignore[union-attr]

    def _append(
        self,
        ts: int,
        transfer_id: str,
        dr: Account,
        cr: Account,
        amount: int,
        ledger: int,
        code: int,
        flags: int,
        pending_id: str | None,
        timeout_s: int,
        user_data: str | None,
    ) -> None:
        row = (
            ts, transfer_id, dr.id, cr.id, amount, ledger, code, flags, pending_id, timeout_s,
            user_data, dr.last_transfer, cr.last_transfer,
            dr.debits_pending, dr.debits_posted, dr.credits_pending, dr.credits_posted,
            cr.debits_pending, cr.debits_posted, cr.credits_pending, cr.credits_posted,
        )  # fmt: skip
        dr.last_transfer = ts
        cr.last_transfer = ts
        self.rows.append(row)
        self.transfers[transfer_id] = row

    def _begin_chain(self) -> None:
        self._undo = []
        self._undo_pendings = []
        self._chain_rows = len(self.rows)
        self._chain_new_pendings = len(self.new_pendings)
        self._chain_changed_pendings = len(self.changed_pendings)

    def _fail_chain(self, results: list[R], start: int, end: int) -> None:
        """Undo the applied members of a chain and mark them failed."""
        if self._undo is None:
            raise InvariantViolation("failing a chain that was never begun")
        for account, balances, last_transfer in reversed(self._undo):
            account.set_balances(balances)
            account.last_transfer = last_transfer
        for pending, state in reversed(self._undo_pendings):
            pending.state = state
        for row in self.rows[self._chain_rows:]:
            del self.transfers[row[Row.ID]]
        for pending in self.new_pendings[self._chain_new_pendings:]:
            del self.pendings[pending.timestamp]
        del self.rows[self._chain_rows:]
        del self.new_pendings[self._chain_new_pendings:]
        del self.changed_pendings[self._chain_changed_pendings:]
        self._undo = []
        self._undo_pendings = []
        for j in range(start, end):
            results[j] = R.LINKED_EVENT_FAILED


def _compare_existing(t: Transfer, row: Stored, transfers: dict[str, Stored]) -> R:
    """Idempotency: the same id with the same fields is ``exists``."""
    if row[Row.FLAGS] & _EXPIRY:
        raise InvariantViolation(f"client id {t.id!r} matched an engine-written transfer")
    if t.flags & _RESOLVE:
        same = (
            t.flags == row[Row.FLAGS]
            and t.pending_id == row[Row.PENDING_ID]
            and t.debit_account_id in (0, row[Row.DEBIT])
            and t.credit_account_id in (0, row[Row.CREDIT])
            and t.ledger in (0, row[Row.LEDGER])
            and t.code in (0, row[Row.CODE])
            and t.user_data == row[Row.USER_DATA]
            and _same_resolve_amount(t.amount, row, transfers)
        )
    else:
        same = (
            t.flags == row[Row.FLAGS]
            and t.debit_account_id == row[Row.DEBIT]
            and t.credit_account_id == row[Row.CREDIT]
            and t.amount == row[Row.AMOUNT]
            and t.ledger == row[Row.LEDGER]
            and t.code == row[Row.CODE]
            and t.pending_id == row[Row.PENDING_ID]
            and t.timeout_s == row[Row.TIMEOUT_S]
            and t.user_data == row[Row.USER_DATA]
        )
    return R.EXISTS if same else R.EXISTS_WITH_DIFFERENT_FIELDS


def _same_resolve_amount(amount: int | None, row: Stored, transfers: dict[str, Stored]) -> bool:
    """An omitted amount means the whole pending amount, so it matches only a full post."""
    if amount is not None:
        return bool(amount == row[Row.AMOUNT])
    pending_row = transfers.get(row[Row.PENDING_ID])
    if pending_row is None:
        raise InvariantViolation(f"pending transfer {row[Row.PENDING_ID]!r} is not loaded")
    return bool(row[Row.AMOUNT] == pending_row[Row.AMOUNT])

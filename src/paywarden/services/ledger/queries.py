"""The read side of the ledger: ledgers, accounts, transfers, history.

Reads never take the writer's lock. An account's transfers are found by
walking its chain (each transfer row points to the account's previous one,
docs/decisions/0002), newest first, one primary-key lookup per step.

Balances reflect pending transfers that have timed out even before the
engine's sweeper has written their expiry: a reader subtracts them itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select
from sqlalchemy.exc import IntegrityError

from ...adapters.store import Database
from ...adapters.store.schema import accounts, ledgers, pending_transfers, transfers
from ...domain.errors import DomainError
from ...domain.ledger import SYSTEM_ID_PREFIX, TRANSFER_COLUMNS, PendingState, Row
from .currencies import currency

PAGE_SIZE_MAX = 200
HISTORY_STEPS_MAX = 1_000_000

_T = [transfers.c[name] for name in TRANSFER_COLUMNS]


@dataclass(frozen=True)
class Ledger:
    id: int
    currency: str
    exponent: int
    created_at: int


@dataclass(frozen=True)
class Balances:
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


@dataclass(frozen=True)
class AccountView:
    id: int
    ledger: int
    code: int
    flags: int
    user_data: str | None
    timestamp: int
    balances: Balances


@dataclass(frozen=True)
class TransferView:
    timestamp: int
    id: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    ledger: int
    code: int
    flags: int
    pending_id: str | None
    timeout_s: int
    user_data: str | None


class LedgerQueries:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    # -- ledgers ---------------------------------------------------------

    def create_ledger(self, code: str, *, now_ns: int) -> Ledger:
        cur = currency(code)
        ledger = Ledger(cur.number, cur.code, cur.exponent, now_ns)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(ledgers).values(
                    id=ledger.id, currency=ledger.currency, exponent=ledger.exponent,
                    created_at=ledger.created_at))
        except IntegrityError:
            raise DomainError("ledger_exists", f"a ledger for {cur.code} exists already") from None
        return ledger

    def ledgers(self) -> list[Ledger]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(ledgers).order_by(ledgers.c.currency)).all()
        return [Ledger(*r) for r in rows]

    def ledger_by_currency(self, code: str) -> Ledger | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(ledgers).where(ledgers.c.currency == code)).first()
        return Ledger(*row) if row else None

    def ledger(self, ledger_id: int) -> Ledger | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(ledgers).where(ledgers.c.id == ledger_id)).first()
        return Ledger(*row) if row else None

    # -- accounts ----------------------------------------------------------

    def account(self, account_id: int, *, now_ns: int) -> AccountView | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
            if row is None:
                return None
            dp, dpo, cp, cpo = (row.debits_pending, row.debits_posted, row.credits_pending,
                                row.credits_posted)
            if dp or cp:
                lapsed_dr, lapsed_cr = _lapsed(conn, account_id, now_ns)
                dp -= lapsed_dr
                cp -= lapsed_cr
        return AccountView(row.id, row.ledger, row.code, row.flags, row.user_data,
                           row.timestamp, Balances(dp, dpo, cp, cpo))

    def balances_as_of(self, account_id: int, as_of_ns: int) -> Balances | None:
        """Balances just after the last transfer at or before ``as_of_ns``."""
        with self._engine.connect() as conn:
            head = conn.execute(
                select(accounts.c.last_transfer, accounts.c.timestamp)
                .where(accounts.c.id == account_id)
            ).first()
            if head is None or head.timestamp > as_of_ns:
                return None
            found = Balances(0, 0, 0, 0)
            steps = 0
            for row in _walk(conn, account_id, head.last_transfer, HISTORY_STEPS_MAX + 1):
                steps += 1
                if row[Row.TIMESTAMP] <= as_of_ns:
                    start = Row.DEBIT_BALANCES if row[Row.DEBIT] == account_id else (
                        Row.CREDIT_BALANCES)
                    found = Balances(*row[start : start + 4])
                    break
            if steps > HISTORY_STEPS_MAX:
                raise DomainError("history_too_deep",
                                  f"more than {HISTORY_STEPS_MAX} transfers to walk back")
            if found.debits_pending or found.credits_pending:
                lapsed_dr, lapsed_cr = _lapsed(conn, account_id, as_of_ns, swept_after=as_of_ns)
                found = Balances(found.debits_pending - lapsed_dr, found.debits_posted,
                                 found.credits_pending - lapsed_cr, found.credits_posted)
        return found

    def account_transfers(
        self, account_id: int, *, limit: int, before: int | None = None
    ) -> tuple[list[TransferView], int | None]:
        """Newest first. ``before`` is the cursor: the timestamp of the last one seen."""
        limit = max(1, min(limit, PAGE_SIZE_MAX))
        with self._engine.connect() as conn:
            if before is None:
                start = conn.execute(
                    select(accounts.c.last_transfer).where(accounts.c.id == account_id)
                ).scalar_one_or_none()
            else:
                row = conn.execute(select(*_T).where(transfers.c.timestamp == before)).first()
                if row is None or account_id not in (row[Row.DEBIT], row[Row.CREDIT]):
                    raise DomainError("cursor_invalid", "the cursor names no transfer of this account")
                start = row[Row.DEBIT_PREV] if row[Row.DEBIT] == account_id else row[Row.CREDIT_PREV]
            if not start:
                return [], None
            page = [TransferView(*r[: Row.DEBIT_PREV])
                    for r in _walk(conn, account_id, start, limit + 1)]
        if len(page) > limit:
            return page[:limit], page[limit - 1].timestamp
        return page, None

    def transfer(self, transfer_id: str) -> TransferView | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(*_T).where(transfers.c.id == transfer_id)).first()
        return TransferView(*row[: Row.DEBIT_PREV]) if row else None


def _walk(conn: Connection, account_id: int, start: int, steps_max: int) -> Iterator[tuple[Any, ...]]:
    query = select(*_T).where(transfers.c.timestamp == bindparam("ts"))
    ts = start
    for _ in range(steps_max):
        if not ts:
            return
        row = conn.execute(query, {"ts": ts}).first()
        if row is None:
            raise DomainError("history_broken", f"transfer at {ts} of account {account_id} is missing")
        yield tuple(row)
        ts = row[Row.DEBIT_PREV] if row[Row.DEBIT] == account_id else row[Row.CREDIT_PREV]


def _lapsed(conn: Connection, account_id: int, at_ns: int, *, swept_after: int | None = None
            ) -> tuple[int, int]:
    """Pending amounts of ``account_id`` timed out by ``at_ns`` but not yet swept.

    For a point in the past, a pending transfer counts if its expiry row was
    written after that point (``swept_after``).
    """
    p = pending_transfers
    states = [PendingState.PENDING]
    if swept_after is not None:
        states.append(PendingState.EXPIRED)
    query = (
        select(p.c.timestamp, p.c.debit_account_id, p.c.amount, p.c.state)
        .where(p.c.state.in_(states), p.c.expires_at.is_not(None), p.c.expires_at <= at_ns,
               p.c.timestamp <= at_ns,
               or_(p.c.debit_account_id == account_id, p.c.credit_account_id == account_id))
    )
    debit = credit = 0
    for ts, debit_id, amount, state in conn.execute(query):
        if state == PendingState.EXPIRED:
            pending_id = conn.execute(select(transfers.c.id).where(
                transfers.c.timestamp == ts)).scalar_one()
            swept_at = conn.execute(select(transfers.c.timestamp).where(
                and_(transfers.c.id == SYSTEM_ID_PREFIX + pending_id))).scalar_one()
            if swept_at <= at_ns:
                continue
        if debit_id == account_id:
            debit += amount
        else:
            credit += amount
    return debit, credit

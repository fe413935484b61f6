"""Statements and history of a customer's bank account: the account row tells whose it
is, its IBAN and its ledger account; the movements (``bank_transfers``) tell each
entry's counterparty and reference.

    Statements.history(user_id, account_id, ...)       -> HistoryPage
    Statements.issue(user_id, account_id, from, to)    -> Sealed
    Statements.issue_any(account_id, from, to, actor)  -> Sealed (the operator's CLI)

Another customer's account is ``not_found``, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from ....adapters.clock import Clock
from ....adapters.store import Database
from ....adapters.store.schema import bank_accounts, bank_transfers
from ....domain.errors import DomainError
from ....domain.ledger import Row
from ...audit.tree_heads import TreeHeads
from ...identity.users import get_user
from ...keys import Keys
from ..accounts import BankAccount, get_account, owned_account
from ..history import Describe, Description, Filters, HistoryPage, Side, history, ledger_describe
from .issue import StatementAccount, issue
from .seal import Sealed

_SUFFIXES = (".post", ".void", ".sg")  # a movement's ledger legs besides its main one


def movement_of(transfer_id: str) -> str:
    """The movement a ledger transfer belongs to (services/banking/movements.py ids)."""
    for suffix in _SUFFIXES:
        if transfer_id.endswith(suffix):
            return transfer_id[: -len(suffix)]
    return transfer_id


def describe(account: BankAccount) -> Describe:
    """Counterparty and reference of ``account``'s transfers from their movements: the
    other side's name or IBAN as the payer gave it, or the other account's IBAN; the
    ledger's names where the transfer is no bank movement (e.g. an escrow payment)."""

    def lookup(conn: Connection, ledger_account_id: int,
               rows: Sequence[tuple[Any, ...]]) -> dict[str, Description]:
        found = ledger_describe(conn, ledger_account_id, rows)
        ids = {movement_of(r[Row.ID]) for r in rows}
        moves = {m.id: m for m in conn.execute(select(bank_transfers).where(
            bank_transfers.c.id.in_(ids)))} if ids else {}
        others = {a for m in moves.values() for a in (m.from_account, m.to_account)
                  if a is not None and a != account.id}
        ibans = dict(conn.execute(select(bank_accounts.c.id, bank_accounts.c.iban).where(
            bank_accounts.c.id.in_(others))).all()) if others else {}
        for r in rows:
            m = moves.get(movement_of(r[Row.ID]))
            if m is None:
                continue
            other = m.to_account if m.from_account == account.id else m.from_account
            party = (m.counterparty_name or m.counterparty_iban or ibans.get(other)
                     or str(m.kind))
            found[r[Row.ID]] = Description(party, m.reference or "")
        return found

    return lookup


class Statements:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys,
                 tree_heads: TreeHeads) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._tree_heads = tree_heads

    def history(self, user_id: str, account_id: str, *, filters: Filters,
                cursor: str | None, limit: int) -> HistoryPage:
        with self._database.reading() as conn:  # a replica's, when fresh enough
            account = owned_account(conn, user_id, account_id)
            return history(conn, account.ledger_account_id, Side.of(account.ref.kind),
                           now_ns=self._clock.now_ns(), filters=filters, cursor=cursor,
                           limit=limit, describe=describe(account))

    def issue(self, user_id: str, account_id: str, from_date: date, to_date: date, *,
              actor: str) -> Sealed:
        with self._database.engine.connect() as conn:
            account = owned_account(conn, user_id, account_id)
        return self._issue(account, from_date, to_date, actor=actor)

    def issue_any(self, account_id: str, from_date: date, to_date: date, *,
                  actor: str) -> Sealed:
        with self._database.engine.connect() as conn:
            account = get_account(conn, account_id)
        if account is None:
            raise DomainError("not_found", f"no account {account_id}")
        return self._issue(account, from_date, to_date, actor=actor)

    def _issue(self, account: BankAccount, from_date: date, to_date: date, *,
               actor: str) -> Sealed:
        with self._database.engine.connect() as conn:
            user = get_user(conn, account.user_id, keys=self._keys)
        subject = StatementAccount(
            account_id=account.id, iban=account.iban,
            owner_name=user.display_name if user is not None else account.user_id,
            product=str(account.product), currency=account.currency,
            ledger_account_id=account.ledger_account_id, side=Side.of(account.ref.kind))
        return issue(self._database, self._keys, self._tree_heads, subject, from_date, to_date,
                     actor=actor, now_ns=self._clock.now_ns(), describe=describe(account))

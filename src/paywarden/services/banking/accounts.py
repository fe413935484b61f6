"""Bank accounts: the products a customer holds, their IBANs and their states.

A customer opens current and savings accounts, and a wallet (e-money), in any currency
the ledger has. Each row names its ledger account (``ref``); the wallet's is the one
escrow payments already pay from (``wallet:usr_…``), so a topped-up wallet pays a
checkout. Staff freeze, unfreeze and close accounts; closing needs a zero balance.
Every state change is an audit entry in the same transaction.

A frozen account sends nothing but still receives; a closed account does neither.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import accounts as ledger_accounts
from ...adapters.store.schema import bank_accounts
from ...domain.errors import DomainError
from ...domain.ledger.chart import AccountKind
from .. import audit
from ..ledger import LedgerEngine
from ..ledger.accounts import AccountRef, ensure
from ..ledger.queries import LedgerQueries
from .ibans import BankCode

NAME_CHARS_MAX = 64
IBAN_ATTEMPTS_MAX = 8


class Product(enum.StrEnum):
    CURRENT = "current"
    SAVINGS = "savings"
    WALLET = "wallet"  # e-money; one per customer and currency


class State(enum.StrEnum):
    OPEN = "open"
    FROZEN = "frozen"
    CLOSED = "closed"


@dataclass(frozen=True)
class BankAccount:
    id: str  # acc_…
    user_id: str
    product: Product
    currency: str
    iban: str
    name: str
    state: State
    ledger_account_id: int
    created_at_ns: int

    @property
    def ref(self) -> AccountRef:
        if self.product is Product.WALLET:
            return AccountRef(AccountKind.WALLET, self.user_id, self.currency)
        kind = AccountKind.CURRENT if self.product is Product.CURRENT else AccountKind.SAVINGS
        return AccountRef(kind, self.id, self.currency)

    def public(self) -> dict[str, object]:
        return {"id": self.id, "product": str(self.product), "currency": self.currency,
                "iban": self.iban, "name": self.name, "state": str(self.state)}


def _from_row(row: object) -> BankAccount:
    r = row._mapping  # type: ignore[attr-defined]
    return BankAccount(r["id"], r["user_id"], Product(r["product"]), r["currency"], r["iban"],
                       r["name"], State(r["state"]), r["ledger_account_id"], r["created_at"])


def get_account(conn: Connection, account_id: str) -> BankAccount | None:
    row = conn.execute(select(bank_accounts).where(bank_accounts.c.id == account_id)).first()
    return None if row is None else _from_row(row)


def get_accounts(conn: Connection, account_ids: Iterable[str]) -> dict[str, BankAccount]:
    """The accounts among ``account_ids`` that exist, by id, in one read."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    rows = conn.execute(select(bank_accounts).where(bank_accounts.c.id.in_(wanted)))
    return {r._mapping["id"]: _from_row(r) for r in rows}


def owned_account(conn: Connection, user_id: str, account_id: str) -> BankAccount:
    """The user's account; ``not_found`` alike for a missing one and another's (a 404)."""
    account = get_account(conn, account_id) if isinstance(account_id, str) else None
    if account is None or account.user_id != user_id:
        raise DomainError("not_found", "no such account")
    return account


def by_iban(conn: Connection, iban: str) -> BankAccount | None:
    row = conn.execute(select(bank_accounts).where(bank_accounts.c.iban == iban)).first()
    return None if row is None else _from_row(row)


def accounts_of(conn: Connection, user_id: str) -> list[BankAccount]:
    rows = conn.execute(select(bank_accounts).where(bank_accounts.c.user_id == user_id)
                        .order_by(bank_accounts.c.created_at, bank_accounts.c.id))
    return [_from_row(r) for r in rows]


def check_name(name: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_CHARS_MAX \
            or not name.isprintable():
        raise DomainError("account_name_invalid",
                          f"an account's name is 1 to {NAME_CHARS_MAX} printable characters")
    return name.strip()


class BankAccounts:
    def __init__(self, database: Database, *, clock: Clock, engine: LedgerEngine,
                 queries: LedgerQueries, bank: BankCode) -> None:
        self._database = database
        self._clock = clock
        self._engine = engine
        self._queries = queries
        self.bank = bank

    def open(self, user_id: str, product: Product, currency_code: str, name: str, *,
             actor: str) -> BankAccount:
        """A new open account; a second wallet in one currency is refused."""
        product = Product(product)
        name = check_name(name)
        now = self._clock.now_ns()
        if self._queries.ledger_by_currency(currency_code) is None:
            self._queries.create_ledger(currency_code, now_ns=now)
        for _ in range(IBAN_ATTEMPTS_MAX):
            account_id = "acc_" + secrets.token_hex(12)
            made = BankAccount(account_id, user_id, product, currency_code,
                               self.bank.new_iban(), name, State.OPEN, 0, now)
            made = BankAccount(**{**made.__dict__, "ledger_account_id": made.ref.id})
            ensure(self._engine, [made.ref])
            try:
                with self._database.engine.begin() as conn:
                    if product is Product.WALLET and any(
                            a.product is Product.WALLET and a.currency == currency_code
                            for a in accounts_of(conn, user_id)):
                        raise DomainError("wallet_exists",
                                          f"you already have a {currency_code} wallet")
                    conn.execute(insert(bank_accounts).values(
                        id=made.id, user_id=user_id, product=str(product),
                        currency=currency_code, iban=made.iban, name=name,
                        state=str(State.OPEN), ledger_account_id=made.ledger_account_id,
                        created_at=now, updated_at=now))
                    audit.record(conn, at_ns=now, actor=actor, action="bank_account.open",
                                 object_id=made.id,
                                 detail={"product": str(product), "currency": currency_code})
                return made
            except IntegrityError:
                continue  # an IBAN (or a wallet's ledger account) taken meanwhile
        raise DomainError("account_open_failed", "no account number was free; try again")

    def list_for(self, user_id: str) -> list[BankAccount]:
        with self._database.engine.connect() as conn:
            return accounts_of(conn, user_id)

    def get_for(self, user_id: str, account_id: str) -> BankAccount:
        with self._database.engine.connect() as conn:
            return owned_account(conn, user_id, account_id)

    def get(self, account_id: str) -> BankAccount | None:
        with self._database.engine.connect() as conn:
            return get_account(conn, account_id)

    def balance(self, account: BankAccount) -> dict[str, int]:
        """Posted (booked) and available (posted less outgoing pending) minor units."""
        view = self._queries.account(account.ledger_account_id, now_ns=self._clock.now_ns())
        if view is None:
            return {"booked": 0, "available": 0}
        b = view.balances
        booked = b.credits_posted - b.debits_posted
        return {"booked": booked, "available": booked - b.debits_pending}

    # -- staff --------------------------------------------------------------------------

    def freeze(self, account_id: str, *, actor: str, reason: str) -> BankAccount:
        return self._set_state(account_id, State.FROZEN, {State.OPEN}, actor=actor,
                               reason=reason)

    def unfreeze(self, account_id: str, *, actor: str, reason: str) -> BankAccount:
        return self._set_state(account_id, State.OPEN, {State.FROZEN}, actor=actor,
                               reason=reason)

    def close(self, account_id: str, *, actor: str, reason: str) -> BankAccount:
        """Closed only at a zero balance with nothing pending, checked under the ledger's
        lock in the closing transaction, so no movement lands between check and close."""
        return self._set_state(account_id, State.CLOSED, {State.OPEN, State.FROZEN},
                               actor=actor, reason=reason, empty=True)

    def _set_state(self, account_id: str, to: State, allowed: set[State], *, actor: str,
                   reason: str, empty: bool = False) -> BankAccount:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            if empty:  # the lock every ledger writer takes first: movements wait for us
                conn.execute(text("UPDATE ledger_state SET version = version WHERE id = 1"))
            account = get_account(conn, account_id)
            if account is None:
                raise DomainError("not_found", "no such account")
            if account.state not in allowed:
                raise DomainError("account_state_invalid",
                                  f"a {account.state} account cannot become {to}")
            if empty and not _empty(conn, account.ledger_account_id):
                raise DomainError("account_not_empty", "an account is closed only at a zero "
                                  "balance with nothing pending")
            changed = conn.execute(update(bank_accounts).where(
                bank_accounts.c.id == account_id, bank_accounts.c.state == str(account.state),
            ).values(state=str(to), updated_at=now)).rowcount
            if changed != 1:
                raise DomainError("account_state_invalid", "the account changed meanwhile")
            audit.record(conn, at_ns=now, actor=actor, action=f"bank_account.{_verb(to)}",
                         object_id=account_id, detail={"reason": reason[:140]},
                         before={"state": str(account.state)}, after={"state": str(to)})
        return BankAccount(**{**account.__dict__, "state": to})


def _empty(conn: Connection, ledger_account_id: int) -> bool:
    row = conn.execute(select(ledger_accounts.c.debits_pending, ledger_accounts.c.debits_posted,
                              ledger_accounts.c.credits_pending,
                              ledger_accounts.c.credits_posted)
                       .where(ledger_accounts.c.id == ledger_account_id)).first()
    return row is None or (row[0] == 0 and row[2] == 0 and row[1] == row[3])


def _verb(state: State) -> str:
    return {State.FROZEN: "freeze", State.OPEN: "unfreeze", State.CLOSED: "close"}[state]

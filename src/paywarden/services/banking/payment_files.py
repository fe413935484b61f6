"""A customer's payment file (an ISO 20022 pain.001): many transfers from one account,
confirmed with one passkey step-up (decision 0056).

Every payment goes to one of the customer's live payees, found by the creditor's IBAN,
so a file gets the same defences as one transfer: the payee's cooling-off, the limits
and the screening (:class:`.transfers.Transfers`, whose ``send`` without evidence is for
orders whose step-up was consumed already, as here).

1. The whole file is checked first, all or nothing: the debtor IBAN is the account's,
   every payment is in its currency, to a payee, and the total is within what the
   account has available. One bad payment refuses the file and nothing moves.
2. The step-up covers the file: ``{type: "payment_file", amount: total, currency,
   payee: <account id>, reference: <the file's digest>}``, consumed once.
3. Each payment then runs as a transfer whose id is derived from the customer, the
   file's digest and the payment's position: sending the same file again (after a
   timeout, a crash half-way) answers what ran and runs what did not, with no new
   step-up; any other file is a new file and needs its own.

Each payment's result is answered in order: a later payment can still be refused
(a limit reached, the balance spent meanwhile) after earlier ones ran.

**Bulk waits for the network.** A new file is refused (503 ``payments_busy``, with
``Retry-After``), before its step-up is consumed, while more than ``backlog_max`` of the
bank's transfers to other banks are still on their way: a file adds a hundred at once,
and a bank that accepts more than its clearing carries only lengthens every payer's wait
for money it has already promised. A retried file is always answered; a person's single
transfer is never refused for load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select

from ...adapters.store import Database
from ...adapters.store.schema import bank_payees, bank_transfers
from ...domain.clearing.messages import Pain001
from ...domain.errors import DomainError
from ..identity.stepup import StepUp
from .accounts import BankAccounts, owned_account
from .confirm import Expected, confirm
from .movements import MovementKind, MovementResult, MovementState
from .transfers import Order, Transfers

PAYMENTS_PER_FILE_MAX = 100
STEP_UP_TYPE = "payment_file"
_ON_THEIR_WAY = select(func.count()).select_from(bank_transfers).where(
    bank_transfers.c.state == str(MovementState.PENDING),
    bank_transfers.c.kind.in_([str(MovementKind.EXTERNAL), str(MovementKind.WITHDRAWAL)]))


@dataclass(frozen=True)
class PaymentResult:
    end_to_end_id: str
    movement: MovementResult | None
    code: str | None = None  # why this payment was refused, when it was
    detail: str = ""


class PaymentFileRefused(DomainError):
    """One or more payments are wrong: nothing moved. ``problems`` names each."""

    def __init__(self, problems: list[tuple[int, str, str]]) -> None:
        super().__init__("payment_file_invalid", "; ".join(
            f"payment {i + 1}: {detail}" for i, _, detail in problems))
        self.problems = problems  # (index, code, detail)


class PaymentFiles:
    def __init__(self, database: Database, *, accounts: BankAccounts, transfers: Transfers,
                 step_up: StepUp, backlog_max: int | None = None) -> None:
        self._database = database
        self._accounts = accounts
        self._transfers = transfers
        self._step_up = step_up
        self._backlog_max = backlog_max

    def check(self, user_id: str, account_id: str, order: Pain001) -> tuple[int, str, str]:
        """What the step-up must cover, once every payment is right (step 1 alone):
        (total, currency, digest). Nothing moves."""
        with self._database.engine.connect() as conn:
            account = owned_account(conn, user_id, account_id)
        digest = file_digest(order)
        orders = self._orders(user_id, account_id, account.iban, account.currency, order,
                              digest)
        if not self._seen(orders):
            self._admit()
        return sum(o.amount.amount_minor for o in orders), account.currency, digest

    def submit(self, user_id: str, account_id: str, order: Pain001, *,
               evidence_id: str | None) -> list[PaymentResult]:
        """Check the whole file, consume the step-up once, run each payment (see the
        module's docstring)."""
        with self._database.engine.connect() as conn:
            account = owned_account(conn, user_id, account_id)
        digest = file_digest(order)
        orders = self._orders(user_id, account_id, account.iban, account.currency, order,
                              digest)
        total = sum(o.amount.amount_minor for o in orders)
        if not self._seen(orders):
            self._admit()
            available = self._accounts.balance(account)["available"]
            if total > available:
                raise DomainError("insufficient_funds", "the file's payments come to more "
                                  "than the account has available")
            if evidence_id is None:
                raise DomainError("step_up_required", "confirm this payment file with your "
                                  "passkey")
            with self._database.engine.begin() as conn:
                confirm(conn, self._step_up, user_id, evidence_id, Expected(
                    STEP_UP_TYPE, total, account.currency, account_id, digest))
        return [PaymentResult(p.end_to_end_id, None, done.code, done.detail)
                if isinstance(done, DomainError) else PaymentResult(p.end_to_end_id, done)
                for p, done in zip(order.payments, self._transfers.send_many(
                    orders, actor=user_id), strict=True)]

    def _orders(self, user_id: str, account_id: str, iban: str, currency: str,
                order: Pain001, digest: str) -> list[Order]:
        if not 0 < len(order.payments) <= PAYMENTS_PER_FILE_MAX:
            raise DomainError("payment_file_invalid", f"a payment file has 1 to "
                              f"{PAYMENTS_PER_FILE_MAX} payments")
        with self._database.engine.connect() as conn:
            payees = {r.iban: r.id for r in conn.execute(
                select(bank_payees.c.iban, bank_payees.c.id).where(
                    bank_payees.c.user_id == user_id, bank_payees.c.deleted_at.is_(None)))}
        problems: list[tuple[int, str, str]] = []
        if order.debtor.iban != iban:
            problems.append((-1, "payment_file_debtor",
                             "the file's debtor account is not this account"))
        orders = []
        prefix = "pf_" + hashlib.sha256(f"{user_id}\0{digest}".encode()).hexdigest()[:24]
        for i, p in enumerate(order.payments):
            payee_id = payees.get(p.creditor.iban)
            if p.amount.currency != currency:
                problems.append((i, "currency_mismatch", f"the account holds {currency}"))
            elif payee_id is None:
                problems.append((i, "payee_unknown",
                                 "pay only your payees: add this IBAN as a payee first"))
            else:
                orders.append(Order(user_id, f"{prefix}_{i}", account_id, payee_id, p.amount,
                                    p.remittance))
        if problems:
            raise PaymentFileRefused(problems)
        return orders

    def _admit(self) -> None:
        """A new file waits while the bank's transfers to other banks back up."""
        if self._backlog_max is None:
            return
        with self._database.engine.connect() as conn:
            on_their_way = conn.execute(_ON_THEIR_WAY).scalar_one()
        if on_their_way > self._backlog_max:
            raise DomainError("payments_busy", "the bank's payments to other banks are "
                              "backed up; send the file again in a moment")

    def _seen(self, orders: list[Order]) -> bool:
        """Whether this file was sent before (one of its transfers exists): a retry."""
        with self._database.engine.connect() as conn:
            return conn.execute(select(bank_transfers.c.id).where(bank_transfers.c.id.in_(
                [o.movement_id for o in orders])).limit(1)).first() is not None


def file_digest(order: Pain001) -> str:
    """SHA-256 over what the file orders: the step-up's reference, and (with the
    customer) the root of its transfers' ids."""
    parts = [order.msg_id, order.debtor.iban]
    for p in order.payments:
        parts += [p.end_to_end_id, str(p.amount.amount_minor), p.amount.currency,
                  p.creditor.iban, p.creditor.name, p.remittance]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()

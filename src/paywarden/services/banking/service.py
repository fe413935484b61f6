"""The bank: a customer's accounts and the movements between them, one facade.

``Banking`` holds the parts (accounts, movements, the rail link) and the use cases that
combine them for a customer: a transfer between their own accounts and a wallet top-up.
Transfers to others (payees, limits, step-up, standing orders: :mod:`.transfers`),
cheques, statements and interest build on the same parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from ...adapters.store import Database
from ...domain.errors import DomainError
from ...domain.ledger.chart import AccountKind
from ...domain.money import Money
from .accounts import BankAccounts, Product, owned_account
from .limits import Limits
from .movements import Finish, Movement, MovementKind, MovementResult, Movements
from .payees import Payees
from .payment_files import PaymentFiles
from .rail import RailLink
from .standing_orders import StandingOrders
from .transfers import Transfers


@dataclass
class Banking:
    database: Database
    accounts: BankAccounts
    movements: Movements
    rail: RailLink
    payees: Payees  # transfers to other parties: payees, limits, standing orders
    limits: Limits
    transfers: Transfers
    standing_orders: StandingOrders
    payment_files: PaymentFiles  # a customer's pain.001: many transfers, one step-up

    def transfer_own(self, user_id: str, *, movement_id: str, from_account: str,
                     to_account: str, amount: Money, reference: str,
                     finish: Finish | None = None) -> MovementResult:
        """Between two of the customer's own accounts: no payee, no step-up. Into the
        wallet it is a top-up (e-money issued)."""
        with self.database.engine.connect() as conn:
            source = owned_account(conn, user_id, from_account)
            target = owned_account(conn, user_id, to_account)
        kind = MovementKind.TOP_UP if target.product is Product.WALLET else MovementKind.OWN
        if source.product is Product.WALLET and target.product is not Product.WALLET:
            kind = MovementKind.OWN
        return self.movements.execute(Movement(
            movement_id, kind, user_id, source.id, target.id, amount, reference,
            counterparty_iban=target.iban, counterparty_name=target.name), finish=finish)

    def top_up_from_card(self, user_id: str, *, movement_id: str, wallet: str, amount: Money,
                         precondition: Callable[[Connection], None] | None = None,
                         finish: Finish | None = None) -> MovementResult:
        """The card's money (already authorised by the issuer) into the wallet."""
        with self.database.engine.connect() as conn:
            target = owned_account(conn, user_id, wallet)
        if target.product is not Product.WALLET:
            raise DomainError("top_up_target_invalid", "only a wallet is topped up by card")
        return self.movements.execute(Movement(
            movement_id, MovementKind.TOP_UP, user_id, None, target.id, amount,
            "card top-up", outside=AccountKind.CARD_ISSUER),
            precondition=precondition, finish=finish, stepped_up=True)

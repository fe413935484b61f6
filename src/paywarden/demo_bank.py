"""The demo's bank customer: a current account, savings and a wallet, with a month's kind
of activity — a salary in through the rail, rent out to another bank, saving, a wallet
top-up and a payment to another customer — all through the banking services.

Each run makes a new customer (the ids are printed). The ledger's clock only moves
forward, so the activity is dated when the demo runs, not spread over past days.
"""

from __future__ import annotations

import secrets
from typing import Any

from .bootstrap import Platform
from .domain.identity import Kind
from .domain.money import Money
from .services.banking import Movement, MovementKind, Product
from .services.identity.users import create_user

ACTOR = "cli:demo"
EMPLOYER_IBAN = "DE89370400440532013000"
LANDLORD_IBAN = "DE75512108001245126199"


def demo_bank(platform: Platform) -> dict[str, Any]:
    suffix = secrets.token_hex(3)
    banking = platform.banking
    customer = _customer(platform, f"demo-banker-{suffix}", "Demo Banker")
    friend = _customer(platform, f"demo-friend-{suffix}", "Demo Friend")
    accounts = banking.accounts
    current = accounts.open(customer, Product.CURRENT, "EUR", "Everyday", actor=ACTOR)
    savings = accounts.open(customer, Product.SAVINGS, "EUR", "Rainy day", actor=ACTOR)
    wallet = accounts.open(customer, Product.WALLET, "EUR", "Wallet", actor=ACTOR)
    theirs = accounts.open(friend, Product.CURRENT, "EUR", "Everyday", actor=ACTOR)
    banking.rail.deposit(rail_id=f"demo-salary-{suffix}", iban=current.iban,
                         amount=Money(2_500_00, "EUR"), debtor_iban=EMPLOYER_IBAN,
                         debtor_name="Employer GmbH", reference="Salary November")
    moves = banking.movements
    moves.execute(Movement(f"demo-rent-{suffix}", MovementKind.EXTERNAL, customer, current.id,
                           None, Money(900_00, "EUR"), "Rent December",
                           counterparty_iban=LANDLORD_IBAN, counterparty_name="Landlord"))
    banking.rail.run_due()  # the rail confirms the rent
    banking.transfer_own(customer, movement_id=f"demo-save-{suffix}", from_account=current.id,
                         to_account=savings.id, amount=Money(300_00, "EUR"),
                         reference="Monthly saving")
    banking.transfer_own(customer, movement_id=f"demo-topup-{suffix}", from_account=current.id,
                         to_account=wallet.id, amount=Money(50_00, "EUR"),
                         reference="Wallet top-up")
    moves.execute(Movement(f"demo-dinner-{suffix}", MovementKind.INTERNAL, customer,
                           current.id, theirs.id, Money(42_50, "EUR"), "Dinner, thanks!",
                           counterparty_iban=theirs.iban, counterparty_name="Demo Friend"))
    return {"bank_customer_id": customer, "current_account_id": current.id,
            "current_account_iban": current.iban, "savings_account_id": savings.id,
            "wallet_account_id": wallet.id}


def _customer(platform: Platform, username: str, name: str) -> str:
    with platform.database.engine.begin() as conn:
        user = create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                           display_name=name, roles=frozenset({"customer"}),
                           now_ns=platform.clock.now_ns())
    return user.id

"""The demo's bank customer: a current account, savings and a wallet, with a month's kind
of activity — a salary in through the rail, rent out to another bank, saving, a wallet
top-up, a payment to another customer, a payee with a standing order, and a cheque that
the other customer presents — all through the banking services.

What needs the customer's passkey (the payee, the standing order, the cheque) is
approved by a software passkey made for the demo (``paywarden.testing.authenticator``),
through the same step-up ceremony a browser runs. Each run makes a new customer (the ids
are printed). The ledger's clock only moves forward, so the activity is dated when the
demo runs, not spread over past days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

from .bootstrap import Platform
from .domain.identity import Kind
from .domain.money import Money
from .services.banking import BankAccount, Movement, MovementKind, Product
from .services.banking.cheques import Terms
from .services.banking.schedules import Frequency
from .services.identity.users import create_user
from .testing.authenticator import SoftAuthenticator

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
    approve = _passkey(platform, customer)
    order = _standing_order(platform, customer, current.id, theirs.iban, approve)
    cheque = _cheque(platform, customer, friend, current.id, theirs, approve)
    return {"bank_customer_id": customer, "current_account_id": current.id,
            "current_account_iban": current.iban, "savings_account_id": savings.id,
            "wallet_account_id": wallet.id, "standing_order_id": order,
            "cheque_id": cheque}


Approve = Callable[[str, int, str, str, str], str]  # type, amount, currency, payee, reference


def _passkey(platform: Platform, user_id: str) -> Approve:
    """Register a software passkey for ``user_id``; a function that approves an operation
    with it (a step-up), returning the evidence id."""
    settings = platform.settings
    authenticator = SoftAuthenticator(rp_id=settings.webauthn_rp_id, origin=settings.public_url)
    with platform.database.engine.begin() as conn:
        enrolment = platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=user_id,
                                            owner=user_id, roles=frozenset(),
                                            auth_methods=frozenset({"enrolment"})).token
        full = platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=user_id,
                                       owner=user_id, roles=frozenset({"customer"}),
                                       auth_methods=frozenset({"passkey"})).token
    enrolled, signed_in = (platform.sessions.authenticate(enrolment),
                           platform.sessions.authenticate(full))
    if enrolled is None or signed_in is None:
        raise RuntimeError("the demo's sessions did not start")
    options = platform.passkeys.registration_options(enrolled)
    platform.passkeys.register(enrolled, options.ceremony_id,
                               authenticator.create(options.options), name="demo passkey")

    def approve(type_: str, amount: int, currency: str, payee: str, reference: str) -> str:
        asked = platform.step_up.options(signed_in, type=type_, amount=amount,
                                         currency=currency, payee=payee, reference=reference)
        return platform.step_up.verify(signed_in, asked.ceremony_id,
                                       authenticator.get(asked.options)).evidence_id
    return approve


def _standing_order(platform: Platform, user_id: str, account_id: str, iban: str,
                    approve: Approve) -> str:
    """The friend as a payee, and a monthly standing order to them for a year."""
    banking = platform.banking
    payee, _ = banking.payees.add(user_id, name="Demo Friend", iban=iban, currency="EUR",
                                  evidence_id=approve("new_payee", 0, "EUR", iban,
                                                      "Demo Friend"), actor=ACTOR)
    today = banking.standing_orders.today()
    plan = banking.standing_orders.plan(
        user_id, from_account=account_id, payee_id=payee.id, amount=Money(25_00, "EUR"),
        reference="Allotment share", frequency=Frequency.MONTHLY,
        start_on=today + dt.timedelta(days=1), end_on=today + dt.timedelta(days=365))
    made = banking.standing_orders.create(plan, evidence_id=approve(
        "standing_order", 25_00, "EUR", iban, plan.schedule), actor=ACTOR)
    return made.id


def _cheque(platform: Platform, drawer: str, payee: str, account_id: str,
            payee_account: BankAccount, approve: Approve) -> str:
    """A cheque to the friend, presented by them into their account."""
    cheques = platform.cheques
    today = cheques.today()
    terms = Terms(account_id, payee_account.iban, "Demo Friend", Money(15_00, "EUR"), today,
                  today + dt.timedelta(days=60), 0)
    draft = cheques.draft(drawer, terms)
    terms = dataclasses.replace(terms, serial=draft.serial)
    op = draft.step_up
    view = cheques.write(drawer, terms, approve(op["type"], op["amount"], op["currency"],
                                                op["payee"], op["reference"]), actor=ACTOR)
    cheques.present(payee, view.jws, account_id=payee_account.id, actor=ACTOR)
    return view.id


def _customer(platform: Platform, username: str, name: str) -> str:
    with platform.database.engine.begin() as conn:
        user = create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                           display_name=name, roles=frozenset({"customer"}),
                           now_ns=platform.clock.now_ns())
    return user.id

"""The demo's escrow payment: a certified merchant, a buyer with a funded wallet, and one
payment taken through every step to released — the whole flow, through the services.

Each run makes new ones (the ids are printed). The merchant's private key is
written to ``data_dir/demo/`` (0600) so the SDK can be tried with it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .bootstrap import Platform
from .domain.escrow import ConfirmReceipt, EscrowTerms, PartyRole, Pay, Ship
from .domain.identity import Kind
from .domain.ledger import Transfer, TransferResult
from .domain.ledger.chart import AccountKind
from .domain.money import Money
from .services.identity.users import create_user
from .services.ledger.accounts import AccountRef, ensure, platform_account
from .services.payments import Party

ACTOR = "cli:demo"
PRICE = Money(25_00, "EUR")
DOMAIN = "demo-shop.example"


def demo_payment(platform: Platform) -> dict[str, Any]:
    suffix = secrets.token_hex(3)
    merchant_id, key_id, key_file = _merchant(platform, suffix)
    buyer = _buyer(platform, suffix)
    wallet = AccountRef(AccountKind.WALLET, buyer, PRICE.currency)
    _deposit(platform, wallet, 100_00)
    made = platform.payments.create_checkout(
        merchant_id=merchant_id, order_ref=f"demo-{suffix}",
        items=[{"name": "Demo teapot", "quantity": 1, "unit_amount": PRICE.amount_minor}],
        amount=PRICE, return_url=f"https://{DOMAIN}/thanks",
        terms=EscrowTerms(days_to_ship=5, release_after_days=14), actor=merchant_id)
    payments = platform.payments
    payments.apply(made.payment_id, Pay(PRICE), party=Party(PartyRole.BUYER, buyer),
                   funding=wallet, method="wallet")
    payments.apply(made.payment_id, Ship("Demo Post", f"DP{suffix.upper()}"),
                   party=Party(PartyRole.MERCHANT, merchant_id))
    done = payments.apply(made.payment_id, ConfirmReceipt(), party=Party(PartyRole.BUYER, buyer))
    return {"merchant_id": merchant_id, "merchant_key_id": key_id,
            "merchant_private_key_file": str(key_file), "buyer_id": buyer,
            "checkout_session_id": made.id, "payment_id": made.payment_id,
            "state": str(done.escrow.state)}


def _merchant(platform: Platform, suffix: str) -> tuple[str, str, Path]:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    made = platform.merchants.create(name=f"Demo Shop {suffix}", public_key=raw, actor=ACTOR)
    _certify(platform, made.merchant.id, suffix)
    folder = platform.settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{made.merchant.id}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return made.merchant.id, made.key_id, path


def _certify(platform: Platform, merchant_id: str, suffix: str) -> None:
    """Applied, its domain attested by the operator (a demo domain cannot be fetched), approved."""
    from .services.certification import BusinessDetails

    service = platform.certification
    service.apply(merchant_id, BusinessDetails(
        legal_name=f"Demo Shop {suffix} Ltd", registration_number=f"DEMO-{suffix}",
        address="1 Demo Street, Demoville", contact_email="owner@demo-shop.example"),
        [DOMAIN], actor=ACTOR)
    service.attest_domain(merchant_id, DOMAIN, actor=ACTOR)
    service.approve(merchant_id, actor=ACTOR)


def _buyer(platform: Platform, suffix: str) -> str:
    with platform.database.engine.begin() as conn:
        user = create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER,
                           username=f"demo-buyer-{suffix}", display_name="Demo Buyer",
                           roles=frozenset({"customer"}), now_ns=platform.clock.now_ns())
    return user.id


def _deposit(platform: Platform, wallet: AccountRef, amount: int) -> None:
    if platform.queries.ledger_by_currency(wallet.currency) is None:
        platform.queries.create_ledger(wallet.currency, now_ns=platform.clock.now_ns())
    clearing = platform_account(AccountKind.BANK_CLEARING, wallet.currency)
    ensure(platform.engine, [wallet, clearing])
    result = platform.engine.execute([Transfer(f"demo-deposit-{wallet.owner}", clearing.id,
                                               wallet.id, amount, wallet.ledger, 1)])
    if result != [TransferResult.OK]:
        raise RuntimeError(f"the demo deposit failed: {result}")

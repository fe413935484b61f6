"""Escrow payments through the service on real databases: each transition moves exactly the
money the escrow machine says, in the same transaction as its state and audit entry;
refused transitions move nothing; racing refunds never move more than is held."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.bootstrap import Platform, build
from paywarden.domain.errors import DomainError
from paywarden.domain.escrow import (
    NS_PER_DAY,
    Cancel,
    ConfirmReceipt,
    EscrowError,
    EscrowTerms,
    Pay,
    Ship,
    State,
)
from paywarden.domain.ledger import Transfer, TransferResult
from paywarden.domain.money import Money
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger.accounts import AccountRef, ensure, platform_account
from paywarden.services.ledger.queries import LedgerQueries
from paywarden.services.ledger.verify import verify_ledger
from paywarden.services.payments import Party
from paywarden.settings import Settings

BUYER, OTHER = "usr_buyer", "usr_other"
EUR = "EUR"


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    p = build(Settings(database_url=database.url, data_dir=tmp_path, payment_fee_bps=200),
              clock=clock, database=database)
    p.start()
    p.queries.create_ledger(EUR, now_ns=clock.now_ns())
    yield p
    p.stop()


def merchant(platform: Platform) -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return platform.merchants.create(name="Shop", public_key=raw, actor="cli:test").merchant.id


def wallet(platform: Platform, owner: str, amount: int) -> AccountRef:
    ref = AccountRef("wallet", owner, EUR)
    clearing = platform_account("bank_clearing", EUR)
    ensure(platform.engine, [ref, clearing])
    assert platform.engine.execute([Transfer(f"deposit-{owner}", clearing.id, ref.id, amount,
                                             ref.ledger, 1)]) == [TransferResult.OK]
    return ref


def balance(platform: Platform, ref: AccountRef) -> int:
    view = LedgerQueries(platform.database).account(ref.id, now_ns=platform.clock.now_ns())
    return 0 if view is None else view.balances.credits_posted - view.balances.debits_posted


def checkout(platform: Platform, merchant_id: str, amount: int = 10_000,
             order_ref: str | None = None) -> str:
    made = platform.payments.create_checkout(
        merchant_id=merchant_id, order_ref=order_ref or f"order-{secrets.token_hex(4)}",
        items=[{"name": "Lamp", "quantity": 1, "unit_amount": amount}],
        amount=Money(amount, EUR), return_url="https://shop.example/done",
        terms=EscrowTerms(days_to_ship=3, release_after_days=7), actor=merchant_id)
    return made.payment_id


def test_a_payment_held_shipped_and_confirmed_pays_the_merchant_less_the_fee(
        platform: Platform) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 50_000)
    pid = checkout(platform, shop)
    buyer = Party("buyer", BUYER)
    platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=buyer, funding=funds,
                            method="wallet")
    assert balance(platform, funds) == 40_000
    assert balance(platform, platform_account("escrow", EUR)) == 10_000
    platform.payments.apply(pid, Ship("DHL", "JD0123"), party=Party("merchant", shop))
    done = platform.payments.apply(pid, ConfirmReceipt(), party=buyer)
    assert done.escrow.state is State.RELEASED
    assert balance(platform, AccountRef("merchant", shop, EUR)) == 9_800
    assert balance(platform, platform_account("fee_income", EUR)) == 200
    assert balance(platform, platform_account("escrow", EUR)) == 0
    assert verify_ledger(platform.database) == [] and verify_audit(platform.database) == []


def test_refused_transitions_move_nothing(platform: Platform) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 50_000)
    pid = checkout(platform, shop)
    buyer = Party("buyer", BUYER)
    platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=buyer, funding=funds,
                            method="wallet")
    with pytest.raises(EscrowError) as too_much:
        platform.payments.refund(pid, Money(10_001, EUR), refund_id="r1",
                                 party=Party("merchant", shop))
    assert too_much.value.code == "refund_exceeds_held"
    platform.payments.apply(pid, Cancel(), party=buyer)
    with pytest.raises(EscrowError) as shipped_cancelled:
        platform.payments.apply(pid, Ship("DHL", "X1"), party=Party("merchant", shop))
    assert shipped_cancelled.value.code == "escrow_transition_not_allowed"
    assert balance(platform, funds) == 50_000
    with pytest.raises(DomainError) as stranger:
        platform.payments.apply(pid, ConfirmReceipt(), party=Party("buyer", OTHER))
    assert stranger.value.code == "not_found"
    with pytest.raises(DomainError) as wrong_sender:
        platform.payments.apply(pid, Ship("DHL", "X1"), party=Party("buyer", BUYER))
    assert wrong_sender.value.code == "payment_sender_not_allowed"


def test_a_buyer_without_the_money_pays_nothing(platform: Platform) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 500)
    pid = checkout(platform, shop)
    with pytest.raises(DomainError) as poor:
        platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                                funding=funds, method="wallet")
    assert poor.value.code == "insufficient_funds"
    view = platform.payments.get(pid)
    assert view is not None and view.escrow.state is State.CREATED and view.buyer_id is None


def test_racing_refunds_never_move_more_than_is_held(platform: Platform) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 50_000)
    pid = checkout(platform, shop)
    platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                            funding=funds, method="wallet")
    refused: list[str] = []

    def refund(party: Party, n: int) -> None:
        try:
            platform.payments.refund(pid, Money(4_000, EUR), refund_id=f"r{n}", party=party)
        except DomainError as exc:
            refused.append(exc.code)

    parties = [Party("merchant", shop), Party("staff", "cli:alice"), Party("staff", "cli:bob")]
    threads = [threading.Thread(target=refund, args=(p, n)) for n, p in enumerate(parties * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refused.count("refund_exceeds_held") == 4  # two of six fit into 10,000
    assert balance(platform, funds) == 48_000
    assert balance(platform, platform_account("escrow", EUR)) == 2_000
    assert verify_ledger(platform.database) == [] and verify_audit(platform.database) == []


def test_timers_refund_an_unshipped_order_and_release_a_shipped_one(
        platform: Platform, clock: FakeClock) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 50_000)
    late, shipped = checkout(platform, shop), checkout(platform, shop)
    for pid in (late, shipped):
        platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                                funding=funds, method="wallet")
    platform.payments.apply(shipped, Ship("UPS", "1Z"), party=Party("merchant", shop))
    clock.advance(ns=3 * NS_PER_DAY + 1)
    assert platform.payments.run_due() == 1
    assert platform.payments.get(late).escrow.state is State.REFUNDED  # type: ignore[union-attr]
    clock.advance(ns=7 * NS_PER_DAY)
    assert platform.payments.run_due() == 1
    assert platform.payments.get(shipped).escrow.state is State.RELEASED  # type: ignore[union-attr]
    assert balance(platform, funds) == 40_000
    assert balance(platform, AccountRef("merchant", shop, EUR)) == 9_800


def test_a_suspended_merchant_receives_no_release_until_reinstated(
        platform: Platform, clock: FakeClock) -> None:
    from tests.support.certify import certify

    shop = merchant(platform)
    certify(platform, shop)
    funds = wallet(platform, BUYER, 50_000)
    pid = checkout(platform, shop)
    platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                            funding=funds, method="wallet")
    platform.payments.apply(pid, Ship("UPS", "1Z"), party=Party("merchant", shop))
    platform.merchants.set_status(shop, "suspended", actor="cli:test")
    with pytest.raises(DomainError) as refused:
        platform.payments.apply(pid, ConfirmReceipt(), party=Party("buyer", BUYER))
    assert refused.value.code == "merchant_suspended"
    clock.advance(ns=8 * NS_PER_DAY)
    assert platform.payments.run_due() == 0  # the timer waits too
    assert balance(platform, AccountRef("merchant", shop, EUR)) == 0
    assert balance(platform, platform_account("escrow", EUR)) == 10_000


def test_an_unpaid_session_expires_and_can_no_longer_be_paid(platform: Platform,
                                                              clock: FakeClock) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 50_000)
    pid = checkout(platform, shop)
    clock.advance(ns=platform.settings.checkout_session_ttl_s * 1_000_000_000 + 1)
    assert platform.payments.run_due() == 1
    assert platform.payments.get(pid).escrow.state is State.EXPIRED  # type: ignore[union-attr]
    with pytest.raises(EscrowError):
        platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                                funding=funds, method="wallet")
    assert balance(platform, funds) == 50_000

"""Two serving processes on one database: each prepares transitions from the payments it
wrote last (its own copy), and a copy another process has since changed is never acted
on — the unit fails its version check in the batch, or its refusal is asked again of the
database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.bootstrap import Platform, build
from paywarden.domain.escrow import ConfirmReceipt, EscrowError, Pay, Ship, State
from paywarden.domain.money import Money
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger.accounts import AccountRef
from paywarden.services.ledger.verify import verify_ledger
from paywarden.services.payments import Party
from paywarden.settings import Settings

from .test_payments_service import BUYER, EUR, balance, checkout, merchant, wallet


@pytest.fixture
def two(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[Platform, Platform]]:
    settings = Settings(database_url=database.url, data_dir=tmp_path, payment_fee_bps=200)
    first = build(settings, clock=clock, database=database)
    second = build(settings, clock=clock)  # a pool of its own, as another process has
    first.start()
    second.start()
    first.queries.create_ledger(EUR, now_ns=clock.now_ns())
    yield first, second
    second.stop()
    first.stop()


def held_by(platform: Platform) -> tuple[str, AccountRef, str]:
    """A payment of 10,000 held from the buyer's wallet of 50,000: (shop, wallet, payment)."""
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 50_000)
    pid = checkout(platform, shop)
    platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                            funding=funds, method="wallet")
    return shop, funds, pid


def test_a_transition_refused_on_a_stale_copy_is_asked_again_of_the_database(
        two: tuple[Platform, Platform]) -> None:
    first, second = two
    shop, _, pid = held_by(first)
    second.payments.apply(pid, Ship("DHL", "JD1"), party=Party("merchant", shop))
    # the first process remembers the payment as held, where a confirmation is refused
    done = first.payments.apply(pid, ConfirmReceipt(), party=Party("buyer", BUYER))
    assert done.escrow.state is State.RELEASED and done.escrow.version == 3


def test_a_transition_prepared_from_a_stale_copy_is_prepared_again(
        two: tuple[Platform, Platform]) -> None:
    first, second = two
    shop, funds, pid = held_by(first)
    shop_party = Party("merchant", shop)
    second.payments.refund(pid, Money(6_000, EUR), refund_id="r1", party=shop_party)
    # on its copy 10,000 is still held: the refund is valid there, and must not refund twice
    with pytest.raises(EscrowError) as too_much:
        first.payments.refund(pid, Money(6_000, EUR), refund_id="r2", party=shop_party)
    assert too_much.value.code == "refund_exceeds_held"
    again = first.payments.refund(pid, Money(6_000, EUR), refund_id="r1", party=shop_party)
    assert not again.created and again.payment.escrow.refunded_minor == 6_000
    after = first.payments.refund(pid, Money(4_000, EUR), refund_id="r3", party=shop_party)
    assert after.payment.escrow.refunded_minor == 10_000 and after.payment.escrow.version == 3
    assert balance(first, funds) == 50_000
    assert verify_ledger(first.database) == [] and verify_audit(first.database) == []

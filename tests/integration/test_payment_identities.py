"""Identities a payment transaction checks itself, before any state or balance: a refund's
refund_id and a checkout's (merchant, order_ref); and an Idempotency-Key's answer that
commits with the effect or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import checkout_sessions, idempotency_keys
from paywarden.bootstrap import Platform, build
from paywarden.domain.errors import DomainError
from paywarden.domain.escrow import EscrowTerms, Pay, State
from paywarden.domain.money import Money
from paywarden.services.idempotency import Claim, IdempotencyRefused, StoredResponse
from paywarden.services.payments import Party
from paywarden.services.payments.service import Checkout
from paywarden.settings import Settings

from .test_payments_service import BUYER, EUR, balance, checkout, merchant, wallet


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    p = build(Settings(database_url=database.url, data_dir=tmp_path), clock=clock,
              database=database)
    p.start()
    p.queries.create_ledger(EUR, now_ns=clock.now_ns())
    yield p
    p.stop()

ANSWER = StoredResponse(201, [("content-type", "application/json")], b"{}")


def paid(platform: Platform, shop: str, funds: Any) -> str:
    pid = checkout(platform, shop)
    platform.payments.apply(pid, Pay(Money(10_000, EUR)), party=Party("buyer", BUYER),
                            funding=funds, method="wallet")
    return pid


def test_a_refund_id_refunds_once_and_another_amount_under_it_is_refused(
        platform: Platform) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 10_000)
    pid = paid(platform, shop, funds)
    first = platform.payments.refund(pid, Money(10_000, EUR), refund_id="rf-1",
                                     party=Party("merchant", shop))
    assert first.created and first.payment.escrow.state is State.REFUNDED
    # The payment is final now; the same refund is still answered, by its id.
    again = platform.payments.refund(pid, Money(10_000, EUR), refund_id="rf-1",
                                     party=Party("staff", "cli:alice"))
    assert not again.created and again.refund == first.refund
    with pytest.raises(DomainError) as other:
        platform.payments.refund(pid, Money(1, EUR), refund_id="rf-1",
                                 party=Party("merchant", shop))
    assert other.value.code == "refund_id_reused"
    with pytest.raises(DomainError) as malformed:
        platform.payments.refund(pid, Money(1, EUR), refund_id="no spaces",
                                 party=Party("merchant", shop))
    assert malformed.value.code == "refund_id_invalid"
    assert balance(platform, funds) == 10_000


def test_a_refund_is_made_only_with_its_refund_id(platform: Platform) -> None:
    from paywarden.domain.escrow import Refund

    with pytest.raises(TypeError):
        platform.payments.apply("pay_x", Refund(Money(1, EUR)), party=Party("staff", "x"))


def test_the_same_order_ref_returns_the_first_session_and_other_fields_are_refused(
        platform: Platform) -> None:
    shop = merchant(platform)

    def create(amount: int = 10_000, **changed: Any) -> Checkout:
        fields: dict[str, Any] = {
            "merchant_id": shop, "order_ref": "A-1", "actor": shop,
            "items": [{"name": "Lamp", "quantity": 1, "unit_amount": amount}],
            "amount": Money(amount, EUR), "return_url": "https://shop.example/done",
            "terms": EscrowTerms(days_to_ship=3, release_after_days=7)}
        return platform.payments.create_checkout(**(fields | changed))

    first = create()
    again = create()
    assert first.created and not again.created
    assert (again.id, again.payment_id, again.expires_at_ns) == (
        first.id, first.payment_id, first.expires_at_ns)
    for changed in ({"amount": 9_999}, {"return_url": "https://shop.example/x"},
                    {"terms": EscrowTerms(days_to_ship=4, release_after_days=7)}):
        with pytest.raises(DomainError) as refused:
            create(**changed)
        assert refused.value.code == "checkout_order_ref_reused"
    other_shop = merchant(platform)
    assert create(merchant_id=other_shop).id != first.id  # order refs are per merchant


def _key_state(platform: Platform, key: str) -> str | None:
    with platform.database.engine.connect() as conn:
        return conn.execute(select(idempotency_keys.c.state).where(
            idempotency_keys.c.key == key)).scalar_one_or_none()


def test_a_key_taken_over_after_its_lease_rolls_the_first_requests_effect_back(
        platform: Platform, clock: FakeClock) -> None:
    shop = merchant(platform)
    funds = wallet(platform, BUYER, 10_000)
    pid = paid(platform, shop, funds)
    keys = platform.idempotency
    slow = keys.claim(f"merchant:{shop}", "k-1", "a" * 64)
    clock.advance(platform.settings.idempotency_lease_s + 1)
    taker = keys.claim(f"merchant:{shop}", "k-1", "a" * 64)
    assert isinstance(slow, Claim) and isinstance(taker, Claim)

    def record(claim: Claim) -> Any:
        return lambda conn, done: keys.record(conn, claim, ANSWER)

    with pytest.raises(IdempotencyRefused) as lost:
        platform.payments.refund(pid, Money(4_000, EUR), refund_id="rf-1",
                                 party=Party("merchant", shop), finish=record(slow))
    assert lost.value.code == "idempotency_claim_lost"
    assert balance(platform, funds) == 0 and _key_state(platform, "k-1") == "running"
    done = platform.payments.refund(pid, Money(4_000, EUR), refund_id="rf-1",
                                    party=Party("merchant", shop), finish=record(taker))
    assert done.created and taker.recorded == ANSWER
    assert balance(platform, funds) == 4_000 and _key_state(platform, "k-1") == "done"
    keys.complete(slow, StoredResponse(409, [], b"late"))  # fenced: changes nothing
    keys.release(slow)
    replay = keys.claim(f"merchant:{shop}", "k-1", "a" * 64)
    assert replay == ANSWER


def test_an_effect_that_fails_after_recording_leaves_the_key_running(
        platform: Platform) -> None:
    shop = merchant(platform)
    claim = platform.idempotency.claim(f"merchant:{shop}", "k-2", "b" * 64)
    assert isinstance(claim, Claim)

    def record_then_fail(conn: Connection, made: Checkout) -> None:
        platform.idempotency.record(conn, claim, ANSWER)
        raise DomainError("late_refusal", "refused after the answer was recorded")

    with pytest.raises(DomainError):
        platform.payments.create_checkout(
            merchant_id=shop, order_ref="A-2", items=[{"name": "Lamp", "quantity": 1,
                                                        "unit_amount": 100}],
            amount=Money(100, EUR), return_url="https://shop.example/done",
            terms=EscrowTerms(3, 7), actor=shop, finish=record_then_fail)
    assert _key_state(platform, "k-2") == "running"
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(checkout_sessions.c.id).where(
            checkout_sessions.c.order_ref == "A-2")).first() is None

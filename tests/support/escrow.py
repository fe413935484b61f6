"""Escrow payments in every state, reached through the machine itself."""

from __future__ import annotations

from collections.abc import Callable

from paywarden.domain.escrow import (
    NS_PER_DAY,
    AnswerDispute,
    AutoRefund,
    AutoRelease,
    Cancel,
    ConfirmReceipt,
    DecideDispute,
    DeclineReview,
    DisputeReason,
    Escrow,
    EscrowTerms,
    Event,
    Expire,
    FeeSchedule,
    OpenDispute,
    Pay,
    Refund,
    ReleaseReview,
    Ship,
    State,
    new_escrow,
    transition,
)
from paywarden.domain.money import Money

T0 = 1_700_000_000 * 1_000_000_000
HOUR_NS = 3_600 * 1_000_000_000
AMOUNT_MINOR = 10_000
CURRENCY = "EUR"
TERMS = EscrowTerms(days_to_ship=5, release_after_days=7)
FEE = FeeSchedule(rate_bps=250, fixed_minor=30)
TTL_NS = HOUR_NS


def eur(amount_minor: int) -> Money:
    return Money(amount_minor, CURRENCY)


def created(*, amount_minor: int = AMOUNT_MINOR, fee: FeeSchedule = FEE,
            terms: EscrowTerms = TERMS) -> Escrow:
    return new_escrow("pay_test1", eur(amount_minor), terms, fee, now_ns=T0,
                      expires_at_ns=T0 + TTL_NS)


def step(escrow: Escrow, event: Event, at_ns: int) -> Escrow:
    return transition(escrow, event, now_ns=at_ns).escrow


def held(**kwargs: object) -> Escrow:
    e = created(**kwargs)  # type: ignore[arg-type]
    return step(e, Pay(e.amount), T0 + 60_000_000_000)


def under_review(**kwargs: object) -> Escrow:
    """Paid, the screening answered review: reserved in escrow, waiting for an analyst."""
    e = created(**kwargs)  # type: ignore[arg-type]
    return step(e, Pay(e.amount, review=True), T0 + 60_000_000_000)


def shipped(**kwargs: object) -> Escrow:
    return step(held(**kwargs), Ship("DHL", "JJD0001"), T0 + NS_PER_DAY)


def disputed(**kwargs: object) -> Escrow:
    return step(shipped(**kwargs), OpenDispute(DisputeReason.NOT_AS_DESCRIBED, "torn",
                                               ("ev_1",)), T0 + 2 * NS_PER_DAY)


def in_state(state: State) -> Escrow:
    """A payment in ``state`` (final states reached the most common way)."""
    later = T0 + 3 * NS_PER_DAY
    builders: dict[State, Callable[[], Escrow]] = {
        State.CREATED: created,
        State.UNDER_REVIEW: under_review,
        State.HELD: held,
        State.SHIPPED: shipped,
        State.DISPUTED: disputed,
        State.RELEASED: lambda: step(shipped(), ConfirmReceipt(), later),
        State.REFUNDED: lambda: step(held(), Refund(eur(AMOUNT_MINOR)), later),
        State.SPLIT: lambda: step(disputed(), DecideDispute.split(refund=eur(4_000),
                                                                  release=eur(6_000)), later),
        State.CANCELLED: lambda: step(held(), Cancel(), T0 + HOUR_NS),
        State.EXPIRED: lambda: step(created(), Expire(), T0 + TTL_NS),
        State.DECLINED: lambda: step(under_review(), DeclineReview(), T0 + HOUR_NS),
    }
    escrow = builders[state]()
    assert escrow.state is state
    return escrow


def sample_events() -> list[Event]:
    """One well-formed event of every type, in the currency of the test payments."""
    return [
        Pay(eur(AMOUNT_MINOR)), ReleaseReview(), DeclineReview(), Cancel(), Ship("DHL", "JJD0001"), ConfirmReceipt(),
        OpenDispute(DisputeReason.DAMAGED), AnswerDispute("shipped intact", ("ev_2",)),
        DecideDispute.release(), Refund(eur(1)), Expire(), AutoRefund(), AutoRelease(),
    ]

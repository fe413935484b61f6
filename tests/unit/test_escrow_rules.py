"""The escrow rules one by one: deadlines, refunds, disputes, splits, fees, money, input."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from paywarden.domain.escrow import (
    NS_PER_DAY,
    AnswerDispute,
    AutoRefund,
    AutoRelease,
    Cancel,
    ConfirmReceipt,
    DecideDispute,
    DisputeReason,
    DisputeStatus,
    Escrow,
    EscrowError,
    EscrowTerms,
    Event,
    Expire,
    FeeSchedule,
    OpenDispute,
    Pay,
    Refund,
    Role,
    Ship,
    State,
    due,
    new_escrow,
    transition,
)
from paywarden.domain.money import Money, MoneyError
from tests.support.escrow import (
    AMOUNT_MINOR,
    T0,
    TTL_NS,
    created,
    disputed,
    eur,
    held,
    in_state,
    shipped,
    step,
)


def refused_code(escrow: Escrow, event: Event, now_ns: int) -> str:
    with pytest.raises(EscrowError) as refused:
        transition(escrow, event, now_ns=now_ns)
    return refused.value.code


# -- money going out ------------------------------------------------------------------


def test_double_release_is_refused() -> None:
    released = transition(shipped(), ConfirmReceipt(), now_ns=T0 + 2 * NS_PER_DAY).escrow
    for again in (ConfirmReceipt(), AutoRelease(), DecideDispute.release()):
        assert refused_code(released, again, T0 + 30 * NS_PER_DAY) in (
            "escrow_transition_not_allowed", "dispute_already_decided")


def test_refund_larger_than_held_amount_is_refused() -> None:
    escrow = held()
    assert refused_code(escrow, Refund(eur(AMOUNT_MINOR + 1)), T0 + NS_PER_DAY) == \
        "refund_exceeds_held"
    partly = step(escrow, Refund(eur(6_000)), T0 + NS_PER_DAY)
    assert (partly.state, partly.held_minor, partly.refunded_minor) == (State.HELD, 4_000, 6_000)
    assert refused_code(partly, Refund(eur(4_001)), T0 + NS_PER_DAY) == "refund_exceeds_held"
    rest = step(partly, Refund(eur(4_000)), T0 + NS_PER_DAY)
    assert (rest.state, rest.held_minor, rest.refunded_minor) == (State.REFUNDED, 0, AMOUNT_MINOR)


def test_refund_of_zero_or_in_another_currency_is_refused() -> None:
    assert refused_code(held(), Refund(eur(0)), T0 + NS_PER_DAY) == "refund_amount_invalid"
    assert refused_code(held(), Refund(Money(1, "USD")), T0 + NS_PER_DAY) == "currency_mismatch"


def test_release_after_a_partial_refund_takes_the_fee_on_what_is_released() -> None:
    escrow = step(shipped(), Refund(eur(2_000)), T0 + 2 * NS_PER_DAY)
    outcome = transition(escrow, ConfirmReceipt(), now_ns=T0 + 3 * NS_PER_DAY)
    fee = 30 + 8_000 * 250 // 10_000
    assert [(leg.to_role, leg.amount.amount_minor) for leg in outcome.legs] == [
        (Role.MERCHANT, 8_000 - fee), (Role.PLATFORM_FEE, fee)]
    e = outcome.escrow
    assert (e.refunded_minor, e.released_minor, e.fee_minor) == (2_000, 8_000 - fee, fee)


def test_shipment_for_a_cancelled_order_is_refused() -> None:
    cancelled = in_state(State.CANCELLED)
    assert refused_code(cancelled, Ship("DHL", "X1"), T0 + 2 * 3_600 * 10**9) == \
        "escrow_transition_not_allowed"


def test_cancelling_after_a_partial_refund_returns_only_what_is_still_held() -> None:
    escrow = step(held(), Refund(eur(3_000)), T0 + 100)
    outcome = transition(escrow, Cancel(), now_ns=T0 + 200)
    assert [leg.amount.amount_minor for leg in outcome.legs] == [7_000]
    assert outcome.escrow.refunded_minor == AMOUNT_MINOR


# -- deadlines ------------------------------------------------------------------------


def test_payment_of_an_expired_session_or_of_another_amount_is_refused() -> None:
    escrow = created()
    assert refused_code(escrow, Pay(eur(AMOUNT_MINOR)), T0 + TTL_NS) == "escrow_session_expired"
    assert refused_code(escrow, Pay(eur(AMOUNT_MINOR - 1)), T0 + 1) == "escrow_amount_mismatch"
    assert refused_code(escrow, Pay(Money(AMOUNT_MINOR, "USD")), T0 + 1) == "currency_mismatch"


def test_each_timer_is_due_from_its_deadline_on_and_not_before() -> None:
    cases = ((created(), Expire, "expires_at_ns"), (held(), AutoRefund, "ship_by_ns"),
             (shipped(), AutoRelease, "release_at_ns"))
    for escrow, kind, deadline_of in cases:
        deadline = getattr(escrow, deadline_of)
        assert due(escrow, deadline - 1) is None
        assert refused_code(escrow, kind(), deadline - 1) == "escrow_timer_not_due"
        assert due(escrow, deadline) == kind()
        assert transition(escrow, kind(), now_ns=deadline).escrow.held_minor == 0


def test_shipping_at_the_ship_by_deadline_is_refused() -> None:
    escrow = held()
    assert escrow.ship_by_ns is not None
    assert refused_code(escrow, Ship("DHL", "X1"), escrow.ship_by_ns) == \
        "escrow_ship_deadline_passed"
    assert step(escrow, Ship("DHL", "X1"), escrow.ship_by_ns - 1).state is State.SHIPPED


def test_a_dispute_after_the_inspection_period_is_refused_but_confirming_is_not() -> None:
    escrow = shipped()
    assert escrow.release_at_ns is not None
    late = escrow.release_at_ns
    assert refused_code(escrow, OpenDispute(DisputeReason.DAMAGED), late) == \
        "escrow_inspection_period_over"
    assert step(escrow, ConfirmReceipt(), late).state is State.RELEASED


def test_a_dispute_pauses_the_release_timer() -> None:
    escrow = disputed()
    assert due(escrow, T0 + 365 * NS_PER_DAY) is None
    assert refused_code(escrow, AutoRelease(), T0 + 365 * NS_PER_DAY) == \
        "escrow_transition_not_allowed"


# -- disputes -------------------------------------------------------------------------


def test_a_dispute_is_answered_once_then_decided_as_a_split_that_adds_up() -> None:
    escrow = disputed()
    answered = step(escrow, AnswerDispute("it left intact", ("ev_9",)), T0 + 3 * NS_PER_DAY)
    assert answered.dispute is not None and answered.dispute.status is DisputeStatus.ANSWERED
    assert refused_code(answered, AnswerDispute("again"), T0 + 3 * NS_PER_DAY) == \
        "dispute_already_answered"
    outcome = transition(answered, DecideDispute.split(refund=eur(3_001), release=eur(6_999)),
                         now_ns=T0 + 4 * NS_PER_DAY)
    fee = 30 + 6_999 * 250 // 10_000
    assert [(leg.to_role, leg.amount.amount_minor) for leg in outcome.legs] == [
        (Role.BUYER_FUNDING, 3_001), (Role.MERCHANT, 6_999 - fee), (Role.PLATFORM_FEE, fee)]
    assert outcome.state is State.SPLIT
    assert outcome.escrow.dispute is not None and outcome.escrow.dispute.decision is not None
    assert outcome.escrow.dispute.decision.refund_minor == 3_001


@pytest.mark.parametrize(("refund", "release", "code"), [
    (3_000, 6_999, "split_does_not_add_up"),
    (3_000, 7_001, "split_does_not_add_up"),
    (0, AMOUNT_MINOR, "split_part_not_positive"),
    (AMOUNT_MINOR, 0, "split_part_not_positive"),
])
def test_a_split_must_add_up_exactly_to_what_is_held(refund: int, release: int,
                                                     code: str) -> None:
    split = DecideDispute.split(refund=eur(refund), release=eur(release))
    assert refused_code(disputed(), split, T0 + 3 * NS_PER_DAY) == code


def test_a_split_counts_what_is_held_after_refunds_during_the_dispute() -> None:
    escrow = step(disputed(), Refund(eur(1_000)), T0 + 3 * NS_PER_DAY)
    assert escrow.state is State.DISPUTED and escrow.held_minor == 9_000
    whole = DecideDispute.split(refund=eur(1_000), release=eur(9_000))
    assert refused_code(escrow, whole, T0 + 4 * NS_PER_DAY) == "split_does_not_add_up"
    ok = DecideDispute.split(refund=eur(1_000), release=eur(8_000))
    assert step(escrow, ok, T0 + 4 * NS_PER_DAY).refunded_minor == 2_000


def test_refunding_everything_during_a_dispute_closes_it_without_a_decision() -> None:
    escrow = step(disputed(), Refund(eur(AMOUNT_MINOR)), T0 + 3 * NS_PER_DAY)
    assert escrow.state is State.REFUNDED and escrow.dispute is not None
    assert escrow.dispute.status is DisputeStatus.CLOSED and escrow.dispute.decision is None
    assert refused_code(escrow, DecideDispute.refund(), T0 + 4 * NS_PER_DAY) == \
        "escrow_transition_not_allowed"


def test_decision_events_name_amounts_only_for_a_split() -> None:
    with pytest.raises(EscrowError) as refused:
        DecideDispute(DecideDispute.release().resolution, refund_amount=eur(1))
    assert refused.value.code == "dispute_input_invalid"
    with pytest.raises(EscrowError) as refused:
        DecideDispute(DecideDispute.split(refund=eur(1), release=eur(1)).resolution,
                      refund_amount=eur(1))
    assert refused.value.code == "split_does_not_add_up"


# -- fees -----------------------------------------------------------------------------


@pytest.mark.parametrize(("rate_bps", "fixed", "gross", "fee"), [
    (250, 0, 10_000, 250),
    (250, 0, 199, 4),  # 4.975 rounds down
    (250, 0, 39, 0),  # 0.975 rounds down
    (250, 30, 199, 34),
    (0, 30, 20, 20),  # capped at the gross amount
    (10_000, 0, 777, 777),
    (250, 30, 0, 0),  # nothing released, no fee
    (1, 0, 2**63 - 1, (2**63 - 1) // 10_000),
])
def test_the_fee_rounds_down_then_adds_the_fixed_part_and_never_exceeds_the_gross(
        rate_bps: int, fixed: int, gross: int, fee: int) -> None:
    assert FeeSchedule(rate_bps=rate_bps, fixed_minor=fixed).fee_for(gross) == fee


@pytest.mark.parametrize("kwargs", [{"rate_bps": -1}, {"rate_bps": 10_001}, {"fixed_minor": -1},
                                    {"rate_bps": 2.5}, {"fixed_minor": True}])
def test_a_fee_schedule_out_of_bounds_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(EscrowError) as refused:
        FeeSchedule(**kwargs)  # type: ignore[arg-type]
    assert refused.value.code == "fee_schedule_invalid"


def test_a_release_whose_fee_takes_everything_moves_no_zero_leg() -> None:
    escrow = shipped(amount_minor=20, fee=FeeSchedule(fixed_minor=30))
    outcome = transition(escrow, ConfirmReceipt(), now_ns=T0 + 2 * NS_PER_DAY)
    assert [(leg.to_role, leg.amount.amount_minor) for leg in outcome.legs] == [
        (Role.PLATFORM_FEE, 20)]


# -- input ----------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "code"), [
    (lambda: Money(-1, "EUR"), "money_amount_invalid"),
    (lambda: Money(2**63, "EUR"), "money_amount_invalid"),
    (lambda: Money(True, "EUR"), "money_amount_invalid"),
    (lambda: Money(1.0, "EUR"), "money_amount_invalid"),  # type: ignore[arg-type]
    (lambda: Money(1, "eur"), "currency_invalid"),
    (lambda: Money(1, "EURO"), "currency_invalid"),
    (lambda: eur(1) + Money(1, "USD"), "currency_mismatch"),
    (lambda: eur(1) - eur(2), "money_amount_invalid"),
])
def test_money_is_a_non_negative_integer_in_one_currency(build: Callable[[], object],
                                                         code: str) -> None:
    with pytest.raises(MoneyError) as refused:
        build()
    assert refused.value.code == code


@pytest.mark.parametrize(("build", "code"), [
    (lambda: EscrowTerms(days_to_ship=0, release_after_days=7), "escrow_terms_invalid"),
    (lambda: EscrowTerms(days_to_ship=5, release_after_days=61), "escrow_terms_invalid"),
    (lambda: Ship("", "X1"), "shipment_invalid"),
    (lambda: Ship("DHL", "X 1"), "shipment_invalid"),
    (lambda: OpenDispute("damaged"), "dispute_input_invalid"),  # type: ignore[arg-type]
    (lambda: OpenDispute(DisputeReason.OTHER, "\x00"), "dispute_input_invalid"),
    (lambda: OpenDispute(DisputeReason.OTHER, "", ("a", "a")), "dispute_input_invalid"),
    (lambda: OpenDispute(DisputeReason.OTHER, "", ["ev_1"]),  # type: ignore[arg-type]
     "dispute_input_invalid"),
    (lambda: OpenDispute(DisputeReason.OTHER, "", tuple(f"e{i}" for i in range(21))),
     "dispute_input_invalid"),
    (lambda: AnswerDispute("  "), "dispute_input_invalid"),
    (lambda: AnswerDispute("x" * 2_001), "dispute_input_invalid"),
    (lambda: new_escrow("pay 1", eur(1), EscrowTerms(1, 1), FeeSchedule(), now_ns=0,
                        expires_at_ns=1), "escrow_invalid"),
    (lambda: new_escrow("pay_1", eur(0), EscrowTerms(1, 1), FeeSchedule(), now_ns=0,
                        expires_at_ns=1), "escrow_invalid"),
    (lambda: new_escrow("pay_1", eur(1), EscrowTerms(1, 1), FeeSchedule(), now_ns=5,
                        expires_at_ns=5), "escrow_invalid"),
    (lambda: transition(created(), Expire(), now_ns=-1), "escrow_invalid"),
])
def test_malformed_input_is_refused_with_a_stable_code(build: Callable[[], object],
                                                       code: str) -> None:
    with pytest.raises(EscrowError) as refused:
        build()
    assert refused.value.code == code

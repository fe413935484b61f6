"""Every event in every state: the allowed ones with their exact legs, the rest refused."""

from __future__ import annotations

import dataclasses

import pytest

from paywarden.domain.escrow import (
    ALLOWED,
    EVENT_TYPES,
    FINAL_STATES,
    AnswerDispute,
    AutoRefund,
    AutoRelease,
    Cancel,
    ConfirmReceipt,
    DecideDispute,
    DeclineReview,
    DisputeReason,
    DisputeStatus,
    Escrow,
    EscrowError,
    Event,
    Expire,
    OpenDispute,
    Pay,
    Refund,
    ReleaseReview,
    Role,
    Ship,
    State,
    Timers,
    due,
    transition,
)
from tests.support.escrow import AMOUNT_MINOR, eur, in_state, sample_events

S, R = State, Role
FEE_MINOR = 30 + AMOUNT_MINOR * 250 // 10_000  # FeeSchedule(rate_bps=250, fixed_minor=30)
RELEASE_LEGS = ((R.ESCROW, R.MERCHANT, AMOUNT_MINOR - FEE_MINOR),
                (R.ESCROW, R.PLATFORM_FEE, FEE_MINOR))
REFUND_ALL = ((R.ESCROW, R.BUYER_FUNDING, AMOUNT_MINOR),)
REFUND_ONE = ((R.ESCROW, R.BUYER_FUNDING, 1),)

# (state, event type) -> (state after, legs). Events are those of sample_events().
ACCEPTED: dict[tuple[State, type[Event]], tuple[State, tuple[tuple[Role, Role, int], ...]]] = {
    (S.CREATED, Pay): (S.HELD, ((R.BUYER_FUNDING, R.ESCROW, AMOUNT_MINOR),)),
    (S.CREATED, Cancel): (S.CANCELLED, ()),
    (S.CREATED, Expire): (S.EXPIRED, ()),
    (S.UNDER_REVIEW, ReleaseReview): (S.HELD, ()),
    (S.UNDER_REVIEW, DeclineReview): (S.DECLINED, REFUND_ALL),
    (S.UNDER_REVIEW, Cancel): (S.CANCELLED, REFUND_ALL),
    (S.HELD, Cancel): (S.CANCELLED, REFUND_ALL),
    (S.HELD, Ship): (S.SHIPPED, ()),
    (S.HELD, Refund): (S.HELD, REFUND_ONE),
    (S.HELD, AutoRefund): (S.REFUNDED, REFUND_ALL),
    (S.SHIPPED, ConfirmReceipt): (S.RELEASED, RELEASE_LEGS),
    (S.SHIPPED, OpenDispute): (S.DISPUTED, ()),
    (S.SHIPPED, Refund): (S.SHIPPED, REFUND_ONE),
    (S.SHIPPED, AutoRelease): (S.RELEASED, RELEASE_LEGS),
    (S.DISPUTED, AnswerDispute): (S.DISPUTED, ()),
    (S.DISPUTED, DecideDispute): (S.RELEASED, RELEASE_LEGS),
    (S.DISPUTED, Refund): (S.DISPUTED, REFUND_ONE),
}
ALL_PAIRS = [(state, event) for state in State for event in sample_events()]


def pair_id(pair: tuple[State, Event]) -> str:
    return f"{pair[0].value}-{pair[1].name}"


def legal_time(escrow: Escrow, event: Event) -> int:
    """A time the event is allowed at: a timer's deadline, else one second after the last step."""
    deadline = {Expire: escrow.timers.expires_at_ns, AutoRefund: escrow.timers.ship_by_ns,
                AutoRelease: escrow.timers.release_at_ns}.get(type(event))
    return deadline if deadline is not None else escrow.updated_at_ns + 1_000_000_000


def legs_of(escrow: Escrow, event: Event, now_ns: int) -> tuple[tuple[Role, Role, int], ...]:
    outcome = transition(escrow, event, now_ns=now_ns)
    return tuple((leg.from_role, leg.to_role, leg.amount.amount_minor) for leg in outcome.legs)


def test_the_table_covers_exactly_the_allowed_transitions() -> None:
    allowed = {(state, event) for event, states in ALLOWED.items() for state in states}
    assert allowed == set(ACCEPTED)
    assert set(ALLOWED) == set(EVENT_TYPES)


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=pair_id)
def test_every_event_in_every_state_is_accepted_or_refused_as_the_table_says(
        pair: tuple[State, Event]) -> None:
    state, event = pair
    escrow = in_state(state)
    now_ns = legal_time(escrow, event)
    expected = ACCEPTED.get((state, type(event)))
    if expected is None:
        with pytest.raises(EscrowError) as refused:
            transition(escrow, event, now_ns=now_ns)
        wanted = "escrow_transition_not_allowed"
        if isinstance(event, DecideDispute) and state is S.SPLIT:
            wanted = "dispute_already_decided"
        assert refused.value.code == wanted
        assert (refused.value.state, refused.value.event) == (state.value, event.name)
        return
    outcome = transition(escrow, event, now_ns=now_ns)
    assert (outcome.state, outcome.previous_state) == (expected[0], state)
    assert legs_of(escrow, event, now_ns) == expected[1]
    assert outcome.escrow.version == escrow.version + 1
    assert outcome.escrow.updated_at_ns == now_ns
    assert all(leg.amount.currency == "EUR" for leg in outcome.legs)


@pytest.mark.parametrize("state", sorted(FINAL_STATES), ids=str)
def test_a_final_state_refuses_every_event_and_arms_no_timer(state: State) -> None:
    escrow = in_state(state)
    assert escrow.timers == Timers() and escrow.held_minor == 0
    assert due(escrow, 2**62) is None
    for event in sample_events():
        with pytest.raises(EscrowError):
            transition(escrow, event, now_ns=legal_time(escrow, event))


def test_timers_armed_by_each_step_are_the_only_timers() -> None:
    created = in_state(S.CREATED)
    assert created.timers == Timers(expires_at_ns=created.expires_at_ns)
    paid = transition(created, Pay(eur(AMOUNT_MINOR)), now_ns=created.created_at_ns + 5)
    assert paid.timers == Timers(ship_by_ns=created.created_at_ns + 5 + 5 * 86_400 * 10**9)
    shipped = transition(paid.escrow, Ship("UPS", "1Z999"), now_ns=paid.escrow.updated_at_ns + 7)
    assert shipped.timers == Timers(release_at_ns=paid.escrow.updated_at_ns + 7
                                    + 7 * 86_400 * 10**9)
    disputed = transition(shipped.escrow, OpenDispute(DisputeReason.NOT_RECEIVED),
                          now_ns=shipped.escrow.updated_at_ns + 1)
    assert disputed.timers == Timers(), "a dispute stops the automatic release"


def test_a_reviewed_pay_reserves_the_money_and_starts_no_clock_until_released() -> None:
    created = in_state(S.CREATED)
    paid_at = created.created_at_ns + 5
    reviewed = transition(created, Pay(eur(AMOUNT_MINOR), review=True), now_ns=paid_at)
    assert reviewed.state is S.UNDER_REVIEW
    assert legs_of(created, Pay(eur(AMOUNT_MINOR), review=True), paid_at) == \
        ((R.BUYER_FUNDING, R.ESCROW, AMOUNT_MINOR),)
    e = reviewed.escrow
    assert (e.funded_minor, e.held_minor, e.ship_by_ns) == (AMOUNT_MINOR, AMOUNT_MINOR, None)
    assert reviewed.timers == Timers() and due(e, 2**62) is None, "no timer waits for analysts"
    released_at = paid_at + 3 * 86_400 * 10**9
    released = transition(e, ReleaseReview(), now_ns=released_at)
    assert released.state is S.HELD and released.legs == ()
    assert released.timers == Timers(ship_by_ns=released_at + 5 * 86_400 * 10**9), \
        "the ship-by clock starts when the analyst lets the payment go on"
    shipped = transition(released.escrow, Ship("UPS", "1Z9"), now_ns=released_at + 1)
    assert shipped.state is S.SHIPPED


def test_a_declined_review_returns_everything_and_accepts_nothing_more() -> None:
    reviewed = in_state(S.UNDER_REVIEW)
    declined = transition(reviewed, DeclineReview(), now_ns=reviewed.updated_at_ns + 1).escrow
    assert declined.state is S.DECLINED and declined.is_final
    assert (declined.held_minor, declined.refunded_minor, declined.released_minor,
            declined.fee_minor) == (0, AMOUNT_MINOR, 0, 0)
    for event in (ReleaseReview(), DeclineReview(), Cancel(), Refund(eur(1))):
        with pytest.raises(EscrowError) as refused:
            transition(declined, event, now_ns=declined.updated_at_ns + 1)
        assert refused.value.code == "escrow_transition_not_allowed"


def test_a_payment_under_review_refuses_shipping_refunds_and_timers() -> None:
    reviewed = in_state(S.UNDER_REVIEW)
    for event in (Ship("DHL", "JJD1"), Refund(eur(1)), ConfirmReceipt(), AutoRefund(),
                  Pay(eur(AMOUNT_MINOR), review=True)):
        with pytest.raises(EscrowError) as refused:
            transition(reviewed, event, now_ns=reviewed.updated_at_ns + 1)
        assert refused.value.code == "escrow_transition_not_allowed"


def test_refused_events_leave_the_payment_as_it_was() -> None:
    for state in State:
        escrow = in_state(state)
        before = dataclasses.asdict(escrow)
        for event in sample_events():
            try:
                transition(escrow, event, now_ns=0)
            except EscrowError:
                pass
            assert dataclasses.asdict(escrow) == before


def test_a_decided_dispute_keeps_its_decision_and_refuses_a_second_one() -> None:
    for decision, state in ((DecideDispute.release(), S.RELEASED),
                            (DecideDispute.refund(), S.REFUNDED)):
        disputed = in_state(S.DISPUTED)
        decided = transition(disputed, decision, now_ns=disputed.updated_at_ns + 1).escrow
        assert decided.state is state and decided.dispute is not None
        assert decided.dispute.status is DisputeStatus.DECIDED
        for again in (DecideDispute.refund(), DecideDispute.release(),
                      DecideDispute.split(refund=eur(1), release=eur(AMOUNT_MINOR - 1))):
            with pytest.raises(EscrowError) as refused:
                transition(decided, again, now_ns=decided.updated_at_ns + 1)
            assert refused.value.code == "dispute_already_decided"

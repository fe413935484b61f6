"""The escrow state machine: one pure function per step, one to ask what is due.

:func:`transition` takes a payment, an event and the time, and returns an
:class:`Outcome` or raises :class:`EscrowError` (the payment, being immutable,
is unchanged). Time comes only from ``now_ns``; nothing here reads a clock.
Every accepted step is checked before it is returned: the new payment's
invariants, and that the legs move exactly what the counters say they moved.
A failed check raises ``InvariantViolation``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ..errors import InvariantViolation
from ..money import Money
from .dispute import Decision, Dispute, DisputeStatus, Resolution
from .errors import EscrowError
from .escrow import Escrow, Shipment, State, check_time
from .events import (
    AnswerDispute,
    AutoRefund,
    AutoRelease,
    Cancel,
    ConfirmReceipt,
    DecideDispute,
    DeclineReview,
    Event,
    Expire,
    OpenDispute,
    Pay,
    Refund,
    ReleaseReview,
    Ship,
)
from .legs import Leg, Outcome, Role, check_outcome

S = State
ALLOWED: Mapping[type[Any], frozenset[State]] = MappingProxyType({
    Pay: frozenset({S.CREATED}),
    ReleaseReview: frozenset({S.UNDER_REVIEW}),
    DeclineReview: frozenset({S.UNDER_REVIEW}),
    Cancel: frozenset({S.CREATED, S.UNDER_REVIEW, S.HELD}),
    Ship: frozenset({S.HELD}),
    ConfirmReceipt: frozenset({S.SHIPPED}),
    OpenDispute: frozenset({S.SHIPPED}),
    AnswerDispute: frozenset({S.DISPUTED}),
    DecideDispute: frozenset({S.DISPUTED}),
    Refund: frozenset({S.HELD, S.SHIPPED, S.DISPUTED}),
    Expire: frozenset({S.CREATED}),
    AutoRefund: frozenset({S.HELD}),
    AutoRelease: frozenset({S.SHIPPED}),
})

Step = tuple[Escrow, tuple[Leg, ...]]


def transition(escrow: Escrow, event: Event, *, now_ns: int) -> Outcome:
    """Apply ``event`` at ``now_ns``; the new payment, its legs and its timers."""
    check_time(now_ns)
    if not isinstance(escrow, Escrow):
        raise TypeError(f"escrow {escrow!r} is not an Escrow")
    allowed = ALLOWED.get(type(event))
    if allowed is None:
        raise TypeError(f"event {event!r} is not an escrow event")
    if escrow.state not in allowed:
        _refuse_not_allowed(escrow, event)
    after, legs = _HANDLERS[type(event)](escrow, event, now_ns)
    after = replace(after, version=escrow.version + 1, updated_at_ns=now_ns)
    outcome = Outcome(escrow=after, previous_state=escrow.state, event=event, legs=legs)
    check_outcome(escrow, outcome)
    return outcome


def due(escrow: Escrow, now_ns: int) -> Expire | AutoRefund | AutoRelease | None:
    """The timer event due at ``now_ns`` (a deadline is due from its instant on), or None."""
    check_time(now_ns)
    timers = escrow.timers
    if timers.expires_at_ns is not None and now_ns >= timers.expires_at_ns:
        return Expire()
    if timers.ship_by_ns is not None and now_ns >= timers.ship_by_ns:
        return AutoRefund()
    if timers.release_at_ns is not None and now_ns >= timers.release_at_ns:
        return AutoRelease()
    return None


def _refuse(code: str, detail: str, escrow: Escrow, event: Event) -> EscrowError:
    return EscrowError(code, detail, state=escrow.state.value, event=event.name)


def _refuse_not_allowed(escrow: Escrow, event: Event) -> None:
    if isinstance(event, DecideDispute) and escrow.dispute is not None \
            and escrow.dispute.status is DisputeStatus.DECIDED:
        raise _refuse("dispute_already_decided", f"the dispute on {escrow.payment_id} was "
                      "already decided", escrow, event)
    raise _refuse("escrow_transition_not_allowed", f"{event.name} is not allowed on a "
                  f"{escrow.state.value} payment", escrow, event)


def _amount_of(escrow: Escrow, event: Event, money: Money) -> int:
    if money.currency != escrow.currency:
        raise _refuse("currency_mismatch", f"{money.currency} amount for a {escrow.currency} "
                      "payment", escrow, event)
    return money.amount_minor


def _leg(escrow: Escrow, source: Role, target: Role, amount_minor: int) -> tuple[Leg, ...]:
    return (Leg(source, target, Money(amount_minor, escrow.currency)),) if amount_minor else ()


def _pay_out(e: Escrow, state: State, *, refund_minor: int, gross_minor: int) -> Step:
    """Empty escrow: ``refund_minor`` back to the buyer, ``gross_minor`` on, less the fee."""
    fee_minor = e.fee.fee_for(gross_minor)
    net_minor = gross_minor - fee_minor
    after = replace(e, state=state, held_minor=e.held_minor - refund_minor - gross_minor,
                    refunded_minor=e.refunded_minor + refund_minor,
                    released_minor=e.released_minor + net_minor,
                    fee_minor=e.fee_minor + fee_minor)
    legs = (_leg(e, Role.ESCROW, Role.BUYER_FUNDING, refund_minor)
            + _leg(e, Role.ESCROW, Role.MERCHANT, net_minor)
            + _leg(e, Role.ESCROW, Role.PLATFORM_FEE, fee_minor))
    return after, legs


def _refund_all(e: Escrow, state: State) -> Step:
    return _pay_out(e, state, refund_minor=e.held_minor, gross_minor=0)


def _release_all(e: Escrow) -> Step:
    return _pay_out(e, State.RELEASED, refund_minor=0, gross_minor=e.held_minor)


# check_invariants guarantees what these three check; they narrow types, and unlike
# an assert statement they survive python -O.
def _armed(e: Escrow, deadline_ns: int | None) -> int:
    if deadline_ns is None:
        raise InvariantViolation(f"{e.payment_id}: a {e.state} payment without its timer")
    return deadline_ns


def _open(e: Escrow) -> Dispute:
    if e.dispute is None:
        raise InvariantViolation(f"{e.payment_id}: disputed without a dispute")
    return e.dispute


def _given(part: Money | None) -> Money:
    if part is None:
        raise InvariantViolation("a split without both parts (DecideDispute checks this)")
    return part


def _pay(e: Escrow, ev: Pay, now_ns: int) -> Step:
    if now_ns >= e.expires_at_ns:
        raise _refuse("escrow_session_expired", f"the checkout session of {e.payment_id} "
                      "expired", e, ev)
    if _amount_of(e, ev, ev.amount) != e.amount.amount_minor:
        raise _refuse("escrow_amount_mismatch", f"paid {ev.amount.amount_minor}, the order is "
                      f"{e.amount.amount_minor} minor units", e, ev)
    amount_minor = e.amount.amount_minor
    paid = replace(e, funded_minor=amount_minor, held_minor=amount_minor)
    after = replace(paid, state=S.UNDER_REVIEW) if ev.review else _go_on(paid, now_ns)
    return after, _leg(e, Role.BUYER_FUNDING, Role.ESCROW, amount_minor)


def _go_on(e: Escrow, now_ns: int) -> Escrow:
    """Held, the merchant's ship-by clock started at ``now_ns`` (a pay, or its release)."""
    return replace(e, state=S.HELD, ship_by_ns=now_ns + e.terms.ship_within_ns)


def _release_review(e: Escrow, ev: ReleaseReview, now_ns: int) -> Step:
    return _go_on(e, now_ns), ()


def _decline_review(e: Escrow, ev: DeclineReview, now_ns: int) -> Step:
    return _refund_all(e, S.DECLINED)


def _cancel(e: Escrow, ev: Cancel, now_ns: int) -> Step:
    return _refund_all(e, S.CANCELLED)


def _ship(e: Escrow, ev: Ship, now_ns: int) -> Step:
    if now_ns >= _armed(e, e.ship_by_ns):
        raise _refuse("escrow_ship_deadline_passed", f"{e.payment_id} had to ship by "
                      f"{e.ship_by_ns}", e, ev)
    shipment = Shipment(carrier=ev.carrier, tracking=ev.tracking, shipped_at_ns=now_ns)
    return replace(e, state=S.SHIPPED, shipment=shipment,
                   release_at_ns=now_ns + e.terms.inspection_ns), ()


def _confirm_receipt(e: Escrow, ev: ConfirmReceipt, now_ns: int) -> Step:
    return _release_all(e)


def _open_dispute(e: Escrow, ev: OpenDispute, now_ns: int) -> Step:
    if now_ns >= _armed(e, e.release_at_ns):
        raise _refuse("escrow_inspection_period_over", f"the inspection period of "
                      f"{e.payment_id} ended at {e.release_at_ns}", e, ev)
    dispute = Dispute(reason=ev.reason, detail=ev.detail, buyer_evidence_refs=ev.evidence_refs,
                      opened_at_ns=now_ns, held_at_open_minor=e.held_minor)
    return replace(e, state=S.DISPUTED, dispute=dispute), ()


def _answer_dispute(e: Escrow, ev: AnswerDispute, now_ns: int) -> Step:
    if _open(e).status is not DisputeStatus.OPEN:
        raise _refuse("dispute_already_answered", f"the dispute on {e.payment_id} was already "
                      "answered", e, ev)
    dispute = replace(_open(e), status=DisputeStatus.ANSWERED, statement=ev.statement,
                      merchant_evidence_refs=ev.evidence_refs, answered_at_ns=now_ns)
    return replace(e, dispute=dispute), ()


def _decide_dispute(e: Escrow, ev: DecideDispute, now_ns: int) -> Step:
    if ev.resolution is Resolution.RELEASE:
        refund_minor, gross_minor, state = 0, e.held_minor, S.RELEASED
    elif ev.resolution is Resolution.REFUND:
        refund_minor, gross_minor, state = e.held_minor, 0, S.REFUNDED
    else:
        refund_minor = _amount_of(e, ev, _given(ev.refund_amount))
        gross_minor = _amount_of(e, ev, _given(ev.release_amount))
        state = S.SPLIT
        if refund_minor + gross_minor != e.held_minor:
            raise _refuse("split_does_not_add_up", f"refund {refund_minor} + release "
                          f"{gross_minor} != held {e.held_minor} minor units", e, ev)
        if refund_minor == 0 or gross_minor == 0:
            raise _refuse("split_part_not_positive", "a split gives each side something; "
                          "decide release or refund instead", e, ev)
    decision = Decision(resolution=ev.resolution, refund_minor=refund_minor,
                        release_gross_minor=gross_minor, decided_at_ns=now_ns)
    dispute = replace(_open(e), status=DisputeStatus.DECIDED, decision=decision,
                      closed_at_ns=now_ns)
    return _pay_out(replace(e, dispute=dispute), state, refund_minor=refund_minor,
                    gross_minor=gross_minor)


def _refund(e: Escrow, ev: Refund, now_ns: int) -> Step:
    amount_minor = _amount_of(e, ev, ev.amount)
    if amount_minor == 0:
        raise _refuse("refund_amount_invalid", "a refund is of at least one minor unit", e, ev)
    if amount_minor > e.held_minor:
        raise _refuse("refund_exceeds_held", f"refund of {amount_minor} exceeds the "
                      f"{e.held_minor} minor units held", e, ev)
    if amount_minor < e.held_minor:
        return _pay_out(e, e.state, refund_minor=amount_minor, gross_minor=0)
    if e.dispute is not None:
        e = replace(e, dispute=replace(e.dispute, status=DisputeStatus.CLOSED,
                                       closed_at_ns=now_ns))
    return _refund_all(e, S.REFUNDED)


def _deadline(e: Escrow, ev: Event, deadline_ns: int | None, now_ns: int) -> None:
    if deadline_ns is None or now_ns < deadline_ns:
        raise _refuse("escrow_timer_not_due", f"{ev.name} of {e.payment_id} is due at "
                      f"{deadline_ns}, not at {now_ns}", e, ev)


def _expire(e: Escrow, ev: Expire, now_ns: int) -> Step:
    _deadline(e, ev, e.expires_at_ns, now_ns)
    return replace(e, state=S.EXPIRED), ()


def _auto_refund(e: Escrow, ev: AutoRefund, now_ns: int) -> Step:
    _deadline(e, ev, e.ship_by_ns, now_ns)
    return _refund_all(e, S.REFUNDED)


def _auto_release(e: Escrow, ev: AutoRelease, now_ns: int) -> Step:
    _deadline(e, ev, e.release_at_ns, now_ns)
    return _release_all(e)


_HANDLERS: Mapping[type[Any], Callable[[Escrow, Any, int], Step]] = MappingProxyType({
    Pay: _pay, ReleaseReview: _release_review, DeclineReview: _decline_review,
    Cancel: _cancel, Ship: _ship, ConfirmReceipt: _confirm_receipt,
    OpenDispute: _open_dispute, AnswerDispute: _answer_dispute, DecideDispute: _decide_dispute,
    Refund: _refund, Expire: _expire, AutoRefund: _auto_refund, AutoRelease: _auto_release,
})

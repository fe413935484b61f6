"""An escrow payment: its state, its money counters, its timers, its invariants.

States (decision 0012 draws the diagram)::

    created       unpaid checkout session           -> held, under_review, cancelled,
                                                       expired
    under_review  escrow reserves the buyer's money,
                  an analyst checks the pay         -> held, declined, cancelled
    held          escrow holds the buyer's money    -> shipped, cancelled, refunded
    shipped       inspection period running         -> released, disputed, refunded
    disputed      the buyer rejected the goods      -> released, refunded, split
    released, refunded, split, cancelled, expired, declined: final

A pay the risk screening answered ``review`` for (decision 0039) moves the money into
escrow exactly as a pay does, so the merchant cannot touch it, but waits in
``under_review`` with no ship-by timer: the shop must not start its clock (or ship) before
an analyst lets the payment go on. Release arms the ship-by timer from its own instant;
decline returns everything to the buyer (``declined``).

Money counters, all integers of minor units in ``amount.currency``:

    funded_minor   paid into escrow (0, or the order amount once paid)
    held_minor     what escrow holds now
    refunded_minor back to the buyer so far (partial refunds add up)
    released_minor to the merchant, net of the fee
    fee_minor      to the platform, taken on release only

and always ``funded == held + refunded + released + fee``; in a final state
``held == 0``. :func:`check_invariants` checks all of this and raises
``InvariantViolation`` on a breach; the machine calls it after every step.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ..errors import InvariantViolation
from ..ledger.model import AMOUNT_MAX
from ..money import Money
from .dispute import Dispute, DisputeStatus, Resolution
from .errors import EscrowError
from .terms import EscrowTerms, FeeSchedule

PAYMENT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
SESSION_TTL_NS_MAX = 24 * 3_600 * 1_000_000_000


class State(enum.StrEnum):
    CREATED = "created"
    UNDER_REVIEW = "under_review"
    HELD = "held"
    SHIPPED = "shipped"
    DISPUTED = "disputed"
    RELEASED = "released"
    REFUNDED = "refunded"
    SPLIT = "split"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DECLINED = "declined"


FINAL_STATES = frozenset({State.RELEASED, State.REFUNDED, State.SPLIT, State.CANCELLED,
                          State.EXPIRED, State.DECLINED})
HOLDING_STATES = frozenset({State.UNDER_REVIEW, State.HELD, State.SHIPPED, State.DISPUTED})
# A pay made without review arms the ship-by timer and keeps it for good; one still under
# review, or declined by the analyst, never had it (a cancelled one may have either).
_SHIP_BY_ARMED = frozenset({State.HELD, State.SHIPPED, State.DISPUTED, State.RELEASED,
                            State.REFUNDED, State.SPLIT})
_SHIP_BY_UNARMED = frozenset({State.CREATED, State.EXPIRED, State.UNDER_REVIEW,
                              State.DECLINED})


@dataclass(frozen=True, slots=True)
class Shipment:
    carrier: str
    tracking: str
    shipped_at_ns: int


@dataclass(frozen=True, slots=True)
class Timers:
    """The deadlines armed in a state; ``None`` when not armed. Replace, never merge."""

    expires_at_ns: int | None = None
    ship_by_ns: int | None = None
    release_at_ns: int | None = None

    def next_ns(self) -> int | None:
        armed = [t for t in (self.expires_at_ns, self.ship_by_ns, self.release_at_ns)
                 if t is not None]
        return min(armed) if armed else None


@dataclass(frozen=True, slots=True)
class Escrow:
    """One escrow payment. Immutable: the machine returns a new value for every step.

    ``version`` counts applied events, so the service can store a step with
    ``UPDATE ... WHERE version = :old`` and lose a race instead of double-spending.
    """

    payment_id: str
    amount: Money
    terms: EscrowTerms
    fee: FeeSchedule
    created_at_ns: int
    expires_at_ns: int
    state: State = State.CREATED
    version: int = 0
    updated_at_ns: int = 0
    funded_minor: int = 0
    held_minor: int = 0
    refunded_minor: int = 0
    released_minor: int = 0
    fee_minor: int = 0
    ship_by_ns: int | None = None
    release_at_ns: int | None = None
    shipment: Shipment | None = None
    dispute: Dispute | None = None

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def held(self) -> Money:
        return Money(self.held_minor, self.currency)

    @property
    def timers(self) -> Timers:
        if self.state is State.CREATED:
            return Timers(expires_at_ns=self.expires_at_ns)
        if self.state is State.HELD:
            return Timers(ship_by_ns=self.ship_by_ns)
        if self.state is State.SHIPPED:
            return Timers(release_at_ns=self.release_at_ns)
        return Timers()


def _is_time(value: object) -> bool:
    return type(value) is int and 0 <= value <= AMOUNT_MAX


def check_time(now_ns: object) -> int:
    if not _is_time(now_ns):
        raise EscrowError("escrow_invalid", f"time {now_ns!r} is not an integer of "
                          "nanoseconds since the epoch")
    return now_ns  # type: ignore[return-value]


def new_escrow(payment_id: str, amount: Money, terms: EscrowTerms, fee: FeeSchedule, *,
               now_ns: int, expires_at_ns: int) -> Escrow:
    """A checkout session's payment, unpaid, expiring at ``expires_at_ns``."""
    if not (type(payment_id) is str and PAYMENT_ID_PATTERN.fullmatch(payment_id)):
        raise EscrowError("escrow_invalid", "payment id is 1 to 64 letters, digits, _ . : -")
    if not isinstance(amount, Money) or amount.amount_minor == 0:
        raise EscrowError("escrow_invalid", f"amount {amount!r} is not a positive Money")
    if not isinstance(terms, EscrowTerms) or not isinstance(fee, FeeSchedule):
        raise EscrowError("escrow_invalid", "terms and fee are EscrowTerms and FeeSchedule")
    check_time(now_ns)
    check_time(expires_at_ns)
    if not 0 < expires_at_ns - now_ns <= SESSION_TTL_NS_MAX:
        raise EscrowError("escrow_invalid", f"expiry {expires_at_ns} is not after {now_ns} "
                          f"and at most {SESSION_TTL_NS_MAX} ns later")
    escrow = Escrow(payment_id=payment_id, amount=amount, terms=terms, fee=fee,
                    created_at_ns=now_ns, expires_at_ns=expires_at_ns, updated_at_ns=now_ns)
    check_invariants(escrow)
    return escrow


def _require(ok: bool, escrow: Escrow, what: str) -> None:
    if not ok:
        raise InvariantViolation(f"escrow {escrow.payment_id} in state {escrow.state}: {what}")


def check_invariants(e: Escrow) -> None:
    """Raise ``InvariantViolation`` unless ``e`` is a state the machine may reach."""
    counters = (e.funded_minor, e.held_minor, e.refunded_minor, e.released_minor, e.fee_minor)
    _require(all(type(c) is int and 0 <= c <= AMOUNT_MAX for c in counters), e,
             f"counters {counters} are not amounts")
    _require(e.funded_minor == e.held_minor + e.refunded_minor + e.released_minor + e.fee_minor,
             e, f"funded != held + refunded + released + fee: {counters}")
    _require(e.funded_minor in (0, e.amount.amount_minor), e, "funded is neither 0 nor the amount")
    if e.state in (State.CREATED, State.EXPIRED):
        _require(e.funded_minor == 0, e, "funded before payment")
    elif e.state is not State.CANCELLED:
        _require(e.funded_minor > 0, e, "not funded after payment")
    if e.state in FINAL_STATES:
        _require(e.held_minor == 0, e, "a final state holds money")
    if e.state in HOLDING_STATES:
        _require(e.held_minor > 0, e, "a holding state holds nothing")
    paid_on = e.released_minor + e.fee_minor
    if e.state in (State.RELEASED, State.SPLIT):
        _require(paid_on > 0 and e.fee_minor == e.fee.fee_for(paid_on), e,
                 "the fee does not follow the fee schedule")
    else:
        _require(paid_on == 0, e, "money released outside released or split")
    if e.state is State.SPLIT:
        _require(e.refunded_minor > 0, e, "a split refunded nothing")
    if e.state in (State.REFUNDED, State.DECLINED):
        _require(e.refunded_minor == e.funded_minor, e, "refunded is not everything paid")
    if e.state is State.UNDER_REVIEW:
        _require(e.held_minor == e.funded_minor, e, "under review with money moved on")
    _check_timers_and_records(e)


def _check_timers_and_records(e: Escrow) -> None:
    if e.state in _SHIP_BY_ARMED:
        _require(e.ship_by_ns is not None, e, "ship-by timer not armed")
    elif e.state in _SHIP_BY_UNARMED:
        _require(e.ship_by_ns is None, e, "ship-by timer armed")
    else:  # cancelled: armed only if it was paid without review (or released from it)
        _require(e.ship_by_ns is None or e.funded_minor > 0, e, "ship-by timer unpaid")
    _require((e.shipment is not None) == (e.release_at_ns is not None), e,
             "release timer without shipment")
    if e.state in (State.SHIPPED, State.DISPUTED):
        _require(e.shipment is not None, e, "shipped without a shipment")
    if e.state in (State.HELD, State.UNDER_REVIEW, State.DECLINED):
        _require(e.shipment is None and e.dispute is None, e, "held with a shipment or dispute")
    if e.state is State.DISPUTED:
        _require(e.dispute is not None and not e.dispute.is_final, e, "disputed without an open "
                 "dispute")
    elif e.dispute is not None:
        _require(e.dispute.is_final and e.state in (State.RELEASED, State.REFUNDED, State.SPLIT),
                 e, "a dispute left open outside disputed")
        decision = e.dispute.decision
        if e.dispute.status is DisputeStatus.DECIDED:
            _require(decision is not None and _decision_matches(e, decision.resolution), e,
                     "the decision does not match the final state")
        else:
            _require(decision is None and e.state is State.REFUNDED, e, "closed without refund")


def _decision_matches(e: Escrow, resolution: Resolution) -> bool:
    expected = {Resolution.RELEASE: State.RELEASED, Resolution.REFUND: State.REFUNDED,
                Resolution.SPLIT: State.SPLIT}
    return expected[resolution] is e.state

"""What a transition returns: the new payment, the money legs, the timers to arm.

A leg moves ``amount`` from one role's account to another's. The service maps
each role to a ledger account of the payment's currency and posts all legs of
one outcome as ONE chain of linked transfers (all or nothing), in the order
given. Legs of zero are left out: the ledger refuses a transfer of zero.

    buyer_funding ──pay──▶ escrow ──release──▶ merchant
          ▲                  │  └──release──▶ platform_fee
          └────refund────────┘
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import InvariantViolation
from ..money import Money
from .escrow import Escrow, State, Timers, check_invariants
from .events import Event


class Role(enum.StrEnum):
    BUYER_FUNDING = "buyer_funding"  # where the buyer's money came from and returns to
    ESCROW = "escrow"  # the payment's escrow (holding) account
    MERCHANT = "merchant"  # the merchant's balance
    PLATFORM_FEE = "platform_fee"  # the platform's fee income


@dataclass(frozen=True, slots=True)
class Leg:
    from_role: Role
    to_role: Role
    amount: Money


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one accepted event.

    ``escrow`` is the payment after the event; ``legs`` the money to post,
    together and in order; ``timers`` every deadline armed after the event (the
    service replaces the payment's schedule with it).
    """

    escrow: Escrow
    previous_state: State
    event: Event
    legs: tuple[Leg, ...]

    @property
    def timers(self) -> Timers:
        return self.escrow.timers

    @property
    def state(self) -> State:
        return self.escrow.state

    def escrow_net_minor(self) -> int:
        """Minor units the legs move into escrow, less what they move out."""
        into = sum(leg.amount.amount_minor for leg in self.legs if leg.to_role is Role.ESCROW)
        out = sum(leg.amount.amount_minor for leg in self.legs if leg.from_role is Role.ESCROW)
        return into - out


def _moved(outcome: Outcome, source: Role, target: Role) -> int:
    return sum(leg.amount.amount_minor for leg in outcome.legs
               if leg.from_role is source and leg.to_role is target)


def check_outcome(before: Escrow, outcome: Outcome) -> None:
    """Raise ``InvariantViolation`` unless the new payment is legal and the legs move
    exactly what its counters say moved (into and out of escrow, per pair of roles)."""
    after = outcome.escrow
    check_invariants(after)
    for leg in outcome.legs:
        if leg.amount.currency != before.currency or leg.amount.amount_minor <= 0:
            raise InvariantViolation(f"{before.payment_id}: leg {leg!r} is not a positive "
                                     f"{before.currency} amount")
    expected = (
        (Role.BUYER_FUNDING, Role.ESCROW, after.funded_minor - before.funded_minor),
        (Role.ESCROW, Role.BUYER_FUNDING, after.refunded_minor - before.refunded_minor),
        (Role.ESCROW, Role.MERCHANT, after.released_minor - before.released_minor),
        (Role.ESCROW, Role.PLATFORM_FEE, after.fee_minor - before.fee_minor),
    )
    accounted = 0
    for source, target, delta in expected:
        moved = _moved(outcome, source, target)
        accounted += sum(1 for leg in outcome.legs
                         if leg.from_role is source and leg.to_role is target)
        if moved != delta:
            raise InvariantViolation(f"{before.payment_id}: legs move {moved} from {source} to "
                                     f"{target}, the counters {delta}")
    if accounted != len(outcome.legs) or \
            outcome.escrow_net_minor() != after.held_minor - before.held_minor:
        raise InvariantViolation(f"{before.payment_id}: legs {outcome.legs!r} do not match the "
                                 "change of what escrow holds")

"""Errors of the escrow machine.

    DomainError
    └── EscrowError                     a refused escrow request; nothing changed. ``code``:
          escrow_transition_not_allowed   the event is not allowed in the payment's state
          escrow_timer_not_due            a timer event (expire, auto_refund, auto_release)
                                          before its deadline
          escrow_session_expired          payment of a checkout session past its expiry
          escrow_ship_deadline_passed     shipment at or after the ship-by deadline
          escrow_inspection_period_over   a dispute opened at or after the release time
          escrow_amount_mismatch          payment of another amount than the order's
          currency_mismatch               an amount in another currency than the payment's
          refund_amount_invalid           a refund of zero
          refund_exceeds_held             a refund larger than what escrow still holds
          split_does_not_add_up           split parts whose sum is not exactly what is held
          split_part_not_positive         a split with a zero part (decide release or refund)
          dispute_already_answered        a second answer to a dispute
          dispute_already_decided         a second decision on a decided dispute
          dispute_input_invalid           reason, statement or evidence references malformed
          shipment_invalid                carrier or tracking number malformed
          escrow_terms_invalid            days to ship / until release out of bounds
          fee_schedule_invalid            fee basis points or fixed fee out of bounds
          escrow_invalid                  a malformed payment id, time or expiry at creation

Money errors (``money_amount_invalid``, ``currency_invalid``) come from
``paywarden.domain.money``. A broken invariant of the machine itself raises
``InvariantViolation`` (``paywarden.domain.errors``), which must never be caught.
"""

from __future__ import annotations

from ..errors import DomainError


class EscrowError(DomainError):
    """A refused escrow request. ``state`` and ``event`` name where it was refused."""

    def __init__(self, code: str, detail: str, *, state: str | None = None,
                 event: str | None = None) -> None:
        super().__init__(code, detail)
        self.state = state
        self.event = event

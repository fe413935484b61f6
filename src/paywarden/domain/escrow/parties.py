"""Who sends an event to a payment, and which events each may send.

Where a party acts for someone (a buyer for themselves, a merchant for its shop),
the service also checks that the payment is theirs; this module says only which
role may ask for what.
"""

from __future__ import annotations

import enum

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


class PartyRole(enum.StrEnum):
    BUYER = "buyer"  # the buyer who pays (usr_…)
    MERCHANT = "merchant"  # the merchant paid (mer_…)
    STAFF = "staff"  # operator staff deciding disputes, refunding or answering a review
    SYSTEM = "system"  # the platform's timers


_B, _M, _S, _T = PartyRole.BUYER, PartyRole.MERCHANT, PartyRole.STAFF, PartyRole.SYSTEM
SENDERS: dict[type[Event], frozenset[PartyRole]] = {
    Pay: frozenset({_B}), Cancel: frozenset({_B, _M, _S}), Ship: frozenset({_M}),
    ConfirmReceipt: frozenset({_B}), OpenDispute: frozenset({_B}),
    AnswerDispute: frozenset({_M}), DecideDispute: frozenset({_S}),
    Refund: frozenset({_M, _S}), Expire: frozenset({_T}), AutoRefund: frozenset({_T}),
    AutoRelease: frozenset({_T}),
    # A risk analyst's outcome of a case (services/risk/resolvers.py acts as that staff).
    ReleaseReview: frozenset({_S}), DeclineReview: frozenset({_S}),
}

"""Events: what can happen to an escrow payment, as small immutable values.

Each event has a stable ``name`` (for audit records and webhooks). The
constructor checks only the event's own shape; whether it is allowed now is
for :func:`paywarden.domain.escrow.transition` to say. Who may send which event
is the service's rule (the access policy); the intended party is noted below.

    event            sent by             allowed in
    pay              checkout service    created (review=True: to under_review)
    review_release   staff (analyst)     under_review
    review_decline   staff (analyst)     under_review
    cancel           buyer or merchant   created, under_review, held
    ship             merchant            held (before the ship-by deadline)
    confirm_receipt  buyer               shipped
    open_dispute     buyer (rejection)   shipped (before the release time)
    answer_dispute   merchant            disputed (once)
    decide_dispute   staff               disputed (once)
    refund           merchant            held, shipped, disputed
    expire           timer               created, at or after expires_at_ns
    auto_refund      timer               held, at or after ship_by_ns
    auto_release     timer               shipped, at or after release_at_ns
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from ..money import Money, MoneyError
from .dispute import DisputeReason, Resolution, check_evidence_refs, check_text
from .errors import EscrowError

CARRIER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}")
TRACKING_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def _money(value: object, what: str) -> Money:
    if not isinstance(value, Money):
        raise MoneyError("money_amount_invalid", f"{what} {value!r} is not Money")
    return value


@dataclass(frozen=True, slots=True)
class Pay:
    """The buyer's money was collected; escrow now holds ``amount``.

    ``review``: the risk screening answered review (decision 0039). The money moves all
    the same — reserved in escrow, out of the buyer's and the merchant's reach — but the
    payment waits for an analyst in ``under_review``, its ship-by timer not yet armed.
    """

    name: ClassVar[str] = "pay"
    amount: Money
    review: bool = False

    def __post_init__(self) -> None:
        _money(self.amount, "amount")
        if type(self.review) is not bool:
            raise EscrowError("escrow_invalid", f"review {self.review!r} is not a bool")


@dataclass(frozen=True, slots=True)
class ReleaseReview:
    """The analyst let a reviewed pay go on: held, the ship-by timer armed from now."""

    name: ClassVar[str] = "review_release"


@dataclass(frozen=True, slots=True)
class DeclineReview:
    """The analyst stopped a reviewed pay: everything reserved goes back to the buyer."""

    name: ClassVar[str] = "review_decline"


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel before shipment: nothing moves if unpaid, else everything held goes back."""

    name: ClassVar[str] = "cancel"


@dataclass(frozen=True, slots=True)
class Ship:
    name: ClassVar[str] = "ship"
    carrier: str
    tracking: str

    def __post_init__(self) -> None:
        if not (type(self.carrier) is str and CARRIER_PATTERN.fullmatch(self.carrier)):
            raise EscrowError("shipment_invalid", "carrier is 1 to 64 letters, digits, spaces, "
                              "_ . -")
        if not (type(self.tracking) is str and TRACKING_PATTERN.fullmatch(self.tracking)):
            raise EscrowError("shipment_invalid", "tracking is 1 to 64 letters, digits, _ . -")


@dataclass(frozen=True, slots=True)
class ConfirmReceipt:
    """The buyer accepts the goods: release now, ending the inspection period early."""

    name: ClassVar[str] = "confirm_receipt"


@dataclass(frozen=True, slots=True)
class OpenDispute:
    """The buyer rejects the goods within the inspection period."""

    name: ClassVar[str] = "open_dispute"
    reason: DisputeReason
    detail: str = ""
    evidence_refs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.reason, DisputeReason):
            raise EscrowError("dispute_input_invalid", f"reason {self.reason!r} is not one of "
                              + ", ".join(r.value for r in DisputeReason))
        check_text(self.detail, what="detail", empty_ok=True)
        check_evidence_refs(self.evidence_refs)


@dataclass(frozen=True, slots=True)
class AnswerDispute:
    name: ClassVar[str] = "answer_dispute"
    statement: str
    evidence_refs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_text(self.statement, what="statement", empty_ok=False)
        check_evidence_refs(self.evidence_refs)


@dataclass(frozen=True, slots=True)
class DecideDispute:
    """Staff's decision. Build it with :meth:`release`, :meth:`refund` or :meth:`split`.

    For a split, ``refund`` (to the buyer) and ``release`` (to the merchant,
    before the fee) must both be positive and add up exactly to what is held.
    """

    name: ClassVar[str] = "decide_dispute"
    resolution: Resolution
    refund_amount: Money | None = None
    release_amount: Money | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.resolution, Resolution):
            raise EscrowError("dispute_input_invalid", f"resolution {self.resolution!r} is not "
                              "release, refund or split")
        has_parts = (self.refund_amount is not None, self.release_amount is not None)
        if self.resolution is Resolution.SPLIT and has_parts != (True, True):
            raise EscrowError("split_does_not_add_up", "a split names both the refund and the "
                              "release amount")
        if self.resolution is not Resolution.SPLIT and has_parts != (False, False):
            raise EscrowError("dispute_input_invalid", f"a {self.resolution.value} decision "
                              "names no amounts: it moves everything held")
        for part in (self.refund_amount, self.release_amount):
            if part is not None:
                _money(part, "split part")

    @classmethod
    def release(cls) -> DecideDispute:
        return cls(Resolution.RELEASE)

    @classmethod
    def refund(cls) -> DecideDispute:
        return cls(Resolution.REFUND)

    @classmethod
    def split(cls, *, refund: Money, release: Money) -> DecideDispute:
        return cls(Resolution.SPLIT, refund_amount=refund, release_amount=release)


@dataclass(frozen=True, slots=True)
class Refund:
    """Give ``amount`` back to the buyer; refunding all that is held ends the payment."""

    name: ClassVar[str] = "refund"
    amount: Money

    def __post_init__(self) -> None:
        _money(self.amount, "amount")


@dataclass(frozen=True, slots=True)
class Expire:
    """Timer: the unpaid checkout session reached its expiry."""

    name: ClassVar[str] = "expire"


@dataclass(frozen=True, slots=True)
class AutoRefund:
    """Timer: not shipped by the ship-by deadline; everything held goes back."""

    name: ClassVar[str] = "auto_refund"


@dataclass(frozen=True, slots=True)
class AutoRelease:
    """Timer: the inspection period ended without a dispute; release."""

    name: ClassVar[str] = "auto_release"


Event = (Pay | ReleaseReview | DeclineReview | Cancel | Ship | ConfirmReceipt | OpenDispute
         | AnswerDispute | DecideDispute | Refund | Expire | AutoRefund | AutoRelease)
EVENT_TYPES: tuple[type[Event], ...] = (Pay, ReleaseReview, DeclineReview, Cancel, Ship,
                                        ConfirmReceipt, OpenDispute, AnswerDispute,
                                        DecideDispute, Refund, Expire, AutoRefund, AutoRelease)
TIMER_EVENT_TYPES: tuple[type[Event], ...] = (Expire, AutoRefund, AutoRelease)

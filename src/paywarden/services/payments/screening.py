"""The interrupt hook of the payments path: before a buyer's money enters escrow, or a
refund leaves it, a screening answers (issue 12, decision 0036).

Payments knows nothing of the risk engine; the engine (services/risk/coverage.py) fills
this hook at bootstrap, as it fills banking's (services/banking/screening.py). What each
answer does to a payment is decided here, in :func:`refusal`:

- ``allow`` lets the transition run;
- ``step_up`` asks for a fresh passkey assertion over the operation. A pay always carries
  one — the buyer's passkey over this exact order, consumed in the payment's transaction —
  so it is already given. A refund has nobody to ask (a merchant signs its requests with a
  key, staff have no passkey over the refund), and it only returns at most what the buyer
  paid, to where it came from: it runs;
- ``review`` of a pay runs it as a reviewed pay (decision 0039): the money moves into
  escrow as for any pay — reserved, out of the merchant's reach — and the payment waits
  in ``under_review`` until an analyst releases it (held, the ship-by clock starts) or
  declines it (everything back to the buyer). The risk engine's case resolver sends
  those events (``payment.`` prefix). A refund has nothing to hold: review refuses it;
- ``decline`` refuses the transition with the reasons.

**The decision commits with the money** (decision 0037, as banking's movements do): a
screening's :attr:`Screen.record` is written in the transition's own unit of the group
commit, so a pay waits for one commit, not two; a transition that does not run (refused
by the screening, the machine or the batch) writes its decision alone.

A staff member's dispute decision moves the held money too (to the buyer, the merchant or
both), and most bank fraud is internal: it is screened as a staff move (kind ``staff``,
the staff member's own velocity, devices and history). ``review`` refuses it until a
second person — a risk analyst — releases the case; the decision tried again then runs.
``decline`` refuses it. The approval engine of the back-office issue will let the
second person approve the decision itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ...domain.errors import DomainError
from ...domain.money import Money

if TYPE_CHECKING:
    from ..writepath import Recording


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    STEP_UP = "step_up"
    REVIEW = "review"
    DECLINE = "decline"


class Operation(enum.StrEnum):
    PAY = "pay"
    REFUND = "refund"
    DISPUTE_DECISION = "dispute_decision"  # staff's, moving what a dispute holds


@dataclass(frozen=True)
class Screened:
    """What is screened: a payment's money about to move."""

    operation: Operation
    payment_id: str
    merchant_id: str
    buyer_id: str | None
    amount: Money
    actor: str
    method: str | None = None  # wallet | bank | card, for a pay
    account_id: str | None = None  # the buyer's bank account a pay is funded from
    refund_id: str | None = None
    staff_id: str | None = None  # who makes a dispute decision (usr_…, or a token's label)
    # The dispute decision itself ("refund", "release", "split:<refund>:<release>"): a case
    # released for one decision lets that decision run, not another.
    decision: str | None = None


@dataclass(frozen=True)
class Screen:
    verdict: Verdict
    reasons: tuple[str, ...] = field(default=())
    # The decision to write: with the transition when it runs, alone when it does not.
    # None: nothing new was decided (no engine, or the first answer of a retried id).
    record: Recording | None = None


ALLOWED = Screen(Verdict.ALLOW)


class PaymentScreening(Protocol):
    def screen_payment(self, screened: Screened) -> Screen: ...


class AllowAll:
    """The default hook: every payment is allowed."""

    def screen_payment(self, screened: Screened) -> Screen:
        return ALLOWED


def held_for_review(screened: Screened, screen: Screen) -> bool:
    """Does this answer run the operation as a pay under review (see the module)?"""
    return screened.operation is Operation.PAY and screen.verdict is Verdict.REVIEW


def refusal(screened: Screened, screen: Screen) -> DomainError | None:
    """The refusal a screening's answer means for this operation, or None: it runs (a pay
    answered review runs under review: :func:`held_for_review`)."""
    if screen.verdict in (Verdict.ALLOW, Verdict.STEP_UP) or held_for_review(screened, screen):
        return None
    reasons = ", ".join(screen.reasons) or str(screen.verdict)
    if screened.operation is Operation.PAY:
        return DomainError("payment_declined", "this payment was declined: " + reasons)
    if screened.operation is Operation.DISPUTE_DECISION:
        if screen.verdict is Verdict.REVIEW:
            return DomainError("dispute_decision_held", "this decision waits for a second "
                               "person: a risk analyst must release its case before it is "
                               "tried again (" + reasons + ")")
        return DomainError("dispute_decision_declined", "this decision was declined: "
                           + reasons)
    return DomainError("refund_declined", "this refund was declined: " + reasons)

"""Escrow ("guarantee") payments: the pure state machine behind issue 5.

No I/O and no clock: the service loads an :class:`Escrow`, calls
:func:`transition` with an event and the clock's ``now_ns``, then stores
``outcome.escrow``, posts ``outcome.legs`` as one chain of linked ledger
transfers, and re-arms ``outcome.timers`` — all in one transaction. A worker
asks :func:`due` which timer event to apply. See decision 0012.
"""

from .dispute import (
    EVIDENCE_REFS_MAX,
    TEXT_CHARS_MAX,
    Decision,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Resolution,
)
from .errors import EscrowError
from .escrow import (
    FINAL_STATES,
    HOLDING_STATES,
    SESSION_TTL_NS_MAX,
    Escrow,
    Shipment,
    State,
    Timers,
    check_invariants,
    new_escrow,
)
from .events import (
    EVENT_TYPES,
    TIMER_EVENT_TYPES,
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
from .machine import ALLOWED, due, transition
from .parties import SENDERS, PartyRole
from .terms import (
    BPS_PER_UNIT,
    DAYS_TO_SHIP_MAX,
    NS_PER_DAY,
    RELEASE_AFTER_DAYS_MAX,
    EscrowTerms,
    FeeSchedule,
)

__all__ = [
    "ALLOWED",
    "BPS_PER_UNIT",
    "DAYS_TO_SHIP_MAX",
    "EVENT_TYPES",
    "EVIDENCE_REFS_MAX",
    "FINAL_STATES",
    "HOLDING_STATES",
    "NS_PER_DAY",
    "RELEASE_AFTER_DAYS_MAX",
    "SENDERS",
    "SESSION_TTL_NS_MAX",
    "TEXT_CHARS_MAX",
    "TIMER_EVENT_TYPES",
    "AnswerDispute",
    "AutoRefund",
    "AutoRelease",
    "Cancel",
    "ConfirmReceipt",
    "DecideDispute",
    "Decision",
    "DeclineReview",
    "Dispute",
    "DisputeReason",
    "DisputeStatus",
    "Escrow",
    "EscrowError",
    "EscrowTerms",
    "Event",
    "Expire",
    "FeeSchedule",
    "Leg",
    "OpenDispute",
    "Outcome",
    "PartyRole",
    "Pay",
    "Refund",
    "ReleaseReview",
    "Resolution",
    "Role",
    "Ship",
    "Shipment",
    "State",
    "Timers",
    "check_invariants",
    "check_outcome",
    "due",
    "new_escrow",
    "transition",
]

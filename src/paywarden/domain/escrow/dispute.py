"""Disputes: opened by the buyer, answered by the merchant, decided by staff.

A dispute is a record inside the payment (``Escrow.dispute``); it changes only
through the machine's events. Free text (the buyer's detail, the merchant's
statement) may hold personal data: the service stores it encrypted and never
puts it in an audit detail or a log. Evidence is referenced, never embedded:
each reference is the id of a document the service stored.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from .errors import EscrowError

TEXT_CHARS_MAX = 2_000
EVIDENCE_REFS_MAX = 20
EVIDENCE_REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


class DisputeReason(enum.StrEnum):
    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    COUNTERFEIT = "counterfeit"
    OTHER = "other"


class DisputeStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the merchant's answer (staff may decide anyway)
    ANSWERED = "answered"  # waiting for staff
    DECIDED = "decided"  # final: staff decided release, refund or split
    CLOSED = "closed"  # final: the merchant refunded everything still held


class Resolution(enum.StrEnum):
    RELEASE = "release"
    REFUND = "refund"
    SPLIT = "split"


def check_text(value: object, *, what: str, empty_ok: bool) -> str:
    if not (type(value) is str and len(value) <= TEXT_CHARS_MAX
            and (empty_ok or value.strip()) and _printable(value)):
        raise EscrowError("dispute_input_invalid", f"{what} is not {'' if empty_ok else '1 to '}"
                          f"{TEXT_CHARS_MAX} printable characters")
    return value


def _printable(value: str) -> bool:
    # Line breaks are allowed in a statement; other control characters are not.
    return all(c.isprintable() or c in "\n\t" for c in value)


def check_evidence_refs(value: object) -> tuple[str, ...]:
    if not (type(value) is tuple and len(value) <= EVIDENCE_REFS_MAX
            and all(type(ref) is str and EVIDENCE_REF_PATTERN.fullmatch(ref) for ref in value)
            and len(set(value)) == len(value)):
        raise EscrowError("dispute_input_invalid", f"evidence references are a tuple of at most "
                          f"{EVIDENCE_REFS_MAX} distinct ids (letters, digits, _ . : -; up to "
                          "64 characters)")
    return value


@dataclass(frozen=True, slots=True)
class Decision:
    """Staff's decision: how much of what was held goes back to the buyer, how much on."""

    resolution: Resolution
    refund_minor: int  # to the buyer
    release_gross_minor: int  # to the merchant before the platform fee
    decided_at_ns: int


@dataclass(frozen=True, slots=True)
class Dispute:
    reason: DisputeReason
    detail: str
    buyer_evidence_refs: tuple[str, ...]
    opened_at_ns: int
    held_at_open_minor: int
    status: DisputeStatus = DisputeStatus.OPEN
    statement: str | None = None
    merchant_evidence_refs: tuple[str, ...] = ()
    answered_at_ns: int | None = None
    decision: Decision | None = None
    closed_at_ns: int | None = None

    @property
    def is_final(self) -> bool:
        return self.status in (DisputeStatus.DECIDED, DisputeStatus.CLOSED)

"""The staff's queues over HTTP, read-only (decision 0049):

    GET /v1/staff/disputes                     payments in dispute, longest waiting first
    GET /v1/staff/certification?status=…      applications: submitted | approved | rejected

Staff only (a merchant or customer reads their own payment or application elsewhere),
with ``read`` on ``payments`` (risk, support, operator, supervisor) or on
``certification`` (merchant_admin, supervisor). Deciding is not here: a dispute decision
is ``POST /v1/payments/{id}/disputes/decision`` (four-eyes, decision 0042) and the
certification decisions are ``POST /v1/merchants/{id}/certification/…``. The pages
``/staff/disputes`` and ``/staff/certification`` read the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ..bootstrap import Platform
from ..domain.approvals import Kind as ApprovalKind
from ..domain.approvals import State as ApprovalState
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.certification.queue import QUEUE_SIZE_MAX, Queued
from ..services.payments import PaymentView
from ..services.payments.buyers import PAGE_SIZE_MAX
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem
from .schemas.staff_queues import DisputesOut, QueueOut

router = APIRouter(prefix="/v1/staff", tags=["staff"])
Status = Literal["submitted", "approved", "rejected"]


@dataclass(frozen=True)
class Disputed:
    """A payment in dispute and the decision on it waiting for a second person, if any."""

    payment: PaymentView
    pending_approval_id: str | None


def staff_may(platform: Platform, principal: Principal, resource: Resource) -> None:
    """Staff with ``read`` on ``resource``; anyone else 403 (never a merchant's own view)."""
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, resource, Access.READ)


def disputes_queue(platform: Platform, *, limit: int = PAGE_SIZE_MAX) -> list[Disputed]:
    """The payments in dispute, each with its pending ``dispute_decision`` approval, so that
    nobody submits a second decision while one waits."""
    waiting = {a.params.get("payment_id"): a.id for a in platform.approvals.list(
        state=str(ApprovalState.PENDING), kinds=[str(ApprovalKind.DISPUTE_DECISION)])}
    return [Disputed(view, waiting.get(view.id))
            for view in platform.payments.disputed(limit=limit)]


def _when(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def disputed_out(item: Disputed) -> dict[str, Any]:
    e = item.payment.escrow
    d = e.dispute
    if d is None:  # listed by its state, which the machine keeps with its dispute
        raise Problem(codes.Edge.NOT_FOUND, f"{item.payment.id} has no dispute")
    return {"payment_id": item.payment.id, "merchant_id": item.payment.merchant_id,
            "buyer_id": item.payment.buyer_id, "amount": e.amount.amount_minor,
            "held": e.held_minor, "currency": e.currency,
            "pending_approval_id": item.pending_approval_id,
            "dispute": {"reason": str(d.reason), "detail": d.detail,
                        "buyer_evidence_refs": list(d.buyer_evidence_refs),
                        "opened_at": rfc3339(d.opened_at_ns), "status": str(d.status),
                        "statement": d.statement,
                        "merchant_evidence_refs": list(d.merchant_evidence_refs),
                        "answered_at": _when(d.answered_at_ns),
                        "held_at_open": d.held_at_open_minor}}


def queued_out(item: Queued) -> dict[str, Any]:
    a, c = item.application, item.certificate
    return {"merchant_id": a.merchant_id, "status": a.status,
            "legal_name": a.details.legal_name,
            "registration_number": a.details.registration_number,
            "submitted_at": rfc3339(a.submitted_at), "decided_at": _when(a.decided_at),
            "reason": a.reason,
            "domains": [{"domain": d.domain, "verified_at": _when(d.verified_at),
                         "check_error": d.check_error} for d in a.domains],
            "certificate": None if c is None else {
                "serial": c.serial, "status": c.status, "not_after": rfc3339(c.not_after),
                "reason": c.reason}}


@router.get("/disputes", response_model=DisputesOut)
def disputes(platform: PlatformDep, principal: CurrentPrincipal,
             limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_MAX
             ) -> dict[str, Any]:
    """List the disputes queue.

    Payments in dispute, longest waiting first: the buyer's reason, detail and evidence
    references, the merchant's answer, what is held, and a decision already waiting for a
    second person. Staff with read on payments."""
    staff_may(platform, principal, Resource.PAYMENTS)
    return {"data": [disputed_out(d) for d in disputes_queue(platform, limit=limit)]}


@router.get("/certification", response_model=QueueOut)
def certification(platform: PlatformDep, principal: CurrentPrincipal,
                  status: Status = "submitted",
                  limit: Annotated[int, Query(ge=1, le=QUEUE_SIZE_MAX)] = QUEUE_SIZE_MAX
                  ) -> dict[str, Any]:
    """List the certification queue.

    Merchants' applications in one status (submitted: waiting, oldest first; approved or
    rejected: most recently decided first), with their domains' verification and the
    latest certificate's state. Staff with read on certification."""
    staff_may(platform, principal, Resource.CERTIFICATION)
    found = platform.certification.queued(status=status, limit=limit)
    return {"data": [queued_out(q) for q in found]}

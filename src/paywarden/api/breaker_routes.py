"""Circuit breakers over HTTP (services/risk/breakers.py): list them, and reset one with
two members of staff.

Staff only, by the access policy's ``risk`` resource: listing needs ``read`` (risk,
supervisor), a reset request or its approval ``modify`` (risk). The approval is refused
(403 ``breaker_reset_same_staff``) when it comes from the member of staff who asked: a
breaker that stops fraud is never reopened by one person alone. All three are audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..domain.risk.breakers import Breaker
from ..services.risk.breakers import BreakerView, ResetRequest
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.breakers import BreakersOut, ResetRequestIn, ResetRequestOut

router = APIRouter(prefix="/v1", tags=["risk"])
BreakerId = Annotated[str, Path(pattern=r"^brk_[0-9a-f]{24}$")]
ResetId = Annotated[str, Path(pattern=r"^brr_[0-9a-f]{24}$")]
refusals = Refusals(codes.RiskControls)


def _staff(platform: Platform, principal: Principal, access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.RISK, access)


def _time(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def reset_out(r: ResetRequest) -> dict[str, Any]:
    return {"id": r.id, "breaker_id": r.breaker_id, "requested_by": r.requested_by,
            "reason": r.reason, "requested_at": rfc3339(r.requested_at_ns),
            "approved_by": r.approved_by, "approved_at": _time(r.approved_at_ns),
            "state": r.state}


def breaker_out(platform: Platform, view: BreakerView) -> dict[str, Any]:
    b: Breaker = view.breaker
    return {"id": view.id, "scope": str(b.scope), "state": str(b.state),
            "open_action": str(platform.breakers.policy(b.scope.kind).open_action),
            "tripped_on": None if b.tripped_on is None else str(b.tripped_on),
            "rate_ppm": b.rate_ppm, "movements": b.movements, "opened_at": _time(b.opened_at_ns),
            "trips": b.trips, "updated_at": rfc3339(view.updated_at_ns),
            "pending_reset": None if view.pending_reset is None
            else reset_out(view.pending_reset)}


@router.get("/staff/breakers", response_model=BreakersOut)
def list_breakers(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Circuit breakers that have tripped, most recently changed first.

    Each with its scope (merchant, card BIN, payee bank, currency corridor or the
    platform), its state, the rate that tripped it, what an open breaker does to new
    movements (review or decline) and any reset awaiting approval. Reading is audited."""
    _staff(platform, principal, Access.READ)
    with refusals():
        views = platform.breakers.list(actor=principal.actor)
    return {"data": [breaker_out(platform, v) for v in views]}


@router.post("/staff/breakers/{breaker_id}/reset-requests", response_model=ResetRequestOut,
             status_code=201)
def request_reset(breaker_id: BreakerId, body: ResetRequestIn, platform: PlatformDep,
                  principal: CurrentPrincipal) -> dict[str, Any]:
    """Ask for a manual reset of an open or half-open breaker.

    The breaker stays as it is until another member of staff approves. One request
    waits per breaker at a time (409 ``breaker_reset_pending``); a closed breaker has
    nothing to reset (409 ``breaker_not_open``). Audited."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        made = platform.breakers.request_reset(breaker_id, actor=principal.actor,
                                               reason=body.reason)
    return reset_out(made)


@router.post("/staff/breakers/reset-requests/{request_id}/approve",
             response_model=ResetRequestOut)
def approve_reset(request_id: ResetId, platform: PlatformDep,
                  principal: CurrentPrincipal) -> dict[str, Any]:
    """Approve another member of staff's reset request: the breaker closes.

    Refused (403 ``breaker_reset_same_staff``) to the one who asked; a request is
    approved once (409 ``breaker_reset_not_pending``). The breaker counts afresh from
    now. Audited with both names."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        platform.breakers.approve_reset(request_id, actor=principal.actor)
    return reset_out(_approved(platform, request_id))


def _approved(platform: Platform, request_id: str) -> ResetRequest:
    found = platform.breakers.reset_request(request_id)
    if found is None:  # it was approved a moment ago, in this request
        raise Problem(codes.RiskControls.BREAKER_RESET_NOT_FOUND, "no such reset request")
    return found

"""Circuit breakers over HTTP (services/risk/breakers.py): list them, and submit a reset
for a second member of staff to approve.

Staff only, by the access policy's ``risk`` resource: listing needs ``read`` (risk,
supervisor), submitting a reset ``modify`` (risk). The reset is a four-eyes command of
the approval engine (kind ``breaker_reset``, decision 0042), approved with
``POST /v1/approvals/{id}/approve``: a breaker that stops fraud is never reopened by one
person alone. Audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.approvals import Kind as ApprovalKind
from ..domain.identity import Access, Kind, Principal, Resource
from ..domain.risk.breakers import Breaker
from ..services.approvals import Approval
from ..services.risk.breakers import BreakerView
from . import problem_codes as codes
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.approvals import ApprovalOut
from .schemas.breakers import BreakersOut, ResetRequestIn

router = APIRouter(prefix="/v1", tags=["risk"])
BreakerId = Annotated[str, Path(pattern=r"^brk_[0-9a-f]{24}$")]
refusals = Refusals(codes.RiskControls, codes.Approvals)


def _staff(platform: Platform, principal: Principal, access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.RISK, access)


def _time(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def reset_out(a: Approval) -> dict[str, Any]:
    """A reset waiting for approval, as the breaker list shows it: the approval's id."""
    return {"id": a.id, "breaker_id": a.params["breaker_id"], "requested_by": a.submitted_by,
            "reason": a.params["reason"], "requested_at": rfc3339(a.submitted_at)}


def breaker_out(platform: Platform, view: BreakerView,
                pending: dict[str, Approval]) -> dict[str, Any]:
    b: Breaker = view.breaker
    return {"id": view.id, "scope": str(b.scope), "state": str(b.state),
            "open_action": str(platform.breakers.policy(b.scope.kind).open_action),
            "tripped_on": None if b.tripped_on is None else str(b.tripped_on),
            "rate_ppm": b.rate_ppm, "movements": b.movements, "opened_at": _time(b.opened_at_ns),
            "trips": b.trips, "updated_at": rfc3339(view.updated_at_ns),
            "pending_reset": reset_out(pending[view.id]) if view.id in pending else None}


@router.get("/staff/breakers", response_model=BreakersOut)
def list_breakers(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Circuit breakers that have tripped, most recently changed first.

    Each with its scope (merchant, card BIN, payee bank, currency corridor or the
    platform), its state, the rate that tripped it, what an open breaker does to new
    movements (review or decline) and any reset awaiting approval. Reading is audited."""
    _staff(platform, principal, Access.READ)
    with refusals():
        views = platform.breakers.list(actor=principal.actor)
        pending = {a.params["breaker_id"]: a for a in platform.approvals.list(
            state="pending", kinds=[ApprovalKind.BREAKER_RESET])}
    return {"data": [breaker_out(platform, v, pending) for v in views]}


@router.post("/staff/breakers/{breaker_id}/reset-requests", response_model=ApprovalOut,
             status_code=202)
def request_reset(breaker_id: BreakerId, body: ResetRequestIn, platform: PlatformDep,
                  principal: CurrentPrincipal) -> JSONResponse:
    """Submit a manual reset of an open or half-open breaker for approval.

    202 with the approval (kind ``breaker_reset``): the breaker stays as it is until
    another member of staff approves it with their passkey (``POST
    /v1/approvals/{id}/approve``; the submitter is refused, 403 ``four_eyes_required``).
    One reset waits per breaker at a time (409 ``breaker_reset_pending``); a closed
    breaker has nothing to reset (409 ``breaker_not_open``). Audited."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        made = platform.approvals.submit(principal, str(ApprovalKind.BREAKER_RESET),
                                         {"breaker_id": breaker_id, "reason": body.reason})
    return submitted(made)

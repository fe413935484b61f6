"""Four-eyes approvals over HTTP (services/approvals, decision 0041).

Interface kept stable for other tools:

- ``GET /v1/approvals?state=pending``: the inbox;
- ``POST /v1/approvals/{id}/approve`` and ``/reject``, each with the decider's step-up
  evidence over the approval's id and command hash;
- an approval by the member who submitted the command: 403 ``four_eyes_required``.

Staff, and a merchant's people (decision 0051), by the access policy's ``approvals``
resource: reading needs ``read`` (every staff role and supervisors), submitting and
deciding ``write``; which roles may submit or approve each kind is the domain's table
(domain/approvals.py). A merchant user sees and decides only their own merchant's
approvals (kind ``merchant_refund``): any other answers 404 to them; staff decide no
merchant's approval (the engine refuses it). Routes that submit a
command of their own (a staff refund, a person's ledger transfers) answer 202 with the
approval's id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.approvals import Approval
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.approvals import (
    STATES,
    ApprovalOut,
    ApprovalsOut,
    ApproveIn,
    RejectIn,
    SubmitIn,
    WithdrawIn,
)

router = APIRouter(prefix="/v1", tags=["approvals"])
ApprovalId = Annotated[str, Path(pattern=r"^apr_[0-9a-f]{24}$")]
# What a submission's check or an execution can answer: the engine's codes, and each
# executor's (services/approvals/*), so the OpenAPI document lists them all.
refusals = Refusals(codes.Approvals, codes.Passkeys, codes.Staff, codes.FourEyesCommands,
                    codes.Payments, codes.Escrow, codes.Banking, codes.Transfers,
                    codes.Merchants, codes.Keys, codes.Identity, codes.Registry, codes.Risk,
                    codes.RiskControls)


def _member(platform: Platform, principal: Principal, access: Access) -> str | None:
    """Staff (None), or a merchant's signed-in person: the merchant they act for."""
    merchant_id = None
    if principal.kind is Kind.MERCHANT and principal.id.startswith("usr_"):
        merchant_id = principal.owner
    elif principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff and merchant users only")
    platform.guard.authorize(principal, Resource.APPROVALS, access, owner=merchant_id)
    return merchant_id


def _visible(platform: Platform, principal: Principal, approval_id: str,
             access: Access) -> None:
    """A merchant user reaches only their merchant's approvals; others answer 404."""
    merchant_id = _member(platform, principal, access)
    if merchant_id is not None:
        with refusals():
            found = platform.approvals.get(approval_id)
        if found.merchant_id != merchant_id:
            raise Problem(codes.Approvals.APPROVAL_NOT_FOUND, f"no approval {approval_id}")


def _time(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def approval_out(a: Approval) -> dict[str, Any]:
    return {"id": a.id, "kind": str(a.kind), "params": a.params,
            "command_hash": a.command_hash, "amount": a.amount, "currency": a.currency,
            "summary": a.summary, "state": str(a.state), "submitted_by": a.submitted_by,
            "submitted_at": rfc3339(a.submitted_at), "expires_at": rfc3339(a.expires_at),
            "decided_by": a.decided_by, "decided_at": _time(a.decided_at),
            "reason": a.reason, "result": a.result, "executed_at": _time(a.executed_at)}


def submitted(a: Approval) -> JSONResponse:
    """The answer of a route whose command waits for a second person: 202, nothing moved."""
    return JSONResponse({"approval_id": a.id, "approval": approval_out(a)}, status_code=202,
                        headers={"Location": f"/v1/approvals/{a.id}"})


@router.get("/approvals", response_model=ApprovalsOut)
def list_approvals(platform: PlatformDep, principal: CurrentPrincipal,
                   state: Annotated[STATES | None, Query()] = None,
                   kind: Annotated[str | None, Query(max_length=32)] = None,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """List approval requests, newest first.

    ``state=pending`` is the inbox: commands waiting for a second member of staff, not
    yet expired. Each names its kind, the exact parameters, the hash the approver's
    passkey signs, the money it moves and who submitted it."""
    merchant_id = _member(platform, principal, Access.READ)
    with refusals():
        found = platform.approvals.list(state=state, kinds=[kind] if kind else None,
                                        merchant_id=merchant_id, limit=limit)
    return {"data": [approval_out(a) for a in found]}


@router.get("/approvals/{approval_id}", response_model=ApprovalOut)
def get_approval(approval_id: ApprovalId, platform: PlatformDep,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """Read one approval request.

    Its command, state, deciders and, once executed, what the execution did."""
    _visible(platform, principal, approval_id, Access.READ)
    with refusals():
        return approval_out(platform.approvals.get(approval_id))


@router.post("/approvals", response_model=ApprovalOut, status_code=202)
def submit(body: SubmitIn, platform: PlatformDep,
           principal: CurrentPrincipal) -> JSONResponse:
    """Submit a command for a second member of staff to approve.

    Nothing changes until another member, whose role may approve this kind, approves
    it with their passkey. 202 with the approval's id."""
    _member(platform, principal, Access.WRITE)
    with refusals():
        made = platform.approvals.submit(principal, body.kind, body.params)
    return submitted(made)


@router.post("/approvals/{approval_id}/approve", response_model=ApprovalOut)
def approve(approval_id: ApprovalId, body: ApproveIn, platform: PlatformDep,
            principal: CurrentPrincipal) -> dict[str, Any]:
    """Approve a command, which then runs.

    By a member of staff other than the submitter (403 ``four_eyes_required``), holding
    a role that approves this kind, with step-up evidence over the operation
    ``{type: approval_approve, amount, currency, payee: <id>, reference: <command_hash>}``.
    The stored command is hashed again before it runs; the answer is the approval with
    its result (``executed``) or why it could not be done (``failed``). Asked again
    with the same evidence, it answers the same outcome."""
    _visible(platform, principal, approval_id, Access.WRITE)
    with refusals():
        return approval_out(platform.approvals.approve(principal, approval_id,
                                                       evidence_id=body.evidence_id))


@router.post("/approvals/{approval_id}/reject", response_model=ApprovalOut)
def reject(approval_id: ApprovalId, body: RejectIn, platform: PlatformDep,
           principal: CurrentPrincipal) -> dict[str, Any]:
    """Reject a command, with a reason.

    By a member other than the submitter, with step-up evidence over
    ``{type: approval_reject, …}``. Nothing runs."""
    _visible(platform, principal, approval_id, Access.WRITE)
    with refusals():
        return approval_out(platform.approvals.reject(
            principal, approval_id, evidence_id=body.evidence_id, reason=body.reason))


@router.post("/approvals/{approval_id}/withdraw", response_model=ApprovalOut)
def withdraw(approval_id: ApprovalId, body: WithdrawIn, platform: PlatformDep,
             principal: CurrentPrincipal) -> dict[str, Any]:
    """Withdraw a command you submitted, with a reason.

    Only by its submitter, while it is pending. Nothing runs."""
    _visible(platform, principal, approval_id, Access.WRITE)
    with refusals():
        return approval_out(platform.approvals.withdraw(principal, approval_id,
                                                        reason=body.reason))

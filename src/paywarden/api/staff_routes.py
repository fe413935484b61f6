"""The staff lifecycle over HTTP (services/staff, decision 0043).

- ``POST /v1/staff/users/{id}/roles``: a grant is a four-eyes command (202 with the
  approval); a revoke is done at once by one security admin (200);
- ``POST /v1/staff/users/{id}/deactivate``: a leaver, by one security admin;
- ``GET /v1/staff/access-review``: security admins and supervisors;
- ``GET /v1/approvals/{id}/credential``: the approved service credential, once, to the
  security admin who asked for it.

Changing staff needs ``full_control`` on the ``staff`` resource (security_admin only);
the review needs ``read`` (security_admin, supervisor).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.approvals import Kind as ApprovalKind
from ..domain.identity import Access, Kind, Principal, Resource
from ..services import staff
from ..services.staff.review import UNUSED_S, Holder, access_review
from . import problem_codes as codes
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.staff import AccessReviewOut, CredentialOut, DeactivatedOut, RoleChangeIn, RolesOut

router = APIRouter(prefix="/v1", tags=["staff"])
UserId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16}$")]
ApprovalId = Annotated[str, Path(pattern=r"^apr_[0-9a-f]{24}$")]
refusals = Refusals(codes.Staff, codes.Approvals, codes.Identity)
NO_STORE = {"Cache-Control": "no-store"}


def _staff(platform: Platform, principal: Principal, access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.STAFF, access)


@router.post("/staff/users/{user_id}/roles", response_model=RolesOut)
def change_roles(user_id: UserId, body: RoleChangeIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> Any:
    """Grant or revoke one role of a member of staff.

    A grant widens access: it is a four-eyes command (kind ``role_grant``), answered 202
    with the approval; another security admin approves it with their passkey. A revoke
    only narrows it and is done at once (200). Either way a role that conflicts with the
    person's others is refused (409 ``role_conflict``), and every session and token of
    the person is revoked when the change is made."""
    _staff(platform, principal, Access.FULL_CONTROL)
    with refusals():
        if body.action == "grant":
            made = platform.approvals.submit(principal, ApprovalKind.ROLE_GRANT, {
                "user_id": user_id, "role": body.role, "action": "grant"})
            return submitted(made)
        with platform.database.engine.begin() as conn:
            return staff.change_roles(conn, platform.sessions, user_id=user_id,
                                      role=body.role, action="revoke", actor=principal.actor,
                                      now_ns=platform.clock.now_ns())


@router.post("/staff/users/{user_id}/deactivate", response_model=DeactivatedOut)
def deactivate(user_id: UserId, platform: PlatformDep,
               principal: CurrentPrincipal) -> dict[str, Any]:
    """Deactivate a leaver.

    Their status becomes disabled and every session and token of theirs is revoked in
    the same transaction (their next request answers 401); their pending requests are
    withdrawn; the audit entry ``staff.deactivate`` records the time. One security admin
    is enough: it only removes access."""
    _staff(platform, principal, Access.FULL_CONTROL)
    with refusals():
        done = staff.deactivate(platform.database, platform.sessions, clock=platform.clock,
                                user_id=user_id, actor=principal.actor)
    return {"user_id": done.user_id, "status": "disabled",
            "deactivated_at": rfc3339(done.at_ns), "sessions_revoked": done.sessions_revoked,
            "approvals_withdrawn": done.approvals_withdrawn}


def holder_out(h: Holder) -> dict[str, Any]:
    return {"kind": h.kind, "id": h.id, "name": h.name, "status": h.status, "privileges": [
        {"role": p.role, "held_since": rfc3339(p.held_since_ns),
         "last_used_at": None if p.last_used_ns is None else rfc3339(p.last_used_ns),
         "unused_90_days": p.unused} for p in h.privileges]}


@router.get("/staff/access-review", response_model=AccessReviewOut)
def review(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The access review.

    Every member of staff and every live host or service token: their roles, status,
    when each role was last used, and a flag on those unused for 90 days."""
    _staff(platform, principal, Access.READ)
    found = access_review(platform.database, platform.sessions, clock=platform.clock,
                          keys=platform.keys)
    return {"generated_at": rfc3339(platform.clock.now_ns()),
            "unused_after_days": UNUSED_S // 86_400, "data": [holder_out(h) for h in found]}


@router.get("/approvals/{approval_id}/credential", response_model=CredentialOut)
def credential(approval_id: ApprovalId, platform: PlatformDep,
               principal: CurrentPrincipal) -> JSONResponse:
    """Fetch an approved service credential, once.

    Only the security admin who submitted the ``service_credential`` command, after
    another approved it. The token is minted now and shown in this answer only; asked
    again, 410 ``credential_redeemed``."""
    _staff(platform, principal, Access.FULL_CONTROL)
    with refusals():
        new = staff.redeem(platform.database, platform.sessions, clock=platform.clock,
                           principal=principal, approval_id=approval_id)
    return JSONResponse({"token": new.token, "session_id": new.session.id,
                         "service": new.session.label.removeprefix("svc:"),
                         "expires_at": rfc3339(new.session.absolute_expires_at)},
                        headers=NO_STORE)

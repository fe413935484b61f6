"""A merchant's people over HTTP (services/merchants/users.py, decision 0051).

    GET  /v1/merchants/me/users                       the merchant's people (owner)
    POST /v1/merchants/me/users/invitations           invite one (owner): a one-time link
    POST /v1/merchants/me/users/{user_id}/disable     disable one (owner)
    GET  /v1/merchants/me/settings                    the merchant's settings
    PUT  /v1/merchants/me/settings                    set them (owner)
    POST /v1/merchant-invitations/accept              the invitee joins (the token is the proof)

"me" is the merchant the caller acts for. Who may do what is the access policy's
(``merchant_owner``, ``merchant_developer``, ``merchant_support``); a merchant's signed
backend (role ``merchant``) manages no people: a key mints no person. Bearer tokens and
the pages' session cookie both work (api/auth.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.merchants.users import role_of
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.merchant_users import AcceptIn, InvitationIn, SettingsIn

router = APIRouter(prefix="/v1", tags=["merchant users"])
UserId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16,32}$")]
_refusals = Refusals(codes.MerchantUsers, codes.Identity, codes.Certification)


def _own(platform: Platform, principal: Principal, access: Access,
         resource: Resource = Resource.MERCHANT_USERS) -> str:
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.NOT_FOUND, "this caller acts for no merchant")
    platform.guard.authorize(principal, resource, access, owner=principal.owner,
                             object_id=principal.owner)
    return principal.owner


def invitation_url(platform: Platform, token: str) -> str:
    """The one-time link; the token is in the fragment, which no server or log sees."""
    return f"{platform.settings.public_url}/merchant/join#{token}"


@router.get("/merchants/me/users")
def list_users(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """List the merchant's people.

    Each with their role within the merchant and whether they are active. Owners only."""
    merchant_id = _own(platform, principal, Access.READ)
    return {"data": [{"id": u.id, "username": u.username, "display_name": u.display_name,
                      "role": role_of(u), "status": u.status,
                      "created_at": rfc3339(u.created_at)}
                     for u in platform.merchant_users.list(merchant_id)]}


@router.post("/merchants/me/users/invitations", status_code=201)
def invite(body: InvitationIn, platform: PlatformDep,
           principal: CurrentPrincipal) -> dict[str, Any]:
    """Invite a person to the merchant.

    An owner invites an e-mail address to a role (owner, developer or support). The answer
    holds a one-time link, shown once and good for a day: the invitee opens it, chooses a
    username and registers a passkey. Only the token's hash is kept."""
    merchant_id = _own(platform, principal, Access.WRITE)
    with _refusals():
        made = platform.merchant_users.invite(merchant_id, email=body.email, role=body.role,
                                              actor=principal.actor)
    return {"invitation_id": made.id, "role": made.role, "token": made.token,
            "url": invitation_url(platform, made.token), "expires_at": rfc3339(made.expires_at)}


@router.post("/merchants/me/users/{user_id}/disable")
def disable(user_id: UserId, platform: PlatformDep,
            principal: CurrentPrincipal) -> dict[str, Any]:
    """Disable one of the merchant's people.

    Owners only, never themselves. Every session of that person ends at once and their
    pending requests are withdrawn."""
    merchant_id = _own(platform, principal, Access.MODIFY)
    with _refusals():
        revoked = platform.merchant_users.disable(merchant_id, user_id, by=principal.id,
                                                  actor=principal.actor)
    return {"id": user_id, "status": "disabled", "sessions_revoked": revoked}


@router.get("/merchants/me/settings")
def get_settings(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Read the merchant's settings.

    ``refund_approval_min``: a merchant user's refund of at least this many minor units
    needs a second owner's approval (null: none does)."""
    merchant_id = _own(platform, principal, Access.READ, Resource.MERCHANTS)
    return {"refund_approval_min": platform.merchant_users.refund_approval_min(merchant_id)}


@router.put("/merchants/me/settings")
def put_settings(body: SettingsIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """Change the merchant's settings.

    Owners only; recorded with the value before."""
    merchant_id = _own(platform, principal, Access.MODIFY)
    with _refusals():
        value = platform.merchant_users.set_refund_approval_min(
            merchant_id, body.refund_approval_min, actor=principal.actor)
    return {"refund_approval_min": value}


@router.post("/merchant-invitations/accept", status_code=201)
def accept(body: AcceptIn, request: Request, platform: PlatformDep) -> dict[str, Any]:
    """Accept an invitation.

    Before sign-in: the invitation's one-time token is the proof. Creates the user with
    the invited role and answers an enrolment token (shown once), good only for
    registering their passkey (``POST /v1/auth/passkeys/register/options``). A token
    used before, or expired, answers 410 ``invitation_unusable``."""
    with _refusals():
        made = platform.merchant_users.accept(
            body.token, username=body.username, display_name=body.display_name,
            address=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", "")[:256])
    return {"user_id": made.user.id, "username": made.user.username,
            "merchant_id": made.user.merchant_id, "role": role_of(made.user),
            "enrolment_token": made.enrolment.token,
            "expires_at": rfc3339(made.enrolment.session.absolute_expires_at)}

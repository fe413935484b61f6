"""A user's own factors, phrase and notifications; support starting a customer's reset.

The ``/v1/me/...`` factor endpoints accept a full session of the user or an
enrolment session (sign-up, ``paywarden staff create``); nothing here lets one
user change another's factors. Secrets shown once (the TOTP secret, recovery
codes, new tokens) are sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from ..domain.identity import Access, Kind, Principal, Resource
from ..services import audit
from ..services.access import AccessDenied
from ..services.identity import factors, notifications, resets, second_factors
from ..services.identity.sessions import NewSession
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import CURSOR_NS_PATTERN, rfc3339
from .schemas.identity import CodeIn, FreshIn, PasswordIn, PhraseIn
from .signin_routes import (
    refusals,
    request_meta,
    session_out,
)

router = APIRouter(prefix="/v1", tags=["factors"])
NOTIFICATION_CURSOR = rf"^{CURSOR_NS_PATTERN}\.ntf_[0-9a-f]{{16}}$"
PAGE_SIZE_DEFAULT = 50
UserId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16}$")]


def _new_token(platform: PlatformDep, new: NewSession | None,
               response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return {"session": session_out(platform, new, response) if new is not None else None}


@router.put("/me/password")
def set_password(body: PasswordIn, request: Request, response: Response,
                 principal: CurrentPrincipal, platform: PlatformDep) -> dict[str, Any]:
    """Set or change my password.

    Set a first password, or change it (current password and a code, or a fresh passkey)."""
    with refusals():
        new = factors.set_password(platform.credentials, principal,
                                   new_password=body.new_password,
                                   current_password=body.current_password, totp_code=body.totp,
                                   meta=request_meta(request, response))
    return _new_token(platform, new, response)


@router.post("/me/totp", status_code=201)
def enrol_totp(response: Response, principal: CurrentPrincipal,
               platform: PlatformDep) -> dict[str, Any]:
    """Start enrolling an authenticator app.

    Start enrolling an authenticator app: the secret is shown this once."""
    enrolled = second_factors.enrol_totp(platform.credentials, principal)
    response.headers["Cache-Control"] = "no-store"
    return {"otpauth_uri": enrolled.uri, "secret": enrolled.secret}


@router.post("/me/totp/confirm")
def confirm_totp(body: CodeIn, request: Request, response: Response,
                 principal: CurrentPrincipal, platform: PlatformDep) -> dict[str, Any]:
    """Confirm an authenticator app.

    Confirm with a first code; the first recovery codes come back, shown this once."""
    confirmed = second_factors.confirm_totp(platform.credentials, principal, body.code,
                                            request_meta(request, response))
    return {"recovery_codes": confirmed.recovery_codes,
            **_new_token(platform, confirmed.session, response)}


@router.post("/me/totp/remove")
def remove_totp(body: FreshIn, request: Request, response: Response,
                principal: CurrentPrincipal, platform: PlatformDep) -> dict[str, Any]:
    """Remove my authenticator app.

    Needs a current code; refused when it is the account's last second factor.
    """
    new = second_factors.remove_totp(platform.credentials, principal, body.totp,
                                     request_meta(request, response))
    return _new_token(platform, new, response)


@router.post("/me/recovery-codes")
def regenerate_recovery_codes(body: FreshIn, request: Request, response: Response,
                              principal: CurrentPrincipal,
                              platform: PlatformDep) -> dict[str, Any]:
    """Regenerate recovery codes.

    A new set of ten codes replaces every old one; shown this once."""
    codes = second_factors.regenerate_recovery_codes(platform.credentials, principal,
                                                     body.totp, request_meta(request, response))
    response.headers["Cache-Control"] = "no-store"
    return {"recovery_codes": codes}


@router.put("/me/phrase", status_code=204)
def set_phrase(body: PhraseIn, principal: CurrentPrincipal, platform: PlatformDep) -> None:
    """Set my anti-phishing phrase.

    The anti-phishing phrase genuine pages show once they know who is signing in."""
    second_factors.set_phrase(platform.credentials, principal, body.phrase)


@router.get("/me/notifications")
def my_notifications(principal: CurrentPrincipal, platform: PlatformDep,
                     limit: Annotated[int, Query(ge=1, le=notifications.PAGE_SIZE_MAX)]
                     = PAGE_SIZE_DEFAULT,
                     cursor: Annotated[str | None, Query(pattern=NOTIFICATION_CURSOR)]
                     = None) -> dict[str, Any]:
    """List my notifications.

    The signed-in user's notifications, newest first."""
    who = factors.holder(platform.credentials, principal)
    if who.enrolment:
        raise AccessDenied(403, "sign in to read notifications")
    if principal.kind is Kind.CUSTOMER:
        platform.guard.authorize(principal, Resource.NOTIFICATIONS, Access.READ,
                                 owner=who.user.id)
    before = None
    if cursor is not None:
        at, _, last_id = cursor.partition(".")
        before = (int(at), last_id)
    notes = notifications.list_for(platform.database, who.user.id, keys=platform.keys,
                                   limit=limit, before=before)
    return {"data": [{"id": n.id, "kind": n.kind, "subject": n.subject, "body": n.body,
                      "created": rfc3339(n.created_at), "created_at_ns": n.created_at,
                      "sent": n.sent_at is not None, "read": n.read_at is not None}
                     for n in notes],
            "next_cursor": f"{notes[-1].created_at}.{notes[-1].id}" if len(notes) == limit
            else None}


@router.post("/staff/customers/{customer_id}/reset", status_code=202)
def start_customer_reset(customer_id: UserId, principal: CurrentPrincipal,
                         platform: PlatformDep) -> dict[str, Any]:
    """Start a customer's password reset.

    Support starts a reset: the customer is told, and finishes it with their second factor."""
    _staff_only(platform, principal, customer_id)
    platform.guard.authorize(principal, Resource.CUSTOMERS, Access.MODIFY,
                             object_id=customer_id)
    resets.start_reset(platform.credentials, principal, customer_id)
    return {"customer_id": customer_id, "reset": "pending",
            "detail": "the customer was notified; only they can set a new password"}


def _staff_only(platform: PlatformDep, principal: Principal, customer_id: str) -> None:
    if principal.kind is Kind.STAFF:
        return
    with platform.database.engine.begin() as conn:
        audit.record(conn, at_ns=platform.clock.now_ns(), actor=principal.actor,
                     action="access.denied", object_id=customer_id, outcome="denied",
                     detail={"resource": "customers", "reason": "staff only"})
    raise AccessDenied(403, "not allowed: staff only")

"""Passkey endpoints: registration, sign-in, step-up, and reading step-up evidence.

Options are returned in the JSON form py_webauthn's ``options_to_json_dict``
gives, next to a ``ceremony_id`` the matching ``…/verify`` call sends back
with the browser's credential (``PublicKeyCredential.toJSON()``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from webauthn.helpers import bytes_to_base64url

from ..domain.identity import Access, Resource
from ..services.identity import evidence as evidence_service
from ..services.identity.passkeys import Options, PasskeyInfo
from ..services.identity.stepup import StepUpOptions
from . import problem_codes as codes
from .auth import SESSION_COOKIE, CurrentPrincipal
from .deps import PlatformDep
from .problems import Problem
from .schemas.identity import (
    CredentialIn,
    RegisterIn,
    RenameIn,
    SignInOptionsIn,
    StepUpOptionsIn,
)
from .signin_routes import request_meta

router = APIRouter(prefix="/v1", tags=["passkeys"])


def _options(options: Options) -> dict[str, Any]:
    return {"ceremony_id": options.ceremony_id, "options": options.options}


def _passkey(info: PasskeyInfo) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "aaguid": info.aaguid,
            "transports": list(info.transports), "backed_up": info.backed_up,
            "created_at_ns": info.created_at, "last_used_at_ns": info.last_used_at}


@router.post("/auth/passkeys/register/options")
def register_options(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Start registering a passkey.

    WebAuthn creation options for the signed-in (or enrolling) user.
    """
    return _options(platform.passkeys.registration_options(principal))


@router.post("/auth/passkeys/register/verify", status_code=201)
def register_verify(body: RegisterIn, platform: PlatformDep,
                    principal: CurrentPrincipal) -> dict[str, Any]:
    """Finish registering a passkey.

    Send the authenticator's attestation; the passkey is stored.
    """
    return _passkey(platform.passkeys.register(principal, body.ceremony_id, body.credential,
                                               name=body.name))


@router.get("/auth/passkeys")
def list_passkeys(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """List my passkeys.

    The signed-in user's passkeys: names, creation and last use.
    """
    return {"data": [_passkey(p) for p in platform.passkeys.list_for(principal)]}


@router.delete("/auth/passkeys/{credential_id}", status_code=204)
def revoke_passkey(credential_id: str, platform: PlatformDep,
                   principal: CurrentPrincipal) -> Response:
    """Revoke a passkey.

    The passkey signs in no more.
    """
    if len(credential_id) > 1024:
        raise Problem(codes.Edge.NOT_FOUND, "no such passkey")
    platform.passkeys.revoke(principal, credential_id)
    return Response(status_code=204)


@router.patch("/auth/passkeys/{credential_id}")
def rename_passkey(credential_id: str, body: RenameIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> dict[str, Any]:
    """Rename a passkey.

    Give one of my passkeys a name I recognise it by (the device it lives on).
    """
    if len(credential_id) > 1024:
        raise Problem(codes.Edge.NOT_FOUND, "no such passkey")
    return _passkey(platform.passkeys.rename(principal, credential_id, body.name))


@router.post("/auth/passkeys/signin/options")
def sign_in_options(body: SignInOptionsIn, platform: PlatformDep) -> dict[str, Any]:
    """Start a passkey sign-in.

    WebAuthn request options (a challenge), for a username or a discoverable passkey.
    """
    return _options(platform.passkeys.sign_in_options(body.username,
                                                      decoy_key=platform.origin_key))


@router.post("/auth/passkeys/signin/verify")
def sign_in_verify(body: CredentialIn, request: Request, response: Response,
                   platform: PlatformDep) -> dict[str, Any]:
    """Finish a passkey sign-in.

    Send the assertion; a session cookie and a token come back.
    """
    # request_meta gives a device without one its id cookie, so that a sign-in from a new
    # device is noticed (and its owner told) with passkeys as with passwords.
    new, user = platform.passkeys.sign_in(body.ceremony_id, body.credential,
                                          meta=request_meta(request, response),
                                          origin_key=platform.origin_key)
    response.set_cookie(SESSION_COOKIE, new.token, max_age=platform.settings.session_absolute_s,
                        path="/", secure=True, httponly=True, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return {"token": new.token, "session_id": new.session.id, "user_id": user.id,
            "expires_at_ns": new.session.absolute_expires_at}


def _step_up_options(result: StepUpOptions) -> dict[str, Any]:
    return {"ceremony_id": result.ceremony_id,
            "operation": evidence_service.approved(result.operation),
            "options": result.options}


@router.post("/auth/step-up/options")
def step_up_options(body: StepUpOptionsIn, platform: PlatformDep,
                    principal: CurrentPrincipal) -> dict[str, Any]:
    """Start confirming an operation.

    WebAuthn options whose challenge binds the exact operation (e.g. an order's amount and
    merchant).
    """
    return _step_up_options(platform.step_up.options(
        principal, type=body.type, amount=body.amount, currency=body.currency,
        payee=body.payee, reference=body.reference))


@router.post("/auth/step-up/verify", status_code=201)
def step_up_verify(body: CredentialIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> dict[str, Any]:
    """Confirm an operation with a passkey.

    Send the assertion; the answer is one-use evidence to send with the operation.
    """
    approval = platform.step_up.verify(principal, body.ceremony_id, body.credential)
    return {"evidence_id": approval.evidence_id,
            "operation": evidence_service.approved(approval.operation)}


@router.get("/evidence/{evidence_id}")
def read_evidence(evidence_id: str, platform: PlatformDep,
                  principal: CurrentPrincipal) -> dict[str, Any]:
    """Read step-up evidence.

    What was confirmed, by whom and when: checkable later by an auditor.
    """
    guard = platform.guard
    guard.authorize(principal, Resource.EVIDENCE, Access.READ, object_id=evidence_id[:64])
    with platform.database.engine.connect() as conn:
        record = evidence_service.load(conn, evidence_id)
    if record is None:
        raise Problem(codes.Edge.NOT_FOUND, "no such object")
    guard.authorize(principal, Resource.EVIDENCE, Access.READ, owner=record.user_id,
                    object_id=record.id)
    report = evidence_service.verify_record(
        record, expected_origin=platform.settings.public_url,
        expected_rp_id=platform.settings.webauthn_rp_id)
    return {
        "id": record.id, "user_id": record.user_id, "created_at_ns": record.created_at,
        "consumed_at_ns": record.consumed_at, "verified": report.ok,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
        "approved": evidence_service.approved(report.operation) if report.operation else None,
        "operation": record.operation, "credential_id": record.credential_id,
        "rp_id": record.rp_id, "origin": record.origin,
        "public_key": bytes_to_base64url(record.public_key),
        "client_data_json": bytes_to_base64url(record.client_data_json),
        "authenticator_data": bytes_to_base64url(record.authenticator_data),
        "signature": bytes_to_base64url(record.signature),
    }


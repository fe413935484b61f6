"""Merchant endpoints: a merchant's own record and keys (signed), and staff administration.

    GET  /v1/merchants/me                              the signing merchant
    POST /v1/merchants/me/keys                         register another public key
    POST /v1/merchants/me/keys/{key_id}/revoke         revoke one
    POST /v1/merchants                                 staff: create a merchant
    GET  /v1/merchants/{id}                            staff, or the merchant itself
    POST /v1/merchants/{id}/keys, …/keys/{key_id}/revoke, …/suspend, …/activate

Another merchant's objects answer 404, as if they did not exist.

Two of the staff routes are four-eyes commands (decision 0044) and answer 202 with the
approval: a key added by staff (whoever holds it signs as the merchant) and a
reactivation (it re-opens selling). Suspending and revoking a key stay one person's
acts: they stop harm.
"""

from __future__ import annotations

import base64
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.approvals.merchants import STATUS, b64url
from ..services.merchants import SUSPENDED, Merchant, MerchantKey, public_key_from_pem
from . import problem_codes as codes
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.merchants import KeyIn, KeyOut, MerchantIn, MerchantOut, NewMerchantOut

router = APIRouter(prefix="/v1/merchants", tags=["merchants"])

MerchantId = Annotated[str, Path(pattern=r"^mer_[0-9a-f]{16}$")]
KeyId = Annotated[str, Path(pattern=r"^key_[0-9a-f]{24}$")]


_refusals = Refusals(codes.Merchants)
_submit_refusals = Refusals(codes.Approvals, codes.Merchants)  # a four-eyes submission


def _key_out(key: MerchantKey) -> KeyOut:
    return KeyOut(id=key.id, label=key.label, status="active" if key.active else "revoked",
                  public_key=base64.urlsafe_b64encode(key.public_key).decode().rstrip("="),
                  created_at=rfc3339(key.created_at),
                  revoked_at=None if key.revoked_at is None else rfc3339(key.revoked_at))


def _merchant_out(merchant: Merchant) -> MerchantOut:
    return MerchantOut(id=merchant.id, name=merchant.name, status=merchant.status,
                       created_at=rfc3339(merchant.created_at),
                       keys=[_key_out(k) for k in merchant.keys])


def _own_merchant(principal: Principal) -> str:
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.NOT_FOUND, "this caller acts for no merchant")
    return principal.owner


def _authorize(platform: Platform, principal: Principal, resource: Resource, access: Access,
               merchant_id: str) -> None:
    platform.guard.authorize(principal, resource, access, owner=merchant_id,
                             object_id=merchant_id)


def _get(platform: Platform, merchant_id: str) -> Merchant:
    merchant = platform.merchants.get(merchant_id)
    if merchant is None:
        raise Problem(codes.Edge.NOT_FOUND, "no such merchant")
    return merchant


def _read(platform: Platform, principal: Principal, merchant_id: str) -> Merchant:
    _authorize(platform, principal, Resource.MERCHANTS, Access.READ, merchant_id)
    return _get(platform, merchant_id)


def _add_key(platform: Platform, principal: Principal, merchant_id: str, body: KeyIn) -> KeyOut:
    _authorize(platform, principal, Resource.MERCHANT_KEYS, Access.WRITE, merchant_id)
    with _refusals():
        raw = public_key_from_pem(body.public_key)
        key = platform.merchants.add_key(merchant_id, raw, actor=principal.actor,
                                         label=body.label)
    return _key_out(key)


def _revoke_key(platform: Platform, principal: Principal, merchant_id: str,
                key_id: str) -> KeyOut:
    _authorize(platform, principal, Resource.MERCHANT_KEYS, Access.MODIFY, merchant_id)
    with _refusals():
        key = platform.merchants.revoke_key(merchant_id, key_id, actor=principal.actor,
                                            signing_key_id=principal.key_id)
    return _key_out(key)


@router.get("/me", response_model=MerchantOut)
async def me(platform: PlatformDep, principal: CurrentPrincipal) -> MerchantOut:
    """Who am I, as a merchant.

    A coroutine, so the request makes one thread hop: FastAPI runs a plain function
    route in a worker thread, and then validates its answer in another. The check and
    the read share the hop (a refusal is recorded in the database, off the event loop)."""
    merchant_id = _own_merchant(principal)
    return _merchant_out(await anyio.to_thread.run_sync(_read, platform, principal,
                                                        merchant_id))


@router.post("/me/keys", status_code=201, response_model=KeyOut)
def add_own_key(body: KeyIn, platform: PlatformDep, principal: CurrentPrincipal) -> KeyOut:
    """Add a signing key.

    A merchant adds an Ed25519 public key to sign its requests with.
    """
    return _add_key(platform, principal, _own_merchant(principal), body)


@router.post("/me/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_own_key(key_id: KeyId, platform: PlatformDep, principal: CurrentPrincipal) -> KeyOut:
    """Revoke a signing key.

    The key signs nothing more; the last active key cannot be revoked.
    """
    return _revoke_key(platform, principal, _own_merchant(principal), key_id)


@router.post("", status_code=201, response_model=NewMerchantOut)
def create(body: MerchantIn, platform: PlatformDep, principal: CurrentPrincipal) -> NewMerchantOut:
    """Create a merchant.

    Staff create a merchant with its first public key.
    """
    platform.guard.authorize(principal, Resource.MERCHANTS, Access.WRITE)
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "only staff create merchants")
    with _refusals():
        new = platform.merchants.create(name=body.name,
                                        public_key=public_key_from_pem(body.public_key),
                                        key_label=body.key_label, actor=principal.actor)
    return NewMerchantOut(merchant_id=new.merchant.id, key_id=new.key_id,
                          merchant=_merchant_out(new.merchant))


@router.get("/{merchant_id}", response_model=MerchantOut)
def get(merchant_id: MerchantId, platform: PlatformDep,
        principal: CurrentPrincipal) -> MerchantOut:
    """Read a merchant.

    A merchant's name, status and keys, to staff or to the merchant itself.
    """
    _authorize(platform, principal, Resource.MERCHANTS, Access.READ, merchant_id)
    return _merchant_out(_get(platform, merchant_id))


@router.post("/{merchant_id}/keys", status_code=201, response_model=KeyOut,
             responses={202: {"description": "A key added by staff, waiting for a second "
                              "member of staff (the body names the approval)"}})
def add_key(merchant_id: MerchantId, body: KeyIn, platform: PlatformDep,
            principal: CurrentPrincipal) -> KeyOut | JSONResponse:
    """Add a merchant's signing key.

    By the merchant itself: 201 with the key. By staff, a four-eyes command: whoever holds
    the private key signs as the merchant, so 202 with the approval's id, and the key is
    added only once another merchant_admin approves it."""
    if principal.kind is not Kind.STAFF:
        return _add_key(platform, principal, merchant_id, body)
    _authorize(platform, principal, Resource.MERCHANT_KEYS, Access.WRITE, merchant_id)
    with _refusals():
        raw = public_key_from_pem(body.public_key)
    with _submit_refusals():
        made = platform.approvals.submit(principal, "merchant_key", {
            "merchant_id": merchant_id, "public_key": b64url(raw), "label": body.label})
    return submitted(made)


@router.post("/{merchant_id}/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(merchant_id: MerchantId, key_id: KeyId, platform: PlatformDep,
               principal: CurrentPrincipal) -> KeyOut:
    """Revoke a merchant's signing key.

    Staff revoke a key on the merchant's behalf.
    """
    return _revoke_key(platform, principal, merchant_id, key_id)


def _suspend(platform: Platform, principal: Principal, merchant_id: str) -> MerchantOut:
    _authorize(platform, principal, Resource.MERCHANTS, Access.MODIFY, merchant_id)
    with _refusals():
        merchant = platform.merchants.set_status(merchant_id, SUSPENDED,
                                                 actor=principal.actor)
    return _merchant_out(merchant)


@router.post("/{merchant_id}/suspend", response_model=MerchantOut)
def suspend(merchant_id: MerchantId, platform: PlatformDep,
            principal: CurrentPrincipal) -> MerchantOut:
    """Suspend a merchant.

    A suspended merchant's signed requests are refused.
    """
    return _suspend(platform, principal, merchant_id)


@router.post("/{merchant_id}/activate", status_code=202,
             responses={202: {"description": "The reactivation, waiting for a second "
                              "member of staff (the body names the approval)"}})
def activate(merchant_id: MerchantId, platform: PlatformDep,
             principal: CurrentPrincipal) -> JSONResponse:
    """Reactivate a merchant.

    Lift a suspension: a four-eyes command (it re-opens selling). 202 with the approval's
    id; the merchant stays suspended until another merchant_admin approves it."""
    _authorize(platform, principal, Resource.MERCHANTS, Access.MODIFY, merchant_id)
    with _submit_refusals():
        made = platform.approvals.submit(principal, "merchant_reinstatement",
                                         {"merchant_id": merchant_id, "what": STATUS})
    return submitted(made)

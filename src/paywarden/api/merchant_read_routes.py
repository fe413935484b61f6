"""What a merchant reads of its own business (decision 0052).

    GET /v1/merchants/me/payments     the merchant's paid payments, newest first
    GET /v1/merchants/me/balance      its ledger balance per currency

"me" is the merchant the caller acts for: its signed backend or one of its people
(any merchant role reads payments; the balance only the backend and owners). Nothing
here writes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..domain.identity import Access, Kind, Resource
from ..services.merchants.balance import balances
from ..services.payments import sellers
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .payment_routes import BUYER_CURSOR
from .problems import Problem

router = APIRouter(prefix="/v1", tags=["merchant users"])
BALANCE_ROLES = frozenset({"merchant", "merchant_owner"})  # the backend and owners


@router.get("/merchants/me/payments")
def my_payments(platform: PlatformDep, principal: CurrentPrincipal,
                limit: Annotated[int, Query(ge=1, le=sellers.PAGE_SIZE_MAX)] = 20,
                cursor: Annotated[str | None, Query(pattern=BUYER_CURSOR)] = None
                ) -> dict[str, Any]:
    """List the merchant's payments.

    Paid payments, newest first: state, amounts, deadlines, shipment carrier and dispute.
    ``next_cursor`` fetches the next (older) page."""
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.NOT_FOUND, "this caller acts for no merchant")
    platform.guard.authorize(principal, Resource.PAYMENTS, Access.READ, owner=principal.owner,
                             object_id=principal.owner)
    before = None
    if cursor is not None:
        at, _, last_id = cursor.partition(".")
        before = (int(at), last_id)
    found = platform.payments.for_merchant(principal.owner, limit=limit, before=before)
    return {"data": [payment_out(v) for v in found],
            "next_cursor": f"{found[-1].escrow.created_at_ns}.{found[-1].id}"
            if len(found) == limit else None}


@router.get("/merchants/me/balance")
def my_balance(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Read the merchant's balance.

    Per currency, in minor units: `posted`, `available` (posted less pending out) and
    `pending_in`. Payouts to a bank account are not built yet (`payouts` says so)."""
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.NOT_FOUND, "this caller acts for no merchant")
    platform.guard.authorize(principal, Resource.MERCHANTS, Access.READ, owner=principal.owner,
                             object_id=principal.owner)
    if not principal.roles & BALANCE_ROLES:  # the merchant's money is the owners' business
        raise Problem(codes.Edge.FORBIDDEN, "only the merchant's owners read its balance")
    found = balances(platform.queries, principal.owner, now_ns=platform.clock.now_ns())
    return {"data": [{"currency": b.currency, "exponent": b.exponent, "posted": b.posted,
                      "available": b.available, "pending_in": b.pending_in} for b in found],
            "payouts": "not_built"}


def payment_out(view: Any) -> dict[str, Any]:
    """A payment as the merchant reads it (the shape of ``GET /v1/payments/{id}``)."""
    body: dict[str, Any] = view.public()
    for key in ("ship_by", "release_at", "expires_at"):
        body[key] = rfc3339(body[key]) if body[key] is not None else None
    body["created"] = rfc3339(view.escrow.created_at_ns)
    return body

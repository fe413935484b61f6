"""Staff look customers up (services/lookup.py, decision 0046): masked by default; one
field shown whole only with a reason, recorded in the audit log and counted by insider
analytics. Card numbers are never shown to staff.

Staff only, by the access policy's ``customers`` resource: ``read`` to look up (support,
risk, supervisor); a reveal needs ``read`` too, plus a reason (a supervisor's POST is
refused: read-only).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.lookup import Profile
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.lookup import CustomerOut, CustomersOut, RevealIn, RevealOut

router = APIRouter(prefix="/v1/staff", tags=["staff"])
CustomerId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16}$")]
refusals = Refusals(codes.Lookup)


def _staff(platform: Platform, principal: Principal) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.CUSTOMERS, Access.READ)


def customer_out(p: Profile) -> dict[str, Any]:
    return {"id": p.id, "username": p.username, "display_name": p.display_name,
            "email": p.email, "status": p.status, "created_at": rfc3339(p.created_at),
            "accounts": p.accounts, "cards": p.cards}


@router.get("/customers", response_model=CustomersOut)
def find_customers(platform: PlatformDep, principal: CurrentPrincipal,
                   username: Annotated[str | None, Query(max_length=64)] = None,
                   iban: Annotated[str | None, Query(max_length=42)] = None) -> dict[str, Any]:
    """Find a customer by exact username or by an IBAN they hold.

    Personal fields come masked. Each profile returned is recorded as viewed."""
    _staff(platform, principal)
    with refusals():
        found = platform.lookup.find(principal, username=username, iban=iban)
    return {"data": [customer_out(p) for p in found]}


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: CustomerId, platform: PlatformDep,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """A customer's profile, masked: accounts, cards (brand and last four), status.

    Recorded as viewed (audit ``customer.view``)."""
    _staff(platform, principal)
    with refusals():
        return customer_out(platform.lookup.profile(principal, customer_id))


@router.post("/customers/{customer_id}/reveal", response_model=RevealOut)
def reveal(customer_id: CustomerId, body: RevealIn, platform: PlatformDep,
           principal: CurrentPrincipal) -> dict[str, Any]:
    """Show one masked field whole, for a stated reason.

    The field and the reason are recorded (audit ``customer.reveal``); a burst of reveals,
    or one outside working hours, alerts supervisors. Card numbers are never revealed."""
    _staff(platform, principal)
    with refusals():
        value = platform.lookup.reveal(principal, customer_id, body.field, body.reason)
    return {"field": body.field, "value": value}

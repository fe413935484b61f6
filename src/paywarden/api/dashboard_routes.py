"""The back office dashboard's figures over HTTP (services/dashboard.py, decision 0050).

Every member of staff holding a staff role, supervisors included, reads them: they are
aggregates (counts and sums per hour, queue depths), never a person's data. Customers,
merchants and machine principals are refused (403) before anything is read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..domain.identity import Kind, Principal
from ..domain.identity.policy import STAFF_ROLES
from ..services.dashboard import HOURS_DEFAULT, HOURS_MAX, Dashboard
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.dashboard import DashboardOut

router = APIRouter(prefix="/v1", tags=["staff"])
refusals = Refusals(codes.Dashboard)


def may_read(principal: Principal) -> bool:
    """Staff with a staff role (a person with none holds no job here yet)."""
    return principal.kind is Kind.STAFF and bool(principal.roles & STAFF_ROLES)


@router.get("/staff/dashboard", response_model=DashboardOut)
def dashboard(platform: PlatformDep, principal: CurrentPrincipal,
              hours: Annotated[int, Query(ge=1, le=HOURS_MAX)] = HOURS_DEFAULT
              ) -> dict[str, Any]:
    """Per hour over the last ``hours`` (the current hour last): payment volume per
    currency, decline, dispute and refund rates, risk decisions by outcome and ledger
    transfers committed; and the depth of each queue now. Staff and supervisors only."""
    if not may_read(principal):
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    with refusals():
        snapshot = Dashboard(platform.database, clock=platform.clock).snapshot(hours=hours)
    body = snapshot.as_json()
    for hour in body["hours"]:
        hour["start"] = rfc3339(hour.pop("start_ns"))
    body["at"] = rfc3339(body.pop("at_ns"))
    return body

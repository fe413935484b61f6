"""Staff alerts over HTTP (services/alerts.py): read them, acknowledge one.

Staff only, by the access policy's ``alerts`` resource: reading needs ``read``
(operator, support, risk, supervisor), acknowledging ``modify`` (operator, risk). A
customer or a merchant is refused (403) before anything is read. Both are audited:
who read the alerts, and who acknowledged which.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.alerts import PAGE_SIZE_MAX, Alert
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.alerts import AlertOut, AlertsOut

router = APIRouter(prefix="/v1", tags=["alerts"])
AlertId = Annotated[str, Path(pattern=r"^alr_[0-9a-f]{24}$")]
refusals = Refusals(codes.BankJobs)


def _staff(platform: Platform, principal: Principal, access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.ALERTS, access)


def alert_out(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "kind": alert.kind, "severity": str(alert.severity),
            "subject": alert.subject, "detail": alert.detail,
            "created_at": rfc3339(alert.created_at_ns), "acknowledged_by": alert.acknowledged_by,
            "acknowledged_at": None if alert.acknowledged_at_ns is None
            else rfc3339(alert.acknowledged_at_ns)}


@router.get("/staff/alerts", response_model=AlertsOut)
def list_alerts(platform: PlatformDep, principal: CurrentPrincipal,
                before: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 50,
                open_only: Annotated[bool, Query(alias="open")] = False) -> dict[str, Any]:
    """Alerts for staff, newest first.

    A safeguarding shortfall, and later risk and back-office findings. ``open=true``
    shows only those nobody has acknowledged; ``before`` is the ``next_cursor`` of the
    page before. Reading is audited."""
    _staff(platform, principal, Access.READ)
    with refusals():
        page, cursor = platform.alerts.page(actor=principal.actor, limit=limit, before=before,
                                            open_only=open_only)
    return {"data": [alert_out(a) for a in page], "next_cursor": cursor}


@router.post("/staff/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: AlertId, platform: PlatformDep,
                principal: CurrentPrincipal) -> dict[str, Any]:
    """Acknowledge an alert: you take it on.

    Once: a second acknowledgement is 409 ``alert_already_acknowledged``, so the record
    keeps who took it on first. Audited."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.alerts.acknowledge(alert_id, actor=principal.actor)
    return alert_out(done)

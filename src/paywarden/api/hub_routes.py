"""A clearing hub's back office over HTTP: its participants' positions and its net
settlement windows (decision 0057).

    GET  /v1/staff/clearing/hub                          positions, windows, counts
    POST /v1/staff/clearing/windows/{currency}/close     close the open window now
                                                         (or the one named: idempotent)

Staff only, by the access policy's ``ledger`` resource (the settlement accounts are the
hub's ledger): reading needs ``read``; closing a window needs ``modify`` (operators). A
close moves no money: it freezes the window's obligations and opens the next. Settling
moves money, by the hub's own cycle (``clearing_window_cycle_s``) or on the hub's host
(``paywarden clearing window settle``). Audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.clearing.node import ClearingNode
from ..services.clearing.views import hub
from ..services.clearing.windows import NetWindows
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .problems import Problem, Refusals
from .schemas.hub import ClosedOut, CloseIn, HubOut

router = APIRouter(prefix="/v1/staff/clearing", tags=["clearing"])
Currency = Annotated[str, Path(pattern=r"^[A-Z]{3}$")]
refusals = Refusals(codes.ClearingHub, codes.NetSettlement)


def _hub(platform: Platform, principal: Principal,
         access: Access) -> tuple[ClearingNode, NetWindows]:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.LEDGER, access)
    node = platform.clearing
    if node is None or node.hub is None or node.windows is None:
        raise Problem(codes.Edge.NOT_FOUND, "this node is not a clearing hub")
    return node, node.windows


@router.get("/hub", response_model=HubOut)
def read_hub(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The hub's participants and windows.

    Each participant's settlement balance, what transfers in flight reserve against it,
    its net position over the unsettled windows and its cap; the newest windows; the
    transfers by state; and the booking notifications still owed. Reading is limited to
    the ledger resource's readers."""
    node, _windows = _hub(platform, principal, Access.READ)
    return hub(platform.database, node.peers, node.notices)


@router.post("/windows/{currency}/close", response_model=ClosedOut)
def close_window(currency: Currency, platform: PlatformDep,
                 principal: CurrentPrincipal, body: CloseIn | None = None) -> dict[str, Any]:
    """Close the currency's open net window now and open the next.

    Moves no money: the window's obligations become final, and it settles by the hub's
    cycle or when an operator settles it on the hub's host. With ``window_id`` only that
    window is closed, and a retry answers it as it stands (the hub page sends it).
    Needs the ledger resource's modify access (operators)."""
    _node, windows = _hub(platform, principal, Access.MODIFY)
    with refusals():
        closed = windows.close(currency, actor=principal.actor,
                               window=body.window_id if body is not None else None)
    return {"id": closed.id, "currency": closed.currency, "state": str(closed.state),
            "closed_ns": closed.closed_ns}

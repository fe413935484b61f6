"""Recalls over HTTP, for the back office of a participant bank (decision 0061).

    GET  /v1/staff/clearing/recalls                  the cases, newest first
    POST /v1/staff/clearing/recalls                  ask for our settled transfer back
    POST /v1/staff/clearing/recalls/{case}/refuse    answer another bank's ask no

Staff only, by the access policy's ``banking`` resource: reading needs ``read``, asking
and refusing ``modify`` (support, risk). Neither moves money. Saying yes does: it is the
four-eyes command ``clearing_return`` with the case (``POST /v1/approvals``, params
``{"case_id"}``), approved by another member of risk. Audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.clearing.bank import ClearingBank
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .problems import Problem, Refusals
from .schemas.recalls import RecallIn, RecallOut, RecallsOut, RefuseIn

router = APIRouter(prefix="/v1/staff/clearing", tags=["clearing"])
CaseId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
refusals = Refusals(codes.ClearingBank, codes.ClearingHub)


def _bank(platform: Platform, principal: Principal, access: Access) -> ClearingBank:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.BANKING, access)
    if platform.clearing_bank is None:
        raise Problem(codes.Edge.NOT_FOUND, "this bank is not in a clearing network")
    return platform.clearing_bank


@router.get("/recalls", response_model=RecallsOut, response_model_by_alias=True)
def list_recalls(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The recall cases of this bank, newest first.

    Each one this bank asked (``requested``: our transfer, their answer to come) or was
    asked (``received``: their transfer to us, our answer to give), with its state, the
    answer's reason and, for a yes, the return that carried the money. Reading is
    limited to the banking resource's readers."""
    bank = _bank(platform, principal, Access.READ)
    with refusals():
        cases = bank.recalls.cases()
    return {"data": [c.public() for c in cases]}


@router.post("/recalls", response_model=RecallOut, response_model_by_alias=True,
             status_code=201)
def request_recall(body: RecallIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> dict[str, Any]:
    """Ask the bank we paid for a settled transfer back (a camt.056 through the hub).

    Moves no money: the answer comes later; a yes is followed by the money, a return.
    One open recall per transfer (409 ``recall_exists``); only a settled transfer of ours
    (409 ``recall_not_settled``), for at most its amount."""
    bank = _bank(platform, principal, Access.MODIFY)
    with refusals():
        case = bank.recalls.request(body.uetr, reason=body.reason, actor=principal.actor,
                                    amount_minor=body.amount)
    return case.public()


@router.post("/recalls/{case_id}/refuse", response_model=RecallOut,
             response_model_by_alias=True)
def refuse_recall(case_id: CaseId, body: RefuseIn, platform: PlatformDep,
                  principal: CurrentPrincipal) -> dict[str, Any]:
    """Answer another bank's recall no, with an ISO reason (a camt.029). No money moves;
    once answered, a case is not answered again (409 ``recall_answered``)."""
    bank = _bank(platform, principal, Access.MODIFY)
    with refusals():
        case = bank.recalls.refuse(case_id, reason=body.reason, actor=principal.actor)
    return case.public()

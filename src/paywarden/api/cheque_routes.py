"""Electronic cheques over HTTP (services/banking/cheques.py, decision 0026).

A drawer asks for a draft (the next serial and the exact step-up operation), approves
that operation with a passkey (``/v1/auth/step-up/options`` and ``/verify``), then
writes the cheque with the evidence id; the answer carries the cheque's JWS, which
the drawer hands to the payee. The payee presents the JWS text: 201 when paid; a
bounce is recorded and answered 422 ``cheque_bounced`` with its ``reason`` (a stable
string). A cheque is visible to its drawer and to the holder of its payee account
only; to anyone else it is a 404, exactly like a missing one.

POSTs render their answer inside the service's transaction
(:class:`~paywarden.api.idempotency.Answer`, decision 0018): the Idempotency-Key's
answer commits with the effect, a bounce's included.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.banking.cheques import BounceReason
from ..domain.identity import Access
from ..domain.money import Money
from ..services.banking.cheque_views import ChequeView
from ..services.banking.cheques import Presented, Terms
from ..services.ledger.currencies import currency
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .banking_routes import customer
from .deps import PlatformDep
from .idempotency import Answer
from .ids import CURSOR_NS_PATTERN
from .problems import Problem, Refusals, problem_response
from .schemas.cheques import (
    ChequeDraftIn,
    ChequeIn,
    ChequeOut,
    ChequesOut,
    ChequeTermsIn,
    CollectingOut,
    DraftOut,
    PaidOut,
    PresentIn,
)

router = APIRouter(prefix="/v1", tags=["cheques"])
ChequeId = Annotated[str, Path(pattern=r"^chq_[0-9a-f]{24}$")]
CURSOR = rf"^{CURSOR_NS_PATTERN}\.chq_[0-9a-f]{{24}}$"
refusals = Refusals(codes.Cheques, codes.Banking, codes.Money, codes.Passkeys,
                    codes.Idempotency)
BOUNCED = {
    BounceReason.INSUFFICIENT_FUNDS: "The drawer's account cannot cover this cheque; "
                                     "nothing was paid.",
    BounceReason.STOPPED: "The drawer stopped this cheque.",
    BounceReason.STALE: "This cheque was presented after its expiry date.",
    BounceReason.ALTERED: "This cheque was changed after it was signed, or it is not a "
                          "cheque of this bank.",
    BounceReason.DUPLICATE: "This cheque was presented before.",
    BounceReason.NOT_PAYEE: "This cheque is made out to another account.",
    BounceReason.EXPIRED: "This cheque has expired.",
}


def _day(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Problem(codes.Cheques.CHEQUE_INVALID, f"{what} {text!r} is not a day") from None


def _terms(body: ChequeTermsIn, serial: int) -> Terms:
    return Terms(account_id=body.account_id, payee_iban=body.payee_iban,
                 payee_name=body.payee_name, amount=Money(body.amount, body.currency),
                 date=_day(body.date, "date"), expires_on=_day(body.expires_on, "expires_on"),
                 serial=serial)


def _out(platform: Platform, view: ChequeView) -> dict[str, Any]:
    return view.public(today=platform.cheques.today())


@router.post("/me/cheques/drafts", response_model=DraftOut)
def draft_cheque(body: ChequeDraftIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """Prepare a cheque: its serial, and the operation to approve with your passkey.

    Nothing is written. Send ``step_up`` as it is to ``/v1/auth/step-up/options``; then
    write the cheque with the same fields, this ``serial`` and the evidence id."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        currency(body.currency)
        made = platform.cheques.draft(user, _terms(body, body.serial))
    return {"serial": made.serial, "step_up": made.step_up}


@router.post("/me/cheques", status_code=201, response_model=ChequeOut)
def write_cheque(body: ChequeIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> JSONResponse:
    """Write a cheque approved with your passkey.

    201 with the cheque and its ``jws``: the signed cheque to hand to the payee."""
    user = customer(platform, principal, Access.WRITE)
    answer: Answer[ChequeView] = Answer(
        platform, lambda view: JSONResponse(_out(platform, view), status_code=201))
    with refusals():
        currency(body.currency)
        platform.cheques.write(user, _terms(body, body.serial), body.evidence_id,
                               actor=principal.actor, finish=answer.record)
    return answer.response


@router.get("/me/cheques", response_model=ChequesOut)
def list_cheques(platform: PlatformDep, principal: CurrentPrincipal,
                 role: Annotated[str, Query(pattern="^(written|received)$")] = "written",
                 limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 cursor: Annotated[str | None, Query(pattern=CURSOR)] = None) -> dict[str, Any]:
    """Cheques you wrote (``role=written``) or that name one of your accounts as payee
    (``role=received``), newest first."""
    user = customer(platform, principal, Access.READ)
    before = None
    if cursor is not None:
        at, _, last = cursor.partition(".")
        before = (int(at), last)
    found = platform.cheques.list_for(user, role="drawer" if role == "written" else "payee",
                                      limit=limit, before=before)
    return {"data": [_out(platform, v) for v in found],
            "next_cursor": f"{found[-1].created_at_ns}.{found[-1].id}"
            if len(found) == limit else None}


@router.get("/me/cheques/{cheque_id}", response_model=ChequeOut)
def get_cheque(cheque_id: ChequeId, platform: PlatformDep,
               principal: CurrentPrincipal) -> dict[str, Any]:
    """Read a cheque.

    One cheque you wrote or that names your account as payee, with its JWS, what you may
    do next (``can_stop``, ``can_present``) and its latest presentations."""
    user = customer(platform, principal, Access.READ)
    with refusals():
        return _out(platform, platform.cheques.get_for(user, cheque_id))


@router.post("/me/cheques/present", status_code=201, response_model=PaidOut,
             responses={202: {"model": CollectingOut, "description": "Accepted by the "
                              "drawer's bank: the money is on its way"}})
def present_cheque(body: PresentIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> JSONResponse:
    """Present a cheque made out to you.

    201 ``outcome: paid`` with the transfer; 202 ``outcome: collecting`` for a cheque of
    another bank in the clearing network that its bank has accepted (the money arrives as
    a transfer from it, and the cheque's state turns ``paid`` when it settles); a bounce is recorded and answered 422
    ``cheque_bounced`` with its ``reason`` (insufficient_funds, stopped, stale,
    altered, duplicate, not_payee, expired). Before its date: 422 ``cheque_not_yet_due``
    (the cheque stays good)."""
    user = customer(platform, principal, Access.WRITE)

    def render(done: Presented) -> JSONResponse:
        cheque = _out(platform, done.cheque) if done.cheque is not None else None
        presentation = done.presentation.public()
        if done.presentation.outcome == "paid" and done.transfer is not None:
            return JSONResponse({"outcome": "paid", "presentation": presentation,
                                 "cheque": cheque, "transfer": done.transfer.public()},
                                status_code=201)
        if done.presentation.outcome == "collecting":
            return JSONResponse({"outcome": "collecting", "presentation": presentation,
                                 "cheque": cheque}, status_code=202)
        reason = BounceReason(done.presentation.reason or BounceReason.ALTERED)
        return problem_response(Problem(codes.Cheques.CHEQUE_BOUNCED, BOUNCED[reason],
                                        outcome="bounced", reason=str(reason),
                                        presentation=presentation, cheque=cheque))

    answer = Answer(platform, render)
    with refusals():
        platform.cheques.present(user, body.cheque, account_id=body.account_id,
                                 actor=principal.actor, finish=answer.record)
    return answer.response


@router.post("/me/cheques/{cheque_id}/stop", response_model=ChequeOut)
def stop_cheque(cheque_id: ChequeId, platform: PlatformDep,
                principal: CurrentPrincipal) -> JSONResponse:
    """Stop a cheque.

    The drawer stops a cheque until it is presented; presented later, it bounces
    ``stopped``. 409 ``cheque_not_stoppable`` once it is paid, bounced or expired."""
    user = customer(platform, principal, Access.WRITE)
    answer: Answer[ChequeView] = Answer(platform,
                                        lambda view: JSONResponse(_out(platform, view)))
    with refusals():
        platform.cheques.stop(user, cheque_id, actor=principal.actor, finish=answer.record)
    return answer.response

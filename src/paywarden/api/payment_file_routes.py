"""A customer's payment files: an ISO 20022 pain.001 of up to 100 payments from one
account, checked whole, confirmed with one passkey step-up (decision 0056).

``…/payment-files/check`` reads the file and answers what the step-up must cover (its
total and digest) without moving anything; ``…/payment-files`` with the step-up's
evidence runs it. The body is the XML document itself (``application/xml``), parsed by
the hardened parser and validated against the official schema before anything reads it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from ..adapters.iso20022.codec import decode
from ..domain.clearing.messages import Pain001
from ..domain.errors import DomainError
from ..domain.identity import Access
from ..services.banking.payment_files import STEP_UP_TYPE, PaymentResult
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .banking_routes import customer
from .deps import PlatformDep
from .problems import Refusals

router = APIRouter(prefix="/v1", tags=["transfers"])
refusals = Refusals(codes.ClearingBank, codes.ClearingMessages, codes.Transfers, codes.Banking,
                    codes.Money, codes.Ledger, codes.Passkeys)
AccountId = Annotated[str, Path(pattern=r"^acc_[0-9a-f]{24}$")]
XML_BODY = {"requestBody": {"required": True, "content": {"application/xml": {
    "schema": {"type": "string", "description": "a pain.001.001.10 document"}}}}}


async def _file(request: Request) -> Pain001:
    with refusals():
        order = decode(await request.body())
        if not isinstance(order, Pain001):
            raise DomainError("payment_file_invalid", "a payment file is a pain.001 document")
    return order


@router.post("/me/accounts/{account_id}/payment-files/check", openapi_extra=XML_BODY)
async def check_file(account_id: AccountId, request: Request, platform: PlatformDep,
                     principal: CurrentPrincipal) -> dict[str, Any]:
    """Check a payment file.

    Reads the pain.001, checks every payment (422 ``payment_file_invalid`` naming each
    that is wrong), and answers its number of payments, total and digest, and the step-up
    that confirms it: ``{type: "payment_file", amount: total, currency, payee: <account
    id>, reference: <digest>}``. Nothing moves."""
    user = customer(platform, principal, Access.READ)
    order = await _file(request)
    with refusals():
        total, currency, digest = await run_in_threadpool(
            platform.banking.payment_files.check, user, account_id, order)
    return {"payments": len(order.payments), "total": total, "currency": currency,
            "digest": digest, "step_up": {"type": STEP_UP_TYPE, "amount": total,
                                          "currency": currency, "payee": account_id,
                                          "reference": digest}}


@router.post("/me/accounts/{account_id}/payment-files", status_code=201,
             openapi_extra=XML_BODY)
async def submit_file(account_id: AccountId, request: Request, platform: PlatformDep,
                      principal: CurrentPrincipal,
                      evidence_id: Annotated[str, Query(max_length=32)]) -> dict[str, Any]:
    """Send a payment file.

    Checked whole first (one bad payment refuses the file: 422 ``payment_file_invalid``
    naming each), confirmed by the step-up ``…/check`` described, then each payment runs
    as a transfer to one of your payees. Sending the same file again answers what ran."""
    user = customer(platform, principal, Access.WRITE)
    order = await _file(request)
    with refusals():
        results = await run_in_threadpool(
            platform.banking.payment_files.submit, user, account_id, order,
            evidence_id=evidence_id)
    return {"results": [_result(r) for r in results]}


def _result(r: PaymentResult) -> dict[str, Any]:
    return {"end_to_end_id": r.end_to_end_id,
            "transfer": r.movement.public() if r.movement is not None else None,
            "code": r.code, "detail": r.detail}

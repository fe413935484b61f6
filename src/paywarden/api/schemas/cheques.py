"""Request bodies of electronic cheques (api/cheque_routes.py, decision 0026)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..text import Line
from . import Strict

ACCOUNT_ID = r"^acc_[0-9a-f]{24}$"
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
REFERENCE_EXAMPLE = "cheque 1 on NL32PAYW0000000001 dated 2026-11-30 until 2027-05-29"


class ChequeTermsIn(Strict):
    account_id: str = Field(pattern=ACCOUNT_ID, description="Your current account it is "
                            "drawn on")
    payee_iban: str = Field(min_length=5, max_length=42)
    payee_name: Line = Field(min_length=1, max_length=70)
    amount: int = Field(ge=1, le=10**15, description="Minor units")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    date: str = Field(pattern=DAY, description="YYYY-MM-DD (UTC): payable from this day")
    expires_on: str = Field(pattern=DAY, description="YYYY-MM-DD (UTC): payable until this "
                            "day, at most 180 days after the date")


class ChequeDraftIn(ChequeTermsIn):
    serial: int = Field(default=0, ge=0, le=999_999_999,
                        description="0: the next free serial of the account")


class ChequeIn(ChequeTermsIn):
    serial: int = Field(ge=1, le=999_999_999, description="The serial the draft offered")
    evidence_id: str = Field(max_length=32, description="Step-up evidence over the draft's "
                             "step_up operation")


class PresentIn(Strict):
    cheque: str = Field(min_length=1, max_length=4096, description="The cheque: the JWS text")
    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID, description="Your "
                                   "account the cheque is paid into (the payee's IBAN); "
                                   "default: your account with that IBAN")


class PresentationOut(BaseModel):
    id: str = Field(examples=["prs_0f1e2d3c4b5a69788796a5b4"])
    cheque_id: str | None = Field(examples=["chq_5f0c9a7d2b1e4c8a9d3f6e21"])
    outcome: Literal["paid", "bounced", "collecting"] = Field(description=(
        "collecting: a cheque of another bank of the clearing network, accepted by it; its "
        "money comes as a transfer, and the cheque turns paid when it settles"))
    reason: str | None = Field(description="A bounce reason", examples=["stopped"])
    account_id: str | None = Field(examples=["acc_5f0c9a7d2b1e4c8a9d3f6e21"])
    created_at: str = Field(examples=["2026-11-30T12:00:00Z"])


class ChequeOut(BaseModel):
    id: str = Field(examples=["chq_5f0c9a7d2b1e4c8a9d3f6e21"])
    role: Literal["drawer", "payee"]
    state: Literal["issued", "paid", "bounced", "stopped", "expired"]
    serial: int = Field(examples=[1])
    drawer_iban: str = Field(examples=["NL32PAYW0000000001"])
    drawer_account_id: str | None = Field(description="To the drawer only")
    payee_iban: str = Field(examples=["NL05PAYW0000000002"])
    payee_name: str = Field(examples=["Bob Builder"])
    payee_account_id: str | None = Field(description="To the payee only")
    amount: int = Field(description="Minor units", examples=[125_00])
    currency: str = Field(examples=["EUR"])
    date: str = Field(examples=["2026-11-30"])
    expires_on: str = Field(examples=["2027-05-29"])
    jws: str = Field(description="The signed cheque (compact JWS, Ed25519): hand it to the "
                     "payee; check it against /.well-known/jwks.json",
                     examples=["eyJhbGciOiJFZDI1NTE5In0.eyJqdGkiOiJjaHFfLi4uIn0.c2lnbmF0dXJl"])
    bounce_reason: str | None = Field(examples=[None])
    presented_at: str | None = Field(examples=[None])
    transfer_id: str | None = Field(examples=[None], description=(
        "The transfer that paid it; for a cheque collected through the clearing network, "
        "the end-to-end id of the transfer its bank sends (chqc:…)"))
    created_at: str = Field(examples=["2026-11-30T12:00:00Z"])
    updated_at: str = Field(examples=["2026-11-30T12:00:00Z"])
    can_stop: bool = Field(description="The drawer may stop it now")
    can_present: bool = Field(description="The payee may present it today")
    presentations: list[PresentationOut]


class ChequesOut(BaseModel):
    data: list[ChequeOut]
    next_cursor: str | None = Field(examples=[None])


class StepUpOperationOut(BaseModel):
    type: Literal["cheque"]
    amount: int = Field(examples=[125_00])
    currency: str = Field(examples=["EUR"])
    payee: str = Field(examples=["NL05PAYW0000000002 Bob Builder"])
    reference: str = Field(examples=[REFERENCE_EXAMPLE])


class DraftOut(BaseModel):
    serial: int = Field(examples=[1])
    step_up: StepUpOperationOut


class CollectingOut(BaseModel):
    outcome: Literal["collecting"]
    presentation: PresentationOut
    cheque: ChequeOut


class PaidOut(BaseModel):
    outcome: Literal["paid"]
    presentation: PresentationOut
    cheque: ChequeOut
    transfer: dict[str, Any] = Field(description="The bank transfer that paid it")

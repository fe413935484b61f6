"""Request bodies of electronic cheques (api/cheque_routes.py, decision 0026)."""

from __future__ import annotations

from pydantic import Field

from ..text import Line
from . import Strict

ACCOUNT_ID = r"^acc_[0-9a-f]{24}$"
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


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

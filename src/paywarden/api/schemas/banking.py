"""Request bodies of bank accounts and transfers (api/banking_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..text import Line
from . import Strict

CLIENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_\-]{7,39}$"  # a client's transfer id (8 to 40 chars)
ACCOUNT_ID = r"^acc_[0-9a-f]{24}$"


class OpenAccountIn(Strict):
    product: Literal["current", "savings", "wallet"]
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    name: Line = Field(min_length=1, max_length=64)


class OwnTransferIn(Strict):
    id: str | None = Field(default=None, pattern=CLIENT_ID, description="Your id for this "
                           "transfer: a retry with it is answered, never applied twice")
    from_account: str = Field(pattern=ACCOUNT_ID)
    to_account: str = Field(pattern=ACCOUNT_ID)
    amount: int = Field(ge=1, le=10**15, description="Minor units")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reference: Line = Field(default="", max_length=140)


class CardTopUpIn(Strict):
    id: str | None = Field(default=None, pattern=CLIENT_ID)
    wallet: str = Field(pattern=ACCOUNT_ID)
    card_token: str = Field(max_length=64)
    amount: int = Field(ge=1, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    evidence_id: str = Field(max_length=32, description="step-up evidence over this top-up")


class StaffReasonIn(Strict):
    reason: Line = Field(min_length=3, max_length=140)


class DepositIn(Strict):
    rail_id: str = Field(pattern=CLIENT_ID, description="The rail's id: once per id")
    iban: str = Field(min_length=5, max_length=42)
    amount: int = Field(ge=1, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    debtor_iban: str = Field(min_length=5, max_length=42)
    debtor_name: Line = Field(min_length=1, max_length=140)
    reference: Line = Field(default="", max_length=140)


class LimitOverrideIn(Strict):
    """A limit set by staff, at once and above the bank's maximum if need be (0044)."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount: int = Field(ge=0, le=10**15, description="The new limit, in minor units")
    reason: Line = Field(min_length=3, max_length=500, description="Why: the ticket, the "
                         "customer's request; the approver reads it")


class AccountOut(BaseModel):
    id: str = Field(examples=["acc_5f0c9a7d2b1e4c8a9d3f6e21"])
    product: Literal["current", "savings", "wallet"]
    currency: str = Field(examples=["EUR"])
    iban: str = Field(examples=["NL32PAYW0000000001"])
    name: str = Field(examples=["Everyday"])
    state: Literal["open", "frozen", "closed"]
    booked: int = Field(description="The posted balance, minor units", examples=[125_00])
    available: int = Field(description="Booked less outgoing money on hold", examples=[100_00])
    opened_at: str = Field(examples=["2026-11-30T12:00:00Z"])


class AccountsOut(BaseModel):
    data: list[AccountOut]


class AccountStateOut(BaseModel):
    id: str = Field(examples=["acc_5f0c9a7d2b1e4c8a9d3f6e21"])
    product: str
    currency: str
    iban: str
    name: str
    state: Literal["open", "frozen", "closed"]

"""Request bodies of checkout sessions and escrow payments (api/payment_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..text import Line, Prose, UrlText
from . import Strict

REFUND_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"


class ItemIn(Strict):
    name: Line = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=10_000)
    unit_amount: int = Field(ge=0, le=10**15)


class TermsIn(Strict):
    days_to_ship: int = Field(ge=1, le=90)
    release_after_days: int = Field(ge=1, le=60)


class CheckoutIn(Strict):
    order_ref: Line = Field(min_length=1, max_length=128)
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    amount: int = Field(ge=1, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    return_url: UrlText = Field(min_length=8, max_length=2048)
    escrow: TermsIn


class PayIn(Strict):
    method: Literal["wallet", "card", "bank"]
    evidence_id: str = Field(max_length=32, description="step-up evidence over this order")
    card_token: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, pattern=r"^acc_[0-9a-f]{24}$",
                                   description="method bank: your current account to pay from")


class ShipmentIn(Strict):
    carrier: Line = Field(min_length=1, max_length=64)
    tracking: Line = Field(min_length=1, max_length=128)


class RefundIn(Strict):
    amount: int = Field(ge=1, le=10**15)
    refund_id: str = Field(pattern=REFUND_ID, description="chosen by the client, unique per "
                           "payment: a retry with the same refund_id returns the first refund")


class DisputeIn(Strict):
    reason: Line = Field(max_length=32)
    detail: Prose = Field(default="", max_length=2000)
    evidence_refs: list[Line] = Field(default_factory=list, max_length=10)


class AnswerIn(Strict):
    statement: Prose = Field(min_length=1, max_length=2000)
    evidence_refs: list[Line] = Field(default_factory=list, max_length=10)


class DecisionIn(Strict):
    resolution: Literal["release", "refund", "split"]
    refund: int | None = Field(default=None, ge=1)
    release: int | None = Field(default=None, ge=1)

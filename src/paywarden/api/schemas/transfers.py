"""Bodies of transfers to other parties, payees, limits and standing orders
(api/transfer_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..text import Line
from . import Strict
from .banking import ACCOUNT_ID, CLIENT_ID

PAYEE_ID = r"^pye_[0-9a-f]{24}$"
ORDER_ID = r"^sto_[0-9a-f]{24}$"
CURRENCY = r"^[A-Z]{3}$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
EVIDENCE = "The step-up evidence id (evd_…) over exactly this operation"
LimitKindName = Literal["per_transfer", "per_day", "per_payee"]
CopAnswer = Literal["match", "close_match", "no_match", "unavailable"]


class StepUpOperation(BaseModel):
    """What to ask ``POST /v1/auth/step-up/options`` for: the passkey signs over it."""

    type: str = Field(examples=["new_payee"])
    amount: int = Field(examples=[0])
    currency: str | None = Field(examples=["EUR"], description="None: the currency you pay "
                                 "in (a new payee's step-up names it)")
    payee: str = Field(examples=["NL91ABNA0417164300"])
    reference: str = Field(examples=["Ada Lovelace"])


class PayeeCheckIn(Strict):
    name: Line = Field(min_length=1, max_length=70, examples=["Ada Lovelace"])
    iban: str = Field(min_length=5, max_length=42, examples=["NL91 ABNA 0417 1643 00"])


class PayeeCheckOut(BaseModel):
    result: CopAnswer = Field(description="Confirmation of payee")
    name: str = Field(examples=["Ada Lovelace"])
    iban: str = Field(examples=["NL91ABNA0417164300"], description="Electronic form")
    bank: Literal["paywarden", "other"]
    holder_name: str | None = Field(default=None, description="Only on a close match: the "
                                    "name the account is held in", examples=[None])
    tip: str = Field(description="Security advice for this moment")
    step_up: StepUpOperation = Field(description="The operation to confirm to add the payee")


class PayeeIn(Strict):
    name: Line = Field(min_length=1, max_length=70, examples=["Ada Lovelace"])
    iban: str = Field(min_length=5, max_length=42, examples=["NL91ABNA0417164300"])
    currency: str = Field(pattern=CURRENCY, description="The currency you pay in: the "
                          "step-up's currency", examples=["EUR"])
    evidence_id: str = Field(max_length=32, description=EVIDENCE + " (new_payee, amount 0, "
                             "payee = IBAN, reference = name)")


class PayeeOut(BaseModel):
    id: str = Field(examples=["pye_5f0c9a7d2b1e4c8a9d3f6e21"])
    name: str = Field(examples=["Ada Lovelace"])
    iban: str = Field(examples=["NL91ABNA0417164300"])
    bank: Literal["paywarden", "other"]
    state: Literal["cooling", "active", "deleted"]
    cooling_off_until: str = Field(examples=["2026-12-01T12:00:00Z"])
    cooling_amount_max: int = Field(description="Minor units it may receive in all while "
                                    "cooling", examples=[50_00])
    cop: CopAnswer = Field(description="Confirmation of payee when it was added")
    created_at: str = Field(examples=["2026-11-30T12:00:00Z"])
    tip: str | None = Field(default=None, description="Security advice for this moment")


class PayeesOut(BaseModel):
    data: list[PayeeOut]


class TransferIn(Strict):
    id: str | None = Field(default=None, pattern=CLIENT_ID, description="Your id for this "
                           "transfer: a retry with it is answered, never applied twice")
    from_account: str = Field(pattern=ACCOUNT_ID)
    payee_id: str = Field(pattern=PAYEE_ID)
    amount: int = Field(ge=1, le=10**15, description="Minor units", examples=[25_00])
    currency: str = Field(pattern=CURRENCY, examples=["EUR"])
    reference: Line = Field(default="", max_length=140, examples=["Invoice 42"])
    evidence_id: str = Field(max_length=32, description=EVIDENCE + " (transfer, amount, "
                             "currency, payee = the payee's IBAN, reference)")


class MovementOut(BaseModel):
    id: str
    kind: str = Field(examples=["external"])
    state: Literal["posted", "pending", "held", "voided", "failed"]
    amount: int = Field(examples=[25_00])
    currency: str = Field(examples=["EUR"])
    from_account: str | None = Field(examples=["acc_5f0c9a7d2b1e4c8a9d3f6e21"])
    to_account: str | None = Field(examples=[None])
    reference: str = Field(examples=["Invoice 42"])
    reason: str | None = Field(examples=[None])


class HistoryItemOut(MovementOut):
    direction: Literal["out", "in", "own"]
    counterparty_iban: str | None = Field(examples=["NL91ABNA0417164300"])
    counterparty_name: str | None = Field(examples=["Ada Lovelace"])
    created_at: str = Field(examples=["2026-11-30T12:00:00Z"])


class TransfersOut(BaseModel):
    data: list[HistoryItemOut]
    next_cursor: str | None = Field(examples=[None])


class LimitIn(Strict):
    currency: str = Field(pattern=CURRENCY, examples=["EUR"])
    amount: int = Field(ge=0, le=10**15, description="Minor units", examples=[500_00])
    evidence_id: str | None = Field(default=None, max_length=32, description="Needed to "
                                    "raise: " + EVIDENCE + " (limit_change, amount = the new "
                                    "limit, payee = the limit's kind, reference empty)")


class LimitOut(BaseModel):
    kind: LimitKindName
    currency: str = Field(examples=["EUR"])
    amount: int = Field(description="In force now, minor units", examples=[1_000_00])
    bank_max: int = Field(examples=[10_000_00])
    pending_amount: int | None = Field(description="A raise waiting", examples=[2_000_00])
    pending_from: str | None = Field(description="When the raise takes effect",
                                     examples=["2026-12-01T12:00:00Z"])
    tip: str | None = Field(default=None, description="Security advice for this moment")


class LimitsOut(BaseModel):
    data: list[LimitOut]


class StandingOrderIn(Strict):
    from_account: str = Field(pattern=ACCOUNT_ID)
    payee_id: str = Field(pattern=PAYEE_ID)
    amount: int = Field(ge=1, le=10**15, description="Minor units", examples=[750_00])
    currency: str = Field(pattern=CURRENCY, examples=["EUR"])
    reference: Line = Field(default="", max_length=70, examples=["Rent"])
    frequency: Literal["once", "weekly", "monthly"]
    start_on: str = Field(pattern=DATE, description="The first payment's date (UTC)",
                          examples=["2026-12-05"])
    end_on: str | None = Field(default=None, pattern=DATE, description="The last possible "
                               "date; a one-off transfer's is its date",
                               examples=["2027-06-05"])
    evidence_id: str | None = Field(default=None, max_length=32, description="Needed to "
                                    "create (not to preview): " + EVIDENCE + " (standing_"
                                    "order, amount, currency, payee = the payee's IBAN, "
                                    "reference = the schedule in words)")


class RunOut(BaseModel):
    on: str = Field(examples=["2026-12-05"])
    movement_id: str
    state: str = Field(examples=["posted"])
    reason: str | None = Field(examples=[None])


class StandingOrderOut(BaseModel):
    id: str = Field(examples=["sto_5f0c9a7d2b1e4c8a9d3f6e21"])
    from_account: str
    payee_id: str
    payee_iban: str = Field(examples=["NL91ABNA0417164300"])
    amount: int = Field(examples=[750_00])
    currency: str = Field(examples=["EUR"])
    reference: str = Field(examples=["Rent"])
    frequency: Literal["once", "weekly", "monthly"]
    start_on: str = Field(examples=["2026-12-05"])
    end_on: str = Field(examples=["2027-06-05"])
    next_on: str | None = Field(examples=["2026-12-05"])
    state: Literal["active", "ended", "cancelled"]
    reason: str | None = Field(examples=[None])
    schedule: str = Field(examples=["monthly on day 5 from 2026-12-05 until 2027-06-05: Rent"])
    runs: list[RunOut] = Field(default_factory=list, description="The latest occurrences")


class StandingOrderPreviewOut(BaseModel):
    schedule: str = Field(examples=["monthly on day 5 from 2026-12-05 until 2027-06-05: Rent"])
    step_up: StepUpOperation
    first_on: str = Field(examples=["2026-12-05"])


class StandingOrdersOut(BaseModel):
    data: list[StandingOrderOut]

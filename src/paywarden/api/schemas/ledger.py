"""Request and response bodies of the ledger API (api/ledger_routes.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from ...domain.ledger import AMOUNT_MAX, model
from ..ids import ACCOUNT_ID_PATTERN
from . import Strict

AccountId = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN, examples=["acct_0123456789abcdef"])]
TransferId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
Amount = Annotated[int, Field(gt=0, le=AMOUNT_MAX, description="minor units, e.g. 1999 = 19.99 EUR")]
Code = Annotated[int, Field(ge=1, le=model.CODE_MAX)]
UserData = Annotated[str, Field(pattern=r"^[\x20-\x7e]*$", max_length=model.USER_DATA_LENGTH_MAX)]
TransferFlagName = Literal["linked", "pending", "post_pending", "void_pending"]
AccountFlagName = Literal["debits_must_not_exceed_credits", "credits_must_not_exceed_debits"]


class LedgerIn(Strict):
    currency: CurrencyCode


class LedgerOut(BaseModel):
    id: int
    currency: str
    exponent: int
    created_at: str


class AccountIn(Strict):
    id: AccountId | None = Field(default=None, description="choose the id to make creation "
                                 "idempotent; the server picks a random one otherwise")
    ledger: CurrencyCode
    code: Code
    flags: list[AccountFlagName] = Field(default_factory=list, max_length=2)
    user_data: UserData | None = None


class BalancesOut(BaseModel):
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


class AccountOut(BaseModel):
    id: str
    ledger: str
    code: int
    flags: list[str]
    user_data: str | None
    created_at: str
    balances: BalancesOut
    as_of: str | None = None


class TransferIn(Strict):
    id: TransferId
    debit_account_id: AccountId | None = None
    credit_account_id: AccountId | None = None
    amount: Amount | None = None
    ledger: CurrencyCode | None = None
    code: Code | None = None
    flags: list[TransferFlagName] = Field(default_factory=list, max_length=4)
    pending_id: TransferId | None = None
    timeout_s: Annotated[int, Field(ge=0, le=model.TIMEOUT_S_MAX)] = 0
    user_data: UserData | None = None

    @model_validator(mode="after")
    def _required_fields(self) -> TransferIn:
        if {"post_pending", "void_pending"} & set(self.flags):
            if self.pending_id is None:
                raise ValueError("a post or void names its pending transfer in pending_id")
            return self
        missing = [name for name in ("debit_account_id", "credit_account_id", "amount",
                                     "ledger", "code") if getattr(self, name) is None]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return self


class TransferBatchIn(Strict):
    transfers: list[TransferIn] = Field(min_length=1)


class TransferResultOut(BaseModel):
    index: int
    id: str
    result: str


class TransferBatchOut(BaseModel):
    results: list[TransferResultOut]
    applied: int


class TransferOut(BaseModel):
    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: int
    flags: list[str]
    pending_id: str | None
    timeout_s: int
    user_data: str | None
    timestamp: str


class TransferPageOut(BaseModel):
    data: list[TransferOut]
    next_cursor: str | None

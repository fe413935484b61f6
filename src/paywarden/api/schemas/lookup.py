"""Request and response bodies of staff customer lookups (api/lookup_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..text import Prose
from . import Strict


class MaskedAccountOut(BaseModel):
    id: str = Field(examples=["acc_0a1b2c3d4e5f6a7b8c9d0e1f"])
    product: str = Field(examples=["current"])
    currency: str = Field(examples=["EUR"])
    iban: str = Field(examples=["DE89 ••• 3000"])
    state: str = Field(examples=["open"])


class CustomerOut(BaseModel):
    id: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    username: str = Field(examples=["a•••"], description="masked")
    display_name: str | None = Field(examples=["A••• L•••"], description="masked")
    email: str | None = Field(examples=["a•••@example.com"], description="masked")
    status: str = Field(examples=["active"])
    created_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    accounts: list[MaskedAccountOut]
    cards: list[str] = Field(examples=[["visa ••• 4242"]])


class CustomersOut(BaseModel):
    data: list[CustomerOut]


class RevealIn(Strict):
    field: Literal["email", "display_name", "iban"] = Field(examples=["email"])
    reason: Prose = Field(min_length=1, max_length=300,
                          examples=["customer on the phone, ticket 4711"])


class RevealOut(BaseModel):
    field: str = Field(examples=["email"])
    value: str | None = Field(examples=["ada@example.com"])

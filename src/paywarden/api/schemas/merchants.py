"""Request and response bodies of merchants and their keys (api/merchant_routes.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..text import Line
from . import Strict


class KeyIn(Strict):
    public_key: str = Field(max_length=4096, description="PEM of an Ed25519 public key")
    label: Line = Field(default="", max_length=64)


class MerchantIn(Strict):
    name: Line = Field(min_length=1, max_length=128)
    public_key: str = Field(max_length=4096, description="PEM of an Ed25519 public key")
    key_label: Line = Field(default="", max_length=64)


class KeyOut(BaseModel):
    id: str
    label: str
    status: str  # active | revoked
    public_key: str  # raw Ed25519, base64url
    created_at: str
    revoked_at: str | None


class MerchantOut(BaseModel):
    id: str
    name: str
    status: str
    created_at: str
    keys: list[KeyOut]


class NewMerchantOut(BaseModel):
    merchant_id: str
    key_id: str
    merchant: MerchantOut

"""Bodies of the credit registry's staff routes (api/registry_routes.py).

Identifiers come in raw (staff type what they were given) and are hashed at once; no
response carries one back, only digests, kinds and reason categories."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from . import Strict

KindName = Literal["national_id", "email", "phone", "card_fingerprint", "iban", "device_id"]
ReasonName = Literal["confirmed_fraud", "identity_theft", "money_mule", "account_takeover",
                     "chargeback_abuse", "refund_abuse", "synthetic_identity", "insider_fraud"]
ActionName = Literal["create", "change", "remove", "trust_source"]
ENTRY_ID = r"^reg_[0-9a-f]{24}$"
REGION = r"^[A-Z]{2}$"
IDENTIFIERS_MAX = 16


class IdentifierIn(Strict):
    kind: KindName = Field(examples=["email"])
    value: str = Field(min_length=1, max_length=256, examples=["alice@example.com"])


class RegistryRequestIn(Strict):
    """One change to the registry; another member of staff approves it before it applies."""

    action: ActionName = Field(examples=["create"])
    entry_id: str | None = Field(default=None, pattern=ENTRY_ID, description="The entry a "
                                 "change or removal is about", examples=[None])
    identifiers: list[IdentifierIn] = Field(default=[], max_length=IDENTIFIERS_MAX,
                                            description="create: the subject's identifiers")
    region: str | None = Field(default=None, pattern=REGION, description="Where a phone "
                               "without + is read; default: the bank's country",
                               examples=["GB"])
    reason: ReasonName | None = Field(default=None, examples=["confirmed_fraud"])
    evidence_ref: str | None = Field(default=None, max_length=128, description="An id of "
                                     "the evidence (a case, a document); never shown to the "
                                     "subject nor shared", examples=["case:4711"])
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, examples=[365])
    issuer: str | None = Field(default=None, max_length=200, description="trust_source: the "
                               "other institution's issuer", examples=[None])
    jwks: dict[str, Any] | None = Field(default=None, description="trust_source: its JWKS",
                                        examples=[None])


class DigestOut(BaseModel):
    kind: KindName
    digest: str = Field(examples=["3f1c…"])


class RegistryEntryOut(BaseModel):
    id: str = Field(examples=["reg_5f0c9a7d2b1e4c8a9d3f6e21"])
    reason: ReasonName
    source: str = Field(description="local, or the issuer of the feed it came from",
                        examples=["local"])
    state: Literal["live", "removed"]
    evidence_ref: str | None = Field(examples=["case:4711"])
    requested_by: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    approved_by: str = Field(examples=["usr_9f8e7d6c5b4a3f2e"])
    created_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    expires_at: str = Field(examples=["2027-11-30T12:00:00.000000000Z"])
    identifiers: list[DigestOut]


class SubjectIn(Strict):
    identifiers: list[IdentifierIn] = Field(min_length=1, max_length=IDENTIFIERS_MAX)
    region: str | None = Field(default=None, pattern=REGION, examples=["GB"])


class AppealIn(SubjectIn):
    entry_id: str = Field(pattern=ENTRY_ID, examples=["reg_5f0c9a7d2b1e4c8a9d3f6e21"])


class SubjectEntryOut(BaseModel):
    """What the subject may be told: never the evidence, nor who wrote the entry."""

    entry_id: str = Field(examples=["reg_5f0c9a7d2b1e4c8a9d3f6e21"])
    reason: ReasonName
    source: str = Field(examples=["local"])
    created_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    expires_at: str = Field(examples=["2027-11-30T12:00:00.000000000Z"])
    appeal_id: str | None = Field(examples=[None])
    appeal_due_at: str | None = Field(examples=[None])


class SubjectStatusOut(BaseModel):
    data: list[SubjectEntryOut]


class AppealOut(BaseModel):
    id: str = Field(examples=["rap_5f0c9a7d2b1e4c8a9d3f6e21"])
    entry_id: str = Field(examples=["reg_5f0c9a7d2b1e4c8a9d3f6e21"])
    state: Literal["open", "upheld", "overturned"]
    opened_by: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    opened_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    due_at: str = Field(examples=["2026-12-30T12:00:00.000000000Z"])


class AppealsOut(BaseModel):
    data: list[AppealOut]

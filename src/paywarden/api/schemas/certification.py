"""Request and response bodies of merchant certification and the public registry
(api/certification_routes.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..text import Line, Prose
from . import Strict


class ApplicationIn(Strict):
    legal_name: Line = Field(max_length=64)
    registration_number: Line = Field(max_length=64)
    address: Prose = Field(max_length=500)
    contact_email: Line = Field(max_length=254)
    domains: list[Line] = Field(min_length=1, max_length=10)


class ReasonIn(Strict):
    reason: Line = Field(max_length=32)


class DomainOut(BaseModel):
    id: str
    domain: str
    token: str
    verified_at: str | None
    checked_at: str | None
    check_error: str | None


class ApplicationOut(BaseModel):
    merchant_id: str
    status: str
    legal_name: str
    registration_number: str
    address: str
    contact_email: str
    domains: list[DomainOut]
    submitted_at: str
    decided_at: str | None
    reason: str | None


class CertificateOut(BaseModel):
    serial: str
    status: str
    fingerprint: str  # SHA-256 of the DER, hex
    not_before: str
    not_after: str
    suspended_at: str | None
    revoked_at: str | None
    reason: str | None
    pem: str


class RegistryEntryOut(BaseModel):
    merchant_id: str
    legal_name: str
    domains: list[str]
    status: str
    certificate: CertificateOut


class RegistryPage(BaseModel):
    data: list[RegistryEntryOut]
    next_after: str | None


class RevocationOut(BaseModel):
    serial: str
    merchant_id: str
    status: str  # revoked | suspended (on hold)
    reason: str | None
    revoked_at: str


class RevocationsOut(BaseModel):
    data: list[RevocationOut]
    crl: str  # PEM, signed by the CA

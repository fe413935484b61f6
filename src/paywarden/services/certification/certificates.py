"""Issued merchant certificates as stored: status, and the domains they bind."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, RowMapping, bindparam, select

from ...adapters.store.schema import merchant_certificates

ACTIVE, SUSPENDED, REVOKED = "active", "suspended", "revoked"
LIVE = (ACTIVE, SUSPENDED)


@dataclass(frozen=True)
class Certificate:
    serial: str
    merchant_id: str
    merchant_key_id: str
    ca_key_id: str
    legal_name: str
    pem: str
    fingerprint: str
    not_before: int
    not_after: int
    status: str
    suspended_at: int | None
    revoked_at: int | None
    reason: str | None

    @property
    def domains(self) -> tuple[str, ...]:
        """The DNS names the certificate binds (read from the certificate itself)."""
        return _dns_names(self.pem)


DOMAINS_CACHED_MAX = 4_096


@functools.lru_cache(maxsize=DOMAINS_CACHED_MAX)
def _dns_names(pem: str) -> tuple[str, ...]:
    """Parsed once per certificate: a certificate's bytes never change, and every
    checkout asks."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return tuple(names.get_values_for_type(x509.DNSName))


def from_row(row: RowMapping | dict[str, Any]) -> Certificate:
    return Certificate(**{name: row[name] for name in Certificate.__dataclass_fields__})


_OF_MERCHANT = select(merchant_certificates).where(
    merchant_certificates.c.merchant_id == bindparam("merchant_id")).order_by(
    merchant_certificates.c.not_before.desc(), merchant_certificates.c.serial)


def latest(conn: Connection, merchant_id: str) -> Certificate | None:
    """The merchant's live certificate, else its most recently issued one."""
    rows = [from_row(r) for r in conn.execute(_OF_MERCHANT,
                                              {"merchant_id": merchant_id}).mappings()]
    live = [c for c in rows if c.status in LIVE]
    found = live or rows
    return found[0] if found else None

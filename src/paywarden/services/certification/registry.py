"""The public registry: certified merchants, their certificates, and the revocations.

Everything here is public by construction: what a certificate already says
(legal name, domains, merchant id, key), its status, and revocation dates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from ...adapters.store.schema import merchant_certificates
from .certificates import REVOKED, SUSPENDED, Certificate, from_row, latest

PAGE_SIZE_MAX = 100


@dataclass(frozen=True)
class Entry:
    merchant_id: str
    legal_name: str
    domains: tuple[str, ...]
    status: str  # active | suspended | revoked
    certificate: Certificate


def entry(conn: Connection, merchant_id: str) -> Entry | None:
    found = latest(conn, merchant_id)
    if found is None:
        return None
    return Entry(merchant_id=merchant_id, legal_name=found.legal_name, domains=found.domains,
                 status=found.status, certificate=found)


def entries(conn: Connection, *, after: str | None, limit: int) -> list[Entry]:
    """Merchants in id order, from after ``after``; at most ``limit`` (≤ PAGE_SIZE_MAX)."""
    query = select(merchant_certificates.c.merchant_id).distinct().order_by(
        merchant_certificates.c.merchant_id).limit(min(limit, PAGE_SIZE_MAX))
    if after is not None:
        query = query.where(merchant_certificates.c.merchant_id > after)
    found = (entry(conn, row.merchant_id) for row in conn.execute(query))
    return [e for e in found if e is not None]


def revocations(conn: Connection) -> list[Certificate]:
    """Revoked and suspended certificates (suspension: RFC 5280 certificateHold)."""
    rows = conn.execute(select(merchant_certificates).where(
        merchant_certificates.c.status.in_((REVOKED, SUSPENDED)))
        .order_by(merchant_certificates.c.serial)).mappings()
    return [from_row(r) for r in rows]

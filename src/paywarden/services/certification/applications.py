"""A merchant's application: sealed business details and the domains it sells from.

The business details are sealed per row (AAD ``merchant_applications``/column/
merchant id). An application may be resubmitted while it is not approved, or
after its certificate was revoked: domains still listed keep their token and
their verification; others are dropped; new ones get a fresh token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from ...adapters.store.schema import (
    merchant_applications,
    merchant_certificates,
    merchant_domains,
    merchants,
)
from ...domain.errors import DomainError
from ..sealed import FieldKeys
from .hostnames import normalise_domain

TABLE = "merchant_applications"
DETAILS = ("legal_name", "registration_number", "address", "contact_email")
CHARS_MAX = {"legal_name": 64,  # ub-organization-name: it becomes the subject O
             "registration_number": 64, "address": 500,
             "contact_email": 254}
DOMAINS_MAX = 10
TOKEN_PREFIX = "pwv_"
DOMAIN_ID_PREFIX = "dom_"
SUBMITTED, APPROVED, REJECTED = "submitted", "approved", "rejected"
LIVE_CERTIFICATE = ("active", "suspended")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class BusinessDetails:
    legal_name: str
    registration_number: str
    address: str
    contact_email: str

    def checked(self) -> BusinessDetails:
        values = {}
        for name in DETAILS:
            value = " ".join(str(getattr(self, name)).split()) if name != "address" \
                else str(getattr(self, name)).strip()
            printable = value.replace("\n", " ").isprintable()
            if not 0 < len(value) <= CHARS_MAX[name] or not printable:
                raise DomainError("application_invalid", f"{name} is 1 to {CHARS_MAX[name]} "
                                  "printable characters")
            values[name] = value
        if not _EMAIL.match(values["contact_email"]):
            raise DomainError("application_invalid", "contact_email is not an e-mail address")
        return BusinessDetails(**values)


@dataclass(frozen=True)
class Domain:
    id: str
    domain: str
    token: str
    created_at: int
    checked_at: int | None
    check_error: str | None
    verified_at: int | None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


@dataclass(frozen=True)
class Application:
    merchant_id: str
    status: str
    details: BusinessDetails
    domains: tuple[Domain, ...]
    submitted_at: int
    decided_at: int | None
    reason: str | None


def check_domains(domains: list[str], *, allow_private: bool) -> list[str]:
    names = list(dict.fromkeys(normalise_domain(d, allow_private=allow_private)
                               for d in domains))
    if not 0 < len(names) <= DOMAINS_MAX:
        raise DomainError("application_invalid", f"list 1 to {DOMAINS_MAX} domains")
    return names


def sealed_values(keys: FieldKeys, merchant_id: str, details: BusinessDetails
                  ) -> dict[str, bytes]:
    """Seal before any write transaction (the keyring may need to create its first key)."""
    return {f"{n}_sealed": keys.seal(getattr(details, n).encode(), table=TABLE,
                                     column=f"{n}_sealed", row_id=merchant_id)
            for n in DETAILS}


def submit(conn: Connection, *, merchant_id: str, sealed: dict[str, bytes], domains: list[str],
           now_ns: int) -> tuple[str | None, list[str]]:
    """Write the application and its domains; returns (previous status, new domain ids)."""
    if conn.execute(select(merchants.c.id).where(merchants.c.id == merchant_id)).first() is None:
        raise DomainError("not_found", f"no merchant {merchant_id}")
    live = conn.execute(select(merchant_certificates.c.serial).where(
        merchant_certificates.c.merchant_id == merchant_id,
        merchant_certificates.c.status.in_(LIVE_CERTIFICATE))).first()
    if live is not None:
        raise DomainError("already_certified", f"merchant {merchant_id} holds a certificate; "
                          "it must be revoked before applying again")
    before = conn.execute(select(merchant_applications.c.status).where(
        merchant_applications.c.merchant_id == merchant_id)).scalar_one_or_none()
    values = {**sealed, "status": SUBMITTED, "submitted_at": now_ns, "decided_at": None,
              "decided_by": None, "reason": None}
    if before is None:
        conn.execute(insert(merchant_applications).values(merchant_id=merchant_id, **values))
    else:
        conn.execute(update(merchant_applications).where(
            merchant_applications.c.merchant_id == merchant_id).values(**values))
    kept = {row.domain for row in conn.execute(select(merchant_domains.c.domain).where(
        merchant_domains.c.merchant_id == merchant_id))}
    conn.execute(delete(merchant_domains).where(merchant_domains.c.merchant_id == merchant_id,
                                                merchant_domains.c.domain.not_in(domains)))
    added = []
    for name in domains:
        if name in kept:
            continue
        domain_id = DOMAIN_ID_PREFIX + secrets.token_hex(8)
        conn.execute(insert(merchant_domains).values(
            id=domain_id, merchant_id=merchant_id, domain=name,
            token=TOKEN_PREFIX + secrets.token_urlsafe(32), created_at=now_ns))
        added.append(domain_id)
    return before, added


def domains_of(conn: Connection, merchant_id: str) -> tuple[Domain, ...]:
    rows = conn.execute(select(merchant_domains).where(
        merchant_domains.c.merchant_id == merchant_id).order_by(merchant_domains.c.domain))
    return tuple(Domain(id=r.id, domain=r.domain, token=r.token, created_at=r.created_at,
                        checked_at=r.checked_at, check_error=r.check_error,
                        verified_at=r.verified_at) for r in rows)


def load(conn: Connection, keys: FieldKeys, merchant_id: str) -> Application | None:
    row = conn.execute(select(merchant_applications).where(
        merchant_applications.c.merchant_id == merchant_id)).mappings().first()
    if row is None:
        return None
    details = BusinessDetails(**{n: keys.open(bytes(row[f"{n}_sealed"]), table=TABLE,
                                              column=f"{n}_sealed", row_id=merchant_id).decode()
                                 for n in DETAILS})
    return Application(merchant_id=merchant_id, status=row["status"], details=details,
                       domains=domains_of(conn, merchant_id), submitted_at=row["submitted_at"],
                       decided_at=row["decided_at"], reason=row["reason"])

"""Staff decisions: approve (issue a certificate), reject, suspend, reinstate, revoke.

Each is one transaction holding the merchant's row lock (so two staff members
deciding at once serialise), writing the new state and its audit record.
Suspension and revocation also set ``merchants.status``, which stops the
merchant's signed requests; the certificate's status is what the registry, the
CRL and :func:`.selling.check_can_sell` publish and enforce.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, insert, select, update

from ...adapters.store.schema import (
    merchant_applications,
    merchant_certificates,
    merchant_keys,
    merchants,
)
from ...domain.errors import DomainError
from .. import audit
from ..merchants.keys import lock_merchant
from . import authority
from .applications import APPROVED, REJECTED, SUBMITTED, domains_of
from .certificates import ACTIVE, LIVE, REVOKED, SUSPENDED, Certificate, from_row, latest

_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def check_reason(reason: str) -> str:
    if not _REASON.match(reason):
        raise DomainError("reason_invalid", "a reason is a code: 1 to 32 of a-z, 0-9, _")
    return reason


def submitted_domains(conn: Connection, merchant_id: str) -> list[str]:
    """The application's domains, all verified, or ``domains_not_verified``."""
    status = conn.execute(select(merchant_applications.c.status).where(
        merchant_applications.c.merchant_id == merchant_id)).scalar_one_or_none()
    if status is None:
        raise DomainError("not_found", f"merchant {merchant_id} has not applied")
    if status != SUBMITTED:
        raise DomainError("application_not_pending", f"the application is {status}")
    domains = domains_of(conn, merchant_id)
    pending = [d.id for d in domains if not d.verified]
    if not domains or pending:
        raise DomainError("domains_not_verified",
                          f"{len(pending)} of the application's domains are not verified")
    return [d.domain for d in domains]


def approve(conn: Connection, ca: authority.CaCertificate, *, merchant_id: str,
            legal_name: str, now_ns: int, actor: str, validity_days: int,
            public_url: str) -> Certificate:
    lock_merchant(conn, merchant_id)
    domains = submitted_domains(conn, merchant_id)
    status = conn.execute(select(merchants.c.status).where(merchants.c.id == merchant_id)
                          ).scalar_one()
    if status != "active":
        raise DomainError("merchant_not_active", f"merchant {merchant_id} is {status}")
    key = conn.execute(select(merchant_keys.c.id, merchant_keys.c.public_key).where(
        merchant_keys.c.merchant_id == merchant_id, merchant_keys.c.revoked_at.is_(None))
        .order_by(merchant_keys.c.created_at.desc(), merchant_keys.c.id)).first()
    if key is None:
        raise DomainError("merchant_key_missing", f"merchant {merchant_id} has no active key")
    issued = authority.issue(ca, merchant_id=merchant_id, legal_name=legal_name,
                             domains=domains, public_key=bytes(key.public_key), now_ns=now_ns,
                             validity_days=validity_days, public_url=public_url)
    row = {"serial": issued.serial, "merchant_id": merchant_id, "merchant_key_id": key.id,
           "ca_key_id": ca.key_id, "legal_name": legal_name, "pem": issued.pem,
           "fingerprint": issued.fingerprint, "not_before": issued.not_before,
           "not_after": issued.not_after, "status": ACTIVE, "suspended_at": None,
           "revoked_at": None, "reason": None}
    conn.execute(insert(merchant_certificates).values(**row))
    conn.execute(update(merchant_applications).where(
        merchant_applications.c.merchant_id == merchant_id).values(
        status=APPROVED, decided_at=now_ns, decided_by=actor, reason=None))
    audit.record(conn, at_ns=now_ns, actor=actor, action="certification.approve",
                 object_id=merchant_id,
                 detail={"serial": issued.serial, "ca_key_id": ca.key_id,
                         "merchant_key_id": key.id, "fingerprint": issued.fingerprint},
                 before={"application": SUBMITTED},
                 after={"application": APPROVED, "certificate": issued.serial})
    return from_row(row)


def reject(conn: Connection, *, merchant_id: str, reason: str, now_ns: int, actor: str) -> None:
    check_reason(reason)
    lock_merchant(conn, merchant_id)
    changed = conn.execute(update(merchant_applications).where(
        merchant_applications.c.merchant_id == merchant_id,
        merchant_applications.c.status == SUBMITTED).values(
        status=REJECTED, decided_at=now_ns, decided_by=actor, reason=reason)).rowcount
    if not changed:
        status = conn.execute(select(merchant_applications.c.status).where(
            merchant_applications.c.merchant_id == merchant_id)).scalar_one_or_none()
        if status is None:
            raise DomainError("not_found", f"merchant {merchant_id} has not applied")
        raise DomainError("application_not_pending", f"the application is {status}")
    audit.record(conn, at_ns=now_ns, actor=actor, action="certification.reject",
                 object_id=merchant_id, detail={"reason": reason},
                 before={"application": SUBMITTED}, after={"application": REJECTED})


# target certificate status -> (allowed from, merchants.status, audit action)
_MOVES = {
    SUSPENDED: ((ACTIVE,), "suspended", "certification.suspend"),
    ACTIVE: ((SUSPENDED,), "active", "certification.reinstate"),
    REVOKED: (LIVE, "revoked", "certification.revoke"),
}


def move(conn: Connection, *, merchant_id: str, to: str, reason: str | None, now_ns: int,
         actor: str) -> Certificate:
    """Suspend, reinstate or revoke the merchant's live certificate."""
    allowed, merchant_status, action = _MOVES[to]
    if to == REVOKED and reason not in authority.REVOCATION_REASONS:
        raise DomainError("reason_invalid", "a revocation reason is one of "
                          + ", ".join(sorted(authority.REVOCATION_REASONS)))
    lock_merchant(conn, merchant_id)
    current = latest(conn, merchant_id)
    if current is None:
        raise DomainError("not_found", f"merchant {merchant_id} holds no certificate")
    if current.status not in allowed:
        raise DomainError("certificate_status_unchanged" if current.status == to
                          else "certificate_not_live",
                          f"certificate {current.serial} is {current.status}")
    values: dict[str, object] = {"status": to}
    if to == SUSPENDED:
        values |= {"suspended_at": now_ns, "reason": authority.HOLD}
    elif to == ACTIVE:
        values |= {"suspended_at": None, "reason": None}
    else:
        values |= {"revoked_at": now_ns, "reason": reason}
    conn.execute(update(merchant_certificates).where(
        merchant_certificates.c.serial == current.serial).values(**values))
    conn.execute(update(merchants).where(merchants.c.id == merchant_id)
                 .values(status=merchant_status))
    audit.record(conn, at_ns=now_ns, actor=actor, action=action, object_id=merchant_id,
                 detail={"serial": current.serial, "reason": values.get("reason")},
                 before={"certificate": current.status}, after={"certificate": to})
    return from_row({**current.__dict__, **values})

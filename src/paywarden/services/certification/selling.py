"""May this merchant sell — and send the buyer back to this URL? Asked by the checkout.

    check_can_sell(conn, merchant_id, return_url) -> CertifiedMerchant

(``Certification.check_can_sell`` asks it with the platform's clock and settings)

refuses with a ``DomainError`` whose code is stable:

    merchant_not_certified   no certificate, or it has expired
    merchant_suspended       the certificate (or the merchant) is suspended
    merchant_revoked         the certificate (or the merchant) is revoked
    return_url_off_domain    not https (http only when domains are verified over
                             http), or its host is not exactly a verified domain

``return_url=None`` checks the merchant alone (before a release, say).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ...adapters.store.schema import merchants
from ...domain.errors import DomainError
from .certificates import LIVE, REVOKED, SUSPENDED, latest
from .hostnames import return_url_host


@dataclass(frozen=True)
class CertifiedMerchant:
    merchant_id: str
    legal_name: str
    domains: tuple[str, ...]
    serial: str
    fingerprint: str


_STATUS = select(merchants.c.status).where(merchants.c.id == bindparam("id"))


# For many merchants in one read: each one's status and its certificates' statuses in
# ``latest``'s order (see :func:`stopped_from`).
_STANDING = ("SELECT m.id, m.status, c.status FROM merchants m LEFT JOIN merchant_certificates c "
             "ON c.merchant_id = m.id WHERE m.id {among} ORDER BY m.id, c.not_before DESC, "
             "c.serial")


def standing_read(merchant_ids: Sequence[str], *, postgres: bool) -> tuple[str, tuple[Any, ...]]:
    """The driver SQL and parameters of the standing of ``merchant_ids`` (``stopped_from``)."""
    if postgres:
        return _STANDING.format(among="= ANY(%s)"), (list(merchant_ids),)
    marks = ",".join("?" * len(merchant_ids))
    return _STANDING.format(among=f"IN ({marks})"), tuple(merchant_ids)


def stopped_from(rows: list[Any]) -> dict[str, DomainError | None]:
    """From ``standing_read``'s rows: each merchant's suspension or revocation, the first
    two refusals of :func:`check_can_sell` (a merchant with no row has none)."""
    statuses: dict[str, tuple[str, list[str]]] = {}
    for merchant_id, status, certificate in rows:
        statuses.setdefault(merchant_id, (status, []))[1].extend(
            [certificate] if certificate is not None else [])
    out: dict[str, DomainError | None] = {}
    for merchant_id, (status, certificates) in statuses.items():
        live = [c for c in certificates if c in LIVE]
        found = live or certificates
        try:
            _stopped(merchant_id, status, found[0] if found else None)
            out[merchant_id] = None
        except DomainError as refusal:
            out[merchant_id] = refusal
    return out


def _stopped(merchant_id: str, status: str | None, certificate: str | None) -> None:
    if REVOKED in (status, certificate):
        raise DomainError("merchant_revoked", f"merchant {merchant_id}'s certification "
                          "is revoked")
    if SUSPENDED in (status, certificate):
        raise DomainError("merchant_suspended", f"merchant {merchant_id} is suspended")


def check_can_sell(conn: Connection, merchant_id: str, return_url: str | None = None, *,
                   now_ns: int | None = None, allow_http: bool = False,
                   allow_private: bool = False) -> CertifiedMerchant:
    status = conn.execute(_STATUS, {"id": merchant_id}).scalar_one_or_none()
    certificate = latest(conn, merchant_id) if status is not None else None
    _stopped(merchant_id, status, certificate.status if certificate is not None else None)
    if certificate is None:
        raise DomainError("merchant_not_certified", f"merchant {merchant_id} is not certified")
    if now_ns is not None and not certificate.not_before <= now_ns < certificate.not_after:
        raise DomainError("merchant_not_certified",
                          f"merchant {merchant_id}'s certificate is not valid now")
    domains = certificate.domains
    if return_url is not None:
        host = return_url_host(return_url, allow_http=allow_http, allow_private=allow_private)
        if host not in domains:
            raise DomainError("return_url_off_domain",
                              "the return URL's host is not a verified domain of the merchant")
    return CertifiedMerchant(merchant_id=merchant_id, legal_name=certificate.legal_name,
                             domains=domains, serial=certificate.serial,
                             fingerprint=certificate.fingerprint)

"""The platform's merchant certificate authority (``cryptography.x509``, Ed25519).

The CA key is the keyring's ``ca`` purpose (never in the JWKS). Its
self-signed certificate is made once per key version and stored in
``ca_certificates``; a merchant certificate binds

    subject       O = legal name, CN = merchant id (serialNumber would have to be
                  a PrintableString, which has no '_')
    SAN           DNS: every verified domain; URI: urn:paywarden:merchant:<id>
    public key    the merchant's newest active Ed25519 key (merchant_keys)
    extensions    CA:FALSE; KeyUsage digitalSignature; EKU clientAuth (a merchant
                  signs requests to the platform); CRL distribution point

Revocations and suspensions (``certificateHold``) are published as an X.509
CRL signed by the same key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from ...adapters.store import Database
from ...adapters.store.schema import ca_certificates, merchant_certificates
from .. import audit

CA_PURPOSE = "ca"
CA_NAME = "PayWarden Merchant CA"
CA_VALIDITY_DAYS = 10 * 365
CRL_VALIDITY_S = 24 * 3600
CRL_PATH = "/v1/registry/revocations.crl"
MERCHANT_URN = "urn:paywarden:merchant:"
NS = 1_000_000_000
# Suspension is RFC 5280's certificateHold; revocation takes one of these reasons.
HOLD = "certificate_hold"
REVOCATION_REASONS = frozenset({"unspecified", "key_compromise", "affiliation_changed",
                                "superseded", "cessation_of_operation",
                                "privilege_withdrawn"})


@dataclass(frozen=True)
class CaCertificate:
    key_id: str
    certificate: x509.Certificate
    private_key: Ed25519PrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class Issued:
    serial: str
    pem: str
    fingerprint: str
    not_before: int
    not_after: int


class KeySource(Protocol):  # what the CA needs of the keyring (services.keys.Keys)
    def private_key(self, purpose: str) -> tuple[str, Ed25519PrivateKey]: ...


def _time(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // NS, UTC)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def current_ca(database: Database, keys: KeySource, *, now_ns: int, actor: str) -> CaCertificate:
    """The active CA key's certificate, made and stored (audited) on first use."""
    key_id, private = keys.private_key(CA_PURPOSE)
    for _ in range(2):  # a racing creator wins: read its row
        with database.engine.connect() as conn:
            pem = conn.execute(select(ca_certificates.c.pem).where(
                ca_certificates.c.key_id == key_id)).scalar_one_or_none()
        if pem is not None:
            return CaCertificate(key_id, x509.load_pem_x509_certificate(pem.encode()), private)
        certificate = _self_signed(private, now_ns=now_ns)
        try:
            with database.engine.begin() as conn:
                serial = format(certificate.serial_number, "x")
                conn.execute(insert(ca_certificates).values(
                    key_id=key_id, serial=serial, created_at=now_ns,
                    pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                    not_after=_ns(certificate.not_valid_after_utc)))
                audit.record(conn, at_ns=now_ns, actor=actor, action="certification.ca.create",
                             object_id=serial, detail={"ca_key_id": key_id,
                                                       "fingerprint": fingerprint(certificate)})
            return CaCertificate(key_id, certificate, private)
        except IntegrityError:
            continue
    raise RuntimeError("the CA certificate could not be stored")  # pragma: no cover


def _self_signed(private: Ed25519PrivateKey, *, now_ns: int) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PayWarden"),
                      x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    public = private.public_key()
    start = _time(now_ns)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=CA_VALIDITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(private, algorithm=None))


def issue(ca: CaCertificate, *, merchant_id: str, legal_name: str, domains: list[str],
          public_key: bytes, now_ns: int, validity_days: int, public_url: str) -> Issued:
    """A certificate for ``merchant_id``; ``public_key`` is its raw Ed25519 key."""
    start = _time(now_ns)
    end = min(start + timedelta(days=validity_days), ca.certificate.not_valid_after_utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, legal_name),
                         x509.NameAttribute(NameOID.COMMON_NAME, merchant_id)])
    key = Ed25519PublicKey.from_public_bytes(public_key)
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in domains]
    names.append(x509.UniformResourceIdentifier(MERCHANT_URN + merchant_id))
    crl_point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(public_url.rstrip("/") + CRL_PATH)],
        relative_name=None, reasons=None, crl_issuer=None)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca.private_key.public_key()), critical=False)
        .add_extension(x509.CRLDistributionPoints([crl_point]), critical=False)
        .sign(ca.private_key, algorithm=None))
    return Issued(serial=format(certificate.serial_number, "x"),
                  pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                  fingerprint=fingerprint(certificate), not_before=_ns(start),
                  not_after=_ns(certificate.not_valid_after_utc))


def crl(conn: Connection, ca: CaCertificate, *, now_ns: int) -> x509.CertificateRevocationList:
    """The CRL of ``ca``'s certificates: revoked ones, and suspended ones on hold."""
    rows = conn.execute(select(merchant_certificates).where(
        merchant_certificates.c.ca_key_id == ca.key_id,
        merchant_certificates.c.status.in_(("revoked", "suspended")))
        .order_by(merchant_certificates.c.serial)).mappings()
    now = _time(now_ns)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
               .last_update(now).next_update(now + timedelta(seconds=CRL_VALIDITY_S))
               .add_extension(x509.CRLNumber(now_ns // NS), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca.private_key.public_key()), critical=False))
    for row in rows:
        at = row["revoked_at"] if row["status"] == "revoked" else row["suspended_at"]
        reason = row["reason"] if row["status"] == "revoked" else HOLD
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(row["serial"], 16))
            .revocation_date(_time(at))
            .add_extension(x509.CRLReason(x509.ReasonFlags[reason]), critical=False).build())
    return builder.sign(ca.private_key, algorithm=None)

"""Clearing participants' certificates from the platform CA (decision 0053).

A hub's CA (the merchant CA of ``authority``, extended to banks) certifies each
participant's clearing key:

    subject       O = the bank's name, CN = its BIC
    SAN           URI urn:paywarden:participant:<BIC> (exactly one such name)
    public key    the participant's Ed25519 clearing key (keyring purpose ``clearing``)
    extensions    CA:FALSE; KeyUsage digitalSignature; EKU clientAuth

No CRL distribution point: a participant is suspended or revoked in the hub's own
``clearing_peers`` table, which every message is checked against; the certificate only
binds a key to a BIC.

``participant_key`` is what a node asks before trusting a peer's key: the certificate
is signed by one of the CA certificates it trusts (a CA, named as the issuer), both are
valid at ``now_ns``, it is CA:FALSE for digitalSignature and clientAuth, and it names
exactly the BIC the messages claim. Anything else is ``participant_certificate_invalid``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ...domain.clearing.messages import check_bic
from ...domain.errors import DomainError
from .authority import CaCertificate, Issued, _ns, _time, fingerprint

PARTICIPANT_URN = "urn:paywarden:participant:"
PARTICIPANT_VALIDITY_DAYS = 2 * 365
CERTIFICATE_PEM_BYTES_MAX = 16 * 1024
T = TypeVar("T", bound=x509.ExtensionType)


class ParticipantCertificateInvalid(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__("participant_certificate_invalid", detail)


def issue_participant(ca: CaCertificate, *, bic: str, name: str,
                      public_key: Ed25519PublicKey, now_ns: int,
                      validity_days: int = PARTICIPANT_VALIDITY_DAYS) -> Issued:
    """A certificate binding ``public_key`` to the participant ``bic``."""
    check_bic(bic)
    start = _time(now_ns)
    end = min(start + timedelta(days=validity_days), ca.certificate.not_valid_after_utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.COMMON_NAME, bic)])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier(PARTICIPANT_URN + bic)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca.private_key.public_key()), critical=False)
        .sign(ca.private_key, algorithm=None))
    return Issued(serial=format(certificate.serial_number, "x"),
                  pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                  fingerprint=fingerprint(certificate), not_before=_ns(start),
                  not_after=_ns(certificate.not_valid_after_utc))


def _load(pem: str, what: str) -> x509.Certificate:
    data = pem.encode() if isinstance(pem, str) else b""
    if not 0 < len(data) <= CERTIFICATE_PEM_BYTES_MAX:
        raise ParticipantCertificateInvalid(f"a {what} is a PEM certificate of at most "
                                            f"{CERTIFICATE_PEM_BYTES_MAX} bytes")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ParticipantCertificateInvalid(f"the {what} is not a PEM certificate") from None


def participant_key(cert_pem: str, ca_pems: list[str], bic: str, *,
                    now_ns: int) -> Ed25519PublicKey:
    """The clearing key ``cert_pem`` certifies for ``bic``, if it chains to one of
    ``ca_pems`` and both are valid at ``now_ns``; ``participant_certificate_invalid``
    otherwise."""
    check_bic(bic)
    leaf = _load(cert_pem, "participant certificate")
    now = _time(now_ns)
    if not any(_issued_by(leaf, _load(pem, "CA certificate"), now) for pem in ca_pems):
        raise ParticipantCertificateInvalid("the certificate is not issued by a trusted CA")
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise ParticipantCertificateInvalid("the certificate is not valid now")
    if _extension(leaf, x509.BasicConstraints, ca=True) \
            or not _extension(leaf, x509.KeyUsage, digital_signature=True):
        raise ParticipantCertificateInvalid("a participant certificate is no CA's and signs")
    usages = _value(leaf, x509.ExtendedKeyUsage)
    if usages is None or ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise ParticipantCertificateInvalid("a participant certificate is for clientAuth")
    names = _value(leaf, x509.SubjectAlternativeName)
    named = [] if names is None else [
        uri for uri in names.get_values_for_type(x509.UniformResourceIdentifier)
        if uri.startswith(PARTICIPANT_URN)]
    if named != [PARTICIPANT_URN + bic]:
        raise ParticipantCertificateInvalid(f"the certificate does not name participant {bic}")
    key = leaf.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ParticipantCertificateInvalid("a participant's clearing key is Ed25519")
    return key


def _issued_by(leaf: x509.Certificate, ca: x509.Certificate, now: datetime) -> bool:
    """``ca`` is a CA valid ``now``, named as ``leaf``'s issuer, and signed it.
    (``cryptography.x509.verification`` would walk the path, but its profile refuses
    Ed25519 keys, which every PayWarden certificate has.)"""
    if not (_extension(ca, x509.BasicConstraints, ca=True)
            and ca.not_valid_before_utc <= now <= ca.not_valid_after_utc):
        return False
    try:
        leaf.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _value(certificate: x509.Certificate, kind: type[T]) -> T | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _extension(certificate: x509.Certificate, kind: type[T], **expected: bool) -> bool:
    """Whether ``certificate`` has the extension ``kind`` with each ``expected`` field."""
    value = _value(certificate, kind)
    return value is not None and all(getattr(value, field) == wanted
                                      for field, wanted in expected.items())

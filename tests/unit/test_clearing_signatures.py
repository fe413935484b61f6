"""Clearing messages are signed by their sender's key over their exact bytes, and that key
is trusted only through a participant certificate from a trusted CA naming the sender's
BIC (decision 0053). Every forgery below is refused."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from paywarden.adapters.iso20022 import codec
from paywarden.adapters.iso20022.signatures import CONTEXT, sign, verify
from paywarden.domain.errors import DomainError
from paywarden.services.certification.authority import CaCertificate, _self_signed, issue
from paywarden.services.certification.participants import (
    PARTICIPANT_URN,
    ParticipantCertificateInvalid,
    issue_participant,
    participant_key,
)
from tests.support.clearing_messages import AT_NS, PAYEE, PAYER, pacs008

NS = 1_000_000_000
DAY_NS = 86_400 * NS


def _ca() -> CaCertificate:
    private = Ed25519PrivateKey.generate()
    return CaCertificate("ca-key", _self_signed(private, now_ns=AT_NS - 30 * DAY_NS), private)


# -- signatures ------------------------------------------------------------------------


def test_a_signed_message_verifies_with_its_senders_key() -> None:
    key = Ed25519PrivateKey.generate()
    body = codec.encode(pacs008())
    signature = sign(key, PAYER, body)
    assert len(signature) == 64
    assert verify(key.public_key(), PAYER, body, signature)


def test_an_amount_altered_after_signing_fails_verification() -> None:
    key = Ed25519PrivateKey.generate()
    body = codec.encode(pacs008())
    signature = sign(key, PAYER, body)
    altered = body.replace(b">12.34<", b">92.34<")
    assert altered != body and codec.decode(altered) != codec.decode(body)
    assert not verify(key.public_key(), PAYER, altered, signature)


def test_a_signature_under_another_senders_name_fails_verification() -> None:
    key = Ed25519PrivateKey.generate()
    body = codec.encode(pacs008())
    assert not verify(key.public_key(), PAYEE, body, sign(key, PAYER, body))


def test_another_key_or_a_malformed_signature_fails_verification() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    body = codec.encode(pacs008())
    signature = sign(key, PAYER, body)
    assert not verify(other.public_key(), PAYER, body, signature)
    for bad in (b"", signature[:63], signature + b"\0", bytes(64)):
        assert not verify(key.public_key(), PAYER, body, bad)


def test_a_signature_over_the_bare_body_is_not_a_clearing_signature() -> None:
    key = Ed25519PrivateKey.generate()
    body = codec.encode(pacs008())
    assert not verify(key.public_key(), PAYER, body, key.sign(body))
    assert verify(key.public_key(), PAYER, body,
                  key.sign(CONTEXT + PAYER.encode() + b"\0" + body))


def test_a_sender_that_is_not_a_bic_neither_signs_nor_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(DomainError) as caught:
        sign(key, "PAYR\0DEFF", b"x")
    assert caught.value.code == "bic_invalid"
    assert not verify(key.public_key(), "PAYR\0DEFF", b"x", bytes(64))


# -- participant certificates ----------------------------------------------------------


def test_a_participant_certificate_from_the_trusted_ca_gives_the_participants_key() -> None:
    ca, key = _ca(), Ed25519PrivateKey.generate()
    issued = issue_participant(ca, bic=PAYER, name="Payer Bank", public_key=key.public_key(),
                               now_ns=AT_NS)
    found = participant_key(issued.pem, [ca.pem], PAYER, now_ns=AT_NS + NS)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert found.public_bytes(*raw) == key.public_key().public_bytes(*raw)
    certificate = x509.load_pem_x509_certificate(issued.pem.encode())
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [PARTICIPANT_URN + PAYER]
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_certificate_from_another_ca_is_refused() -> None:
    ours, theirs = _ca(), _ca()
    issued = issue_participant(theirs, bic=PAYER, name="Payer Bank",
                               public_key=Ed25519PrivateKey.generate().public_key(),
                               now_ns=AT_NS)
    with pytest.raises(ParticipantCertificateInvalid, match="not issued by a trusted CA"):
        participant_key(issued.pem, [ours.pem], PAYER, now_ns=AT_NS + NS)
    assert participant_key(issued.pem, [ours.pem, theirs.pem], PAYER, now_ns=AT_NS + NS)


def test_a_certificate_for_another_bic_is_refused() -> None:
    ca = _ca()
    issued = issue_participant(ca, bic=PAYEE, name="Payee Bank",
                               public_key=Ed25519PrivateKey.generate().public_key(),
                               now_ns=AT_NS)
    with pytest.raises(ParticipantCertificateInvalid, match=f"does not name participant {PAYER}"):
        participant_key(issued.pem, [ca.pem], PAYER, now_ns=AT_NS + NS)


def test_a_certificate_outside_its_validity_is_refused() -> None:
    ca = _ca()
    issued = issue_participant(ca, bic=PAYER, name="Payer Bank",
                               public_key=Ed25519PrivateKey.generate().public_key(),
                               now_ns=AT_NS, validity_days=1)
    with pytest.raises(ParticipantCertificateInvalid, match="not valid now"):
        participant_key(issued.pem, [ca.pem], PAYER, now_ns=AT_NS + 2 * DAY_NS)
    with pytest.raises(ParticipantCertificateInvalid, match="not valid now"):
        participant_key(issued.pem, [ca.pem], PAYER, now_ns=AT_NS - DAY_NS)


def test_a_merchant_certificate_of_the_same_ca_is_not_a_participants() -> None:
    ca = _ca()
    merchant = issue(ca, merchant_id="m_1", legal_name="Shop", domains=["shop.example"],
                     public_key=Ed25519PrivateKey.generate().public_key().public_bytes(
                         serialization.Encoding.Raw, serialization.PublicFormat.Raw),
                     now_ns=AT_NS, validity_days=30, public_url="https://pw.example")
    with pytest.raises(ParticipantCertificateInvalid, match="does not name participant"):
        participant_key(merchant.pem, [ca.pem], PAYER, now_ns=AT_NS + NS)


def test_a_certificate_signed_by_a_non_ca_is_refused() -> None:
    ca = _ca()
    bank_key = Ed25519PrivateKey.generate()
    bank = issue_participant(ca, bic=PAYER, name="Payer Bank", public_key=bank_key.public_key(),
                             now_ns=AT_NS)
    as_ca = CaCertificate("bank", x509.load_pem_x509_certificate(bank.pem.encode()), bank_key)
    forged = issue_participant(as_ca, bic=PAYEE, name="Payee Bank",
                               public_key=Ed25519PrivateKey.generate().public_key(),
                               now_ns=AT_NS)
    with pytest.raises(ParticipantCertificateInvalid, match="not issued by a trusted CA"):
        participant_key(forged.pem, [ca.pem, bank.pem], PAYEE, now_ns=AT_NS + NS)


def test_garbage_instead_of_a_certificate_is_refused() -> None:
    ca = _ca()
    for pem in ("", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "x" * 20_000):
        with pytest.raises(ParticipantCertificateInvalid):
            participant_key(pem, [ca.pem], PAYER, now_ns=AT_NS)

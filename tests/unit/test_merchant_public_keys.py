"""Merchant public keys: only Ed25519 public keys, kept as their raw 32 bytes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from paywarden.domain.errors import DomainError
from paywarden.services.merchants import public_key_from_pem


def _public_pem(key: object) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,  # type: ignore[attr-defined]
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def test_an_ed25519_public_key_is_kept_as_its_raw_32_bytes() -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    assert public_key_from_pem(_public_pem(key)) == key.public_bytes_raw()
    assert public_key_from_pem(_public_pem(key).decode()) == key.public_bytes_raw()


@pytest.mark.parametrize("make", [
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
    lambda: ec.generate_private_key(ec.SECP256R1()).public_key(),
    lambda: ed448.Ed448PrivateKey.generate().public_key(),
])
def test_other_key_types_are_refused_by_name(make: object) -> None:
    with pytest.raises(DomainError) as refused:
        public_key_from_pem(_public_pem(make()))  # type: ignore[operator]
    assert refused.value.code == "public_key_invalid" and "only Ed25519" in refused.value.detail


def test_a_private_key_is_refused_without_being_echoed() -> None:
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    with pytest.raises(DomainError) as refused:
        public_key_from_pem(pem)
    assert "private key" in refused.value.detail
    assert pem.decode().splitlines()[1] not in refused.value.detail


@pytest.mark.parametrize("pem", [b"", b"hello", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                                 b"x" * 5000])
def test_garbage_is_refused(pem: bytes) -> None:
    with pytest.raises(DomainError) as refused:
        public_key_from_pem(pem)
    assert refused.value.code == "public_key_invalid"

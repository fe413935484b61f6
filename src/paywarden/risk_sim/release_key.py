"""The model release key: an Ed25519 key in a PEM file, kept by whoever releases models.

The model is signed when it is built, not by the running platform, so it is a release
key like a package signer's, not a keyring purpose (decision 0033). Its kid is the
RFC 7638-style SHA-256 thumbprint of the public key, so a verifier names the key it trusts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def kid(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "model-" + hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class ReleaseSigner:
    key_id: str
    private: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def signer(private: Ed25519PrivateKey) -> ReleaseSigner:
    return ReleaseSigner(kid(private.public_key()), private)


def load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("not an Ed25519 private key")
    return key


def create_private(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    path.with_name(path.name + ".pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError("not an Ed25519 public key")
    return key


def trusting(*keys: Ed25519PublicKey) -> dict[str, Ed25519PublicKey]:
    """{kid: key} to pass as ``public_key_for=trusted.get``."""
    return {kid(k): k for k in keys}

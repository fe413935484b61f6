"""A signing key of one purpose and version, as handed to the code that signs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True)
class Signer:
    """Ed25519 signatures under ``key_id``; refuses once the version is no longer active."""

    purpose: str
    version: int
    key_id: str
    public_key: Ed25519PublicKey = field(repr=False)
    _private: Ed25519PrivateKey = field(repr=False)
    _check_active: Callable[[], None] = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        self._check_active()
        return self._private.sign(data)

"""Errors of the cryptographic building blocks. Messages never hold a key or plaintext.

    PayWardenError
    └── CryptoError
        ├── SealedFormatError    bytes that are not a sealed value of a known format
        ├── OpenError            a sealed value that does not open here (wrong row or
        │                        column, wrong key, tampered bytes)
        └── UnwrapError          a key blob the master key refuses (wrong master key,
                                 wrong context, tampered bytes)
"""

from __future__ import annotations

from ...domain.errors import PayWardenError


class CryptoError(PayWardenError):
    """Base of the errors raised by ``paywarden.adapters.crypto``."""


class SealedFormatError(CryptoError):
    """The bytes are not a sealed value this code can read."""


class OpenError(CryptoError):
    """Authentication failed: the value was moved, tampered with, or the key is wrong."""

    def __init__(self, message: str, *, table: str, column: str) -> None:
        super().__init__(message)
        self.table = table
        self.column = column


class UnwrapError(CryptoError):
    """The master key refused a wrapped key."""

"""Errors of the keyring. Messages name kids, purposes and versions, never secrets.

    DomainError
    └── KeyringError
        ├── UnknownPurpose       not one of purposes.PURPOSES
        ├── KeyNotUsable         retired or destroyed for this use (encrypt, sign, open)
        ├── KeyInUse             a retired data version still wraps records: not destroyed
        └── RotationRefused      blind_index does not rotate; a concurrent rotation won
"""

from __future__ import annotations

from ...domain.errors import DomainError


class KeyringError(DomainError):
    pass


class UnknownPurpose(KeyringError):
    def __init__(self, purpose: str) -> None:
        super().__init__("key_purpose_unknown", f"no key purpose {purpose!r}")
        self.purpose = purpose


class KeyNotUsable(KeyringError):
    def __init__(self, kid: str, state: str, use: str) -> None:
        super().__init__("key_not_usable", f"key {kid} is {state}: it cannot {use}")
        self.kid = kid
        self.state = state
        self.use = use


class KeyInUse(KeyringError):
    def __init__(self, kid: str, table: str, column: str) -> None:
        super().__init__("key_in_use", f"key {kid} still wraps records of {table}.{column}; "
                                       "run `paywarden keys rewrap` first")
        self.kid = kid


class RotationRefused(KeyringError):
    def __init__(self, purpose: str, reason: str) -> None:
        super().__init__("key_rotation_refused", f"{purpose}: {reason}")
        self.purpose = purpose

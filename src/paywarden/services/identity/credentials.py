"""What the password, TOTP and recovery-code flows share: one object, built at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ...adapters import local_secrets
from ...adapters.clock import Clock
from ...adapters.store import Database
from ..sealed import FieldKeys
from .guessing import AddressThrottle
from .passwords import Passwords
from .sessions import Sessions

ENROLMENT_S = 30 * 60  # a customer's sign-up token
FIRST_FACTOR_S = 5 * 60  # between the password step and the second factor
FRESH_S = 5 * 60  # a passkey sign-in this recent counts as a fresh second factor

# auth_methods that mark a session which is not (yet) a full sign-in.
ENROLMENT = "enrolment"
FIRST_FACTOR = "first_factor"


@dataclass
class Credentials:
    database: Database
    clock: Clock
    sessions: Sessions
    keys: FieldKeys  # seals personal data and TOTP secrets
    passwords: Passwords
    addresses: AddressThrottle
    failures_max: int
    lock_s: int
    issuer: str  # what authenticator apps show next to the code
    keys_dir: Path

    @cached_property
    def recovery_key(self) -> bytes:
        """Keys the digests of recovery codes; kept outside the database."""
        return local_secrets.load_or_create(self.keys_dir / "recovery.key")

    @cached_property
    def origin_key(self) -> bytes:
        """The same key as Platform.origin_key (the same file)."""
        return local_secrets.load_or_create(self.keys_dir / "origins.key")

"""Password hashing with Argon2id, under a cap on how many hashes run at once.

Hashing is deliberately expensive (by default 3 passes over 64 MiB), so it is
both what makes a stolen hash hard to crack and what a flood of sign-in
attempts would use to exhaust the server. At most
``password_hashing_concurrency_max`` hashes run at once; a caller that cannot
get a slot within ``wait_s`` is refused with :class:`HashingBusy` (503 and
``Retry-After``) instead of queueing without bound.

An unknown user's attempt is verified against a dummy hash made with the same
parameters, so it costs the same time as a wrong password.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Container
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ...domain.errors import PayWardenError
from ...domain.identity.passwords import Personal, check_password, normalise_password

HASH_BYTES = 32
SALT_BYTES = 16


class HashingBusy(PayWardenError):
    """Every hashing slot stayed taken for longer than the wait allows."""

    code = "busy"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many sign-ins are being checked at once; retry shortly")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Verified:
    ok: bool
    needs_rehash: bool = False


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int,
                 concurrency_max: int, wait_s: float, common: Container[str]) -> None:
        # Every parameter explicit: a library default must not decide how strong this is.
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
            hash_len=HASH_BYTES, salt_len=SALT_BYTES, encoding="utf-8", type=argon2.Type.ID)
        self._slots = threading.BoundedSemaphore(concurrency_max)
        self._wait_s = wait_s
        self._common = common
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def acceptable(self, password: str, *, personal: Personal) -> str:
        """The normalised password if the policy accepts it; raises PasswordRefused."""
        normalised = normalise_password(password)
        check_password(normalised, personal=personal, common=self._common)
        return normalised

    def hash(self, password: str) -> str:
        """Hash an accepted password. Blocking: call it off the event loop."""
        normalised = normalise_password(password)
        with self._slot():
            return self._hasher.hash(normalised)

    def verify(self, stored: str | None, password: str) -> Verified:
        """Check ``password`` against ``stored``; with None, do the same work and fail."""
        typed = normalise_password(password)
        target = stored if stored is not None else self._dummy_hash()
        with self._slot():
            try:
                self._hasher.verify(target, typed)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return Verified(False)
        if stored is None:
            return Verified(False)
        return Verified(True, self._hasher.check_needs_rehash(stored))

    def _dummy_hash(self) -> str:
        with self._dummy_lock:
            if self._dummy is None:
                with self._slot():
                    self._dummy = self._hasher.hash(secrets.token_urlsafe(32))
            return self._dummy

    def _slot(self) -> _Slot:
        return _Slot(self._slots, self._wait_s)


class _Slot:
    def __init__(self, slots: threading.BoundedSemaphore, wait_s: float) -> None:
        self._slots = slots
        self._wait_s = wait_s

    def __enter__(self) -> None:
        if not self._slots.acquire(timeout=self._wait_s):
            raise HashingBusy(retry_after_s=max(1, round(self._wait_s)))

    def __exit__(self, *_exc: object) -> None:
        self._slots.release()

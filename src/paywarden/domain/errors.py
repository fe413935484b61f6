"""Errors raised by domain code.

    PayWardenError
    ├── InvariantViolation   a broken internal invariant: crash, never catch broadly
    └── DomainError          a request the rules refuse (carries a stable ``code``)
"""

from __future__ import annotations


class PayWardenError(Exception):
    """Base of every error PayWarden raises on purpose."""


class InvariantViolation(PayWardenError):
    """State that must be impossible was observed. The process must not go on."""


class DomainError(PayWardenError):
    """A request refused by the rules. ``code`` is stable and machine-readable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

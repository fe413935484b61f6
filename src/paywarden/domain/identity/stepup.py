"""Step-up: what you see is what you sign.

A sensitive operation is written as one canonical JSON text — keys sorted, no
whitespace, strings as UTF-8, integers only (RFC 8785 for these simple
types) — and the WebAuthn challenge is derived from it::

    challenge = SHA-256(b"paywarden-step-up-v1\\x00" + canonical bytes)

so the customer's authenticator signs over the exact amount, currency, payee,
reference and nonce. Anything that changes one byte of the operation changes
the challenge, and the signature no longer matches it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import DomainError

DOMAIN_TAG = b"paywarden-step-up-v1\x00"
FIELDS = ("amount", "currency", "nonce", "payee", "reference", "type", "user")
# Operations whose kind, not amount, makes them sensitive.
ALWAYS_SENSITIVE = frozenset({"new_payee", "factor_change"})
AMOUNT_MAX = 2**53 - 1  # the largest integer every JSON reader keeps exactly
TYPE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
USER_PATTERN = re.compile(r"[A-Za-z0-9_]{1,32}")
PAYEE_CHARS_MAX = 128
REFERENCE_CHARS_MAX = 140
OPERATION_BYTES_MAX = 2048


@dataclass(frozen=True)
class Operation:
    """A sensitive operation as the customer approves it. ``amount`` is in minor units."""

    type: str
    amount: int
    currency: str
    payee: str
    reference: str
    nonce: str
    user: str

    def __post_init__(self) -> None:
        _check(self)


def _invalid(detail: str) -> DomainError:
    return DomainError("operation_invalid", detail)


def _text_ok(value: str, chars_max: int, *, empty: bool) -> bool:
    return ((empty or bool(value)) and len(value) <= chars_max and value.isprintable()
            and value == value.strip())


def _check(op: Operation) -> None:
    for name in FIELDS:
        value = getattr(op, name)
        if name == "amount":
            if type(value) is not int or not 0 <= value <= AMOUNT_MAX:
                raise _invalid(f"amount {value!r} is not a non-negative integer of minor units")
        elif not isinstance(value, str):
            raise _invalid(f"{name} {value!r} is not a string")
    rules = (("type", TYPE_PATTERN), ("currency", CURRENCY_PATTERN), ("nonce", NONCE_PATTERN),
             ("user", USER_PATTERN))
    for name, pattern in rules:
        if pattern.fullmatch(getattr(op, name)) is None:
            raise _invalid(f"{name} {getattr(op, name)!r} does not match {pattern.pattern}")
    if not _text_ok(op.payee, PAYEE_CHARS_MAX, empty=False):
        raise _invalid(f"payee must be 1 to {PAYEE_CHARS_MAX} printable characters")
    if not _text_ok(op.reference, REFERENCE_CHARS_MAX, empty=True):
        raise _invalid(f"reference must be at most {REFERENCE_CHARS_MAX} printable characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in op.payee + op.reference):
        raise _invalid("payee and reference must be valid Unicode text")


def canonical(op: Operation) -> bytes:
    """The canonical bytes of ``op``: sorted keys, no whitespace, UTF-8."""
    text = json.dumps(asdict(op), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return text.encode("utf-8")


def derive_challenge(canonical_bytes: bytes) -> bytes:
    """The WebAuthn challenge for an operation's canonical bytes."""
    return hashlib.sha256(DOMAIN_TAG + canonical_bytes).digest()


def challenge_for(op: Operation) -> bytes:
    return derive_challenge(canonical(op))


def parse_operation(data: bytes | str) -> Operation:
    """The operation a stored canonical text names; refused unless it is canonical."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > OPERATION_BYTES_MAX:
        raise _invalid(f"an operation is at most {OPERATION_BYTES_MAX} bytes")
    try:
        value: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid("the operation is not JSON text") from exc
    if not isinstance(value, dict) or tuple(sorted(value)) != FIELDS:
        raise _invalid(f"an operation has exactly the fields {', '.join(FIELDS)}")
    op = Operation(**value)
    if canonical(op) != raw:
        raise _invalid("the operation text is not in canonical form")
    return op


def needs_step_up(op: Operation, threshold: int) -> bool:
    """Must ``op`` be confirmed by a fresh passkey assertion?

    ``threshold`` is ``step_up_amount_min``: amounts of at least that many minor
    units need it (0 means every amount does); new payees and changes of
    factors always do.
    """
    if op.type in ALWAYS_SENSITIVE:
        return True
    return op.amount >= threshold

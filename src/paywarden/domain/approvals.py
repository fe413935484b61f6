"""Four-eyes approvals (maker-checker): one member of staff submits the exact command,
a different one, whose role may approve that kind, approves it (decision 0041).

A command is a kind and its parameters, written once as canonical JSON (keys sorted,
no whitespace, UTF-8, integers only) and hashed::

    command_hash = SHA-256(b"paywarden-approval-v1\\x00" + canonical bytes)

The approver's passkey signs a step-up operation that names the approval and this
hash, so what is executed is byte for byte what was approved: a row edited after the
approval no longer matches its hash and is refused, and evidence made for one request
does not approve another.

Separation of duties (NIST SP 800-53 AC-5) is written down twice here: who may approve
each kind (:data:`APPROVERS`), and which roles no one may hold together
(:data:`CONFLICTS`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import DomainError

DOMAIN_TAG = b"paywarden-approval-v1\x00"
COMMAND_BYTES_MAX = 16_384
REASON_CHARS_MAX = 500
ID_PATTERN = re.compile(r"apr_[0-9a-f]{24}")
NO_CURRENCY = "XXX"  # ISO 4217's "no currency", for commands that move no money


class State(StrEnum):
    PENDING = "pending"  # submitted, waiting for a second person
    APPROVED = "approved"  # approved; its effect is being executed (resumed after a crash)
    HELD = "held"  # approved, and held by risk screening until an analyst answers the case
    EXECUTED = "executed"  # the effect is done; ``result`` says what it was
    FAILED = "failed"  # approved, but the effect was refused (``reason`` says why)
    REJECTED = "rejected"  # refused by another member, with a reason
    WITHDRAWN = "withdrawn"  # taken back by the member who submitted it
    EXPIRED = "expired"  # nobody decided it in time


FINAL = frozenset({State.EXECUTED, State.FAILED, State.REJECTED, State.WITHDRAWN,
                   State.EXPIRED})


class Kind(StrEnum):
    """Every command that one person must not be able to carry out alone."""

    LEDGER_TRANSFERS = "ledger_transfers"  # a person's manual ledger transfers
    REFUND = "refund"  # a refund made by staff (any amount: decision 0041)
    DISPUTE_DECISION = "dispute_decision"  # a decision moving a disputed payment's money
    REGISTRY_ENTRY = "registry_entry"  # add, change or remove a credit-registry entry
    RISK_RULE_CHANGE = "risk_rule_change"  # a rule's state (shadow, active, disabled)
    BREAKER_RESET = "breaker_reset"  # close an open circuit breaker by hand
    ROLE_GRANT = "role_grant"  # give a member of staff a role
    KEY_DESTRUCTION = "key_destruction"  # destroy a retired key version
    MERCHANT_REINSTATEMENT = "merchant_reinstatement"  # a suspended merchant sells again
    LIMIT_OVERRIDE = "limit_override"  # a customer's limit above the bank's maximum
    SERVICE_CREDENTIAL = "service_credential"  # issue or widen a machine principal's token
    MERCHANT_KEY = "merchant_key"  # staff add a key a merchant's requests are signed with
    ACCOUNT_UNFREEZE = "account_unfreeze"  # a frozen bank account sends money again
    MERCHANT_REFUND = "merchant_refund"  # a merchant user's refund at or over its threshold
    CLEARING_RETURN = "clearing_return"  # send back a transfer another bank paid us (0060)
    CLEARING_FUNDING = "clearing_funding"  # a hub issues reserves to a participant (0060)


# Kinds a merchant's own people submit and decide, each for their own merchant only
# (decision 0051); staff take no part in them, and merchant users in no other kind.
MERCHANT_KINDS = frozenset({Kind.MERCHANT_REFUND})


# Who may approve each kind: the role that answers for the thing the command changes.
# The submitter is never the approver, whatever roles they hold (four_eyes_required).
APPROVERS: dict[Kind, frozenset[str]] = {
    Kind.LEDGER_TRANSFERS: frozenset({"operator", "risk"}),
    Kind.REFUND: frozenset({"risk"}),
    Kind.DISPUTE_DECISION: frozenset({"risk"}),
    Kind.REGISTRY_ENTRY: frozenset({"risk"}),
    Kind.RISK_RULE_CHANGE: frozenset({"risk"}),
    Kind.BREAKER_RESET: frozenset({"risk"}),
    Kind.ROLE_GRANT: frozenset({"security_admin"}),
    Kind.KEY_DESTRUCTION: frozenset({"security_admin"}),
    Kind.MERCHANT_REINSTATEMENT: frozenset({"merchant_admin"}),
    Kind.LIMIT_OVERRIDE: frozenset({"risk"}),
    Kind.SERVICE_CREDENTIAL: frozenset({"security_admin"}),
    Kind.MERCHANT_KEY: frozenset({"merchant_admin"}),
    Kind.ACCOUNT_UNFREEZE: frozenset({"risk"}),
    Kind.MERCHANT_REFUND: frozenset({"merchant_owner"}),
    Kind.CLEARING_RETURN: frozenset({"risk"}),
    Kind.CLEARING_FUNDING: frozenset({"operator", "risk"}),
}

# Who may submit each kind: the role whose work the command is.
SUBMITTERS: dict[Kind, frozenset[str]] = {
    Kind.LEDGER_TRANSFERS: frozenset({"operator"}),
    Kind.REFUND: frozenset({"risk", "support"}),
    Kind.DISPUTE_DECISION: frozenset({"risk"}),
    Kind.REGISTRY_ENTRY: frozenset({"risk", "support"}),
    Kind.RISK_RULE_CHANGE: frozenset({"risk"}),
    Kind.BREAKER_RESET: frozenset({"risk", "operator"}),
    Kind.ROLE_GRANT: frozenset({"security_admin"}),
    Kind.KEY_DESTRUCTION: frozenset({"security_admin"}),
    Kind.MERCHANT_REINSTATEMENT: frozenset({"merchant_admin"}),
    Kind.LIMIT_OVERRIDE: frozenset({"support", "risk"}),
    Kind.SERVICE_CREDENTIAL: frozenset({"security_admin"}),
    Kind.MERCHANT_KEY: frozenset({"merchant_admin"}),
    Kind.ACCOUNT_UNFREEZE: frozenset({"support", "risk"}),
    Kind.MERCHANT_REFUND: frozenset({"merchant_owner", "merchant_support"}),
    Kind.CLEARING_RETURN: frozenset({"support", "risk"}),
    Kind.CLEARING_FUNDING: frozenset({"operator"}),
}

# Roles no one holds together (AC-5). Whoever administers security (staff, tokens,
# keys) approves no money and moves none; whoever moves ledger money by hand does not
# also screen it; a supervisor only reads; a machine principal is never a person.
CONFLICTS: frozenset[frozenset[str]] = frozenset({
    frozenset({"security_admin", "operator"}),
    frozenset({"security_admin", "risk"}),
    frozenset({"security_admin", "merchant_admin"}),
    frozenset({"operator", "risk"}),
    *(frozenset({"supervisor", role}) for role in
      ("operator", "support", "risk", "merchant_admin", "security_admin")),
})


def conflicts(roles: Iterable[str]) -> list[tuple[str, str]]:
    """The pairs of ``roles`` that the conflict table forbids holding together."""
    held = sorted(set(roles))
    return [(a, b) for i, a in enumerate(held) for b in held[i + 1:]
            if frozenset({a, b}) in CONFLICTS]


def check_roles(roles: Iterable[str]) -> None:
    found = conflicts(roles)
    if found:
        pairs = "; ".join(f"{a} with {b}" for a, b in found)
        raise DomainError("role_conflict", f"no one may hold {pairs} (separation of duties)")


def canonical(kind: str, params: Mapping[str, Any]) -> str:
    """The command's one text: ``{"kind": …, "params": {…}}``, canonical JSON."""
    try:
        text = json.dumps({"kind": kind, "params": params}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DomainError("approval_command_invalid",
                          "a command holds only text, integers, lists and objects") from exc
    if _has_float(params):
        raise DomainError("approval_command_invalid", "a command holds no fractions: "
                          "money is integer minor units")
    if len(text.encode("utf-8")) > COMMAND_BYTES_MAX:
        raise DomainError("approval_command_invalid",
                          f"a command is at most {COMMAND_BYTES_MAX} bytes")
    return text


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, Mapping):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(v) for v in value)
    return False


def command_hash(text: str) -> str:
    """The hex SHA-256 that the approver's passkey signs over (with the approval's id)."""
    return hashlib.sha256(DOMAIN_TAG + text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Step:
    """The step-up operation an approver or rejecter signs: the fields of
    :class:`paywarden.domain.identity.stepup.Operation` other than nonce and user."""

    type: str  # approval_approve | approval_reject
    amount: int
    currency: str
    payee: str  # the approval's id
    reference: str  # the command's hash


def step_for(decision: str, approval_id: str, hash_hex: str, *, amount: int,
             currency: str) -> Step:
    if decision not in ("approve", "reject"):
        raise ValueError(decision)
    return Step(f"approval_{decision}", amount, currency, approval_id, hash_hex)


def check_checker(*, submitted_by: str, approver: str, approver_roles: Iterable[str],
                  kind: Kind) -> None:
    """May ``approver`` decide a ``kind`` command that ``submitted_by`` submitted?"""
    if approver == submitted_by:
        raise DomainError("four_eyes_required", "a command is approved or rejected by another "
                          "person, never by the one who submitted it")
    if not set(approver_roles) & APPROVERS[kind]:
        allowed = ", ".join(sorted(APPROVERS[kind]))
        raise DomainError("approver_role_refused",
                          f"a {kind} command is approved by a member holding {allowed}")


def check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_CHARS_MAX \
            or not reason.isprintable():
        raise DomainError("approval_reason_invalid", f"give a reason of 1 to "
                          f"{REASON_CHARS_MAX} printable characters")
    return reason.strip()

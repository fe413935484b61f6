"""The tables, as SQLAlchemy Core metadata. Changed only together with a migration."""

from .audit import audit_entries, audit_head, audit_nodes, audit_tree_heads
from .base import metadata
from .identity import (
    notifications,
    recovery_codes,
    sessions,
    sign_in_origins,
    step_up_evidence,
    totp_factors,
    users,
    webauthn_challenges,
    webauthn_credentials,
)
from .keys import key_versions
from .ledger import accounts, ledger_state, ledgers, pending_transfers, transfers
from .merchants import merchant_keys, merchants
from .requests import idempotency_keys, request_nonces

__all__ = [
    "accounts",
    "audit_entries",
    "audit_head",
    "audit_nodes",
    "audit_tree_heads",
    "idempotency_keys",
    "key_versions",
    "ledger_state",
    "ledgers",
    "merchant_keys",
    "merchants",
    "metadata",
    "notifications",
    "pending_transfers",
    "recovery_codes",
    "request_nonces",
    "sessions",
    "sign_in_origins",
    "step_up_evidence",
    "totp_factors",
    "transfers",
    "users",
    "webauthn_challenges",
    "webauthn_credentials",
]

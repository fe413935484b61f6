"""The tables, as SQLAlchemy Core metadata. Changed only together with a migration."""

from .approvals import approvals
from .audit import audit_entries, audit_head, audit_nodes, audit_tree_heads
from .banking import bank_accounts, bank_transfers
from .base import metadata
from .cards import cards
from .certification import (
    ca_certificates,
    merchant_applications,
    merchant_certificates,
    merchant_domains,
)
from .cheques import cheque_presentations, cheques
from .clearing import (
    clearing_certificates,
    clearing_messages,
    clearing_notices_in,
    clearing_notices_out,
    clearing_outbox,
    clearing_peers,
    clearing_recalls,
    hub_transfers,
)
from .clearing_bank import bank_clearing_batches, bank_clearing_in, bank_clearing_out
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
from .insider import staff_activity
from .interest import interest_accruals, staff_alerts
from .keys import key_versions
from .ledger import accounts, ledger_state, ledgers, pending_transfers, transfers
from .merchant_users import merchant_invitations, merchant_settings
from .merchants import merchant_keys, merchants
from .net_settlement import net_positions, net_reserved, net_totals, net_windows
from .payees import (
    bank_limits,
    bank_payees,
    standing_order_runs,
    standing_orders,
    transfer_limit_uses,
)
from .payments import checkout_sessions, payment_refunds, payments
from .registry import (
    registry_appeals,
    registry_entries,
    registry_exports,
    registry_identifiers,
    registry_requests,
    registry_sources,
)
from .requests import idempotency_keys, request_nonces
from .risk import (
    risk_backtests,
    risk_decisions,
    risk_events,
    risk_rule_requests,
    risk_rule_sets,
)
from .risk_cases import risk_case_outcomes, risk_labels
from .risk_controls import (
    risk_breaker_counts,
    risk_breaker_resets,
    risk_breakers,
    sanctions_entities,
    sanctions_lists,
    sanctions_reviews,
)
from .sealing import sealing_backlog
from .staff import service_credential_grants
from .webhooks import receipts, webhook_deliveries, webhook_endpoints, webhook_events

__all__ = [
    "accounts",
    "approvals",
    "audit_entries",
    "audit_head",
    "audit_nodes",
    "audit_tree_heads",
    "bank_accounts",
    "bank_clearing_batches",
    "bank_clearing_in",
    "bank_clearing_out",
    "bank_limits",
    "bank_payees",
    "bank_transfers",
    "ca_certificates",
    "cards",
    "checkout_sessions",
    "cheque_presentations",
    "cheques",
    "clearing_certificates",
    "clearing_messages",
    "clearing_notices_in",
    "clearing_notices_out",
    "clearing_outbox",
    "clearing_peers",
    "clearing_recalls",
    "hub_transfers",
    "idempotency_keys",
    "interest_accruals",
    "key_versions",
    "ledger_state",
    "ledgers",
    "merchant_applications",
    "merchant_certificates",
    "merchant_domains",
    "merchant_invitations",
    "merchant_keys",
    "merchant_settings",
    "merchants",
    "metadata",
    "net_positions",
    "net_reserved",
    "net_totals",
    "net_windows",
    "notifications",
    "payment_refunds",
    "payments",
    "pending_transfers",
    "receipts",
    "recovery_codes",
    "registry_appeals",
    "registry_entries",
    "registry_exports",
    "registry_identifiers",
    "registry_requests",
    "registry_sources",
    "request_nonces",
    "risk_backtests",
    "risk_breaker_counts",
    "risk_breaker_resets",
    "risk_breakers",
    "risk_case_outcomes",
    "risk_decisions",
    "risk_events",
    "risk_labels",
    "risk_rule_requests",
    "risk_rule_sets",
    "sanctions_entities",
    "sanctions_lists",
    "sanctions_reviews",
    "sealing_backlog",
    "service_credential_grants",
    "sessions",
    "sign_in_origins",
    "staff_activity",
    "staff_alerts",
    "standing_order_runs",
    "standing_orders",
    "step_up_evidence",
    "totp_factors",
    "transfer_limit_uses",
    "transfers",
    "users",
    "webauthn_challenges",
    "webauthn_credentials",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_events",
]

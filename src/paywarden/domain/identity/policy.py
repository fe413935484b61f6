"""The access policy: one place decides every access, and denies by default.

A role grants each resource one access level; the levels are ordered, so a
grant of ``modify`` also allows ``write`` and ``read``:

    read          see it
    write         create new ones
    modify        change or cancel existing ones
    full_control  delete, and manage who else may touch it

Customers and merchants are held to their own objects: an object owned by
someone else is refused as ``not_found``, so its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .principal import Kind, Principal


class Access(IntEnum):
    READ = 1
    WRITE = 2
    MODIFY = 3
    FULL_CONTROL = 4


class Resource(StrEnum):
    LEDGER = "ledger"  # ledgers, ledger accounts and transfers, at the raw level
    PAYMENTS = "payments"
    BANKING = "banking"  # bank accounts, transfers, payees, cheques, statements
    CUSTOMERS = "customers"  # profiles, factors (never their secrets)
    SESSIONS = "sessions"
    NOTIFICATIONS = "notifications"
    EVIDENCE = "evidence"  # step-up evidence
    MERCHANTS = "merchants"
    MERCHANT_KEYS = "merchant_keys"
    CERTIFICATION = "certification"  # applications, domains, certificates
    STAFF = "staff"
    TOKENS = "tokens"  # staff and supervisor tokens
    AUDIT = "audit"
    SETTINGS = "settings"
    ALERTS = "alerts"  # staff alerts: read them, acknowledge (modify) them
    RISK = "risk"  # risk decisions (read, re-run: modify), rules; circuit breakers
    REGISTRY = "registry"  # credit registry entries and requests: ask (write), approve (modify)
    REGISTRY_SUBJECTS = "registry_subjects"  # a subject's entries without evidence; appeals
    APPROVALS = "approvals"  # four-eyes requests: read the inbox; submit and decide (write)
    RAIL = "rail"  # credits arriving from the payment rail (write): machines only (0044)
    MERCHANT_USERS = "merchant_users"  # a merchant's people, invitations, settings (0051)


R, W, M, F = Access.READ, Access.WRITE, Access.MODIFY, Access.FULL_CONTROL

# Role → resource → the highest access granted. Anything absent is denied.
ROLES: dict[str, dict[Resource, Access]] = {
    # A customer, over their own objects only.
    "customer": {
        Resource.PAYMENTS: W, Resource.CUSTOMERS: M, Resource.SESSIONS: F,
        Resource.NOTIFICATIONS: M, Resource.EVIDENCE: R, Resource.BANKING: W,
    },
    # A merchant's backend or user, over the merchant's own objects only.
    "merchant": {
        Resource.PAYMENTS: M, Resource.MERCHANTS: R, Resource.MERCHANT_KEYS: F,
        Resource.CERTIFICATION: W,
    },
    # A merchant's people (decision 0051), over the merchant's own objects only. The owner
    # does everything; a developer keeps the integration (keys, webhooks) and reads
    # payments; support reads payments, ships, answers disputes and submits refunds.
    "merchant_owner": {
        Resource.PAYMENTS: M, Resource.MERCHANTS: R, Resource.MERCHANT_KEYS: F,
        Resource.CERTIFICATION: W, Resource.MERCHANT_USERS: F, Resource.APPROVALS: W,
    },
    "merchant_developer": {
        Resource.PAYMENTS: R, Resource.MERCHANTS: R, Resource.MERCHANT_KEYS: F,
    },
    "merchant_support": {
        Resource.PAYMENTS: W, Resource.MERCHANTS: R, Resource.APPROVALS: W,
    },
    # Staff: least privilege, one job each.
    "operator": {Resource.LEDGER: M, Resource.PAYMENTS: R, Resource.BANKING: R,
                 Resource.ALERTS: M, Resource.APPROVALS: W},
    "support": {
        Resource.CUSTOMERS: M, Resource.SESSIONS: M, Resource.PAYMENTS: R,
        Resource.MERCHANTS: R, Resource.BANKING: M, Resource.ALERTS: R,
        Resource.REGISTRY_SUBJECTS: W, Resource.APPROVALS: W,
    },
    "risk": {Resource.PAYMENTS: M, Resource.CUSTOMERS: R, Resource.MERCHANTS: R,
             Resource.LEDGER: R, Resource.EVIDENCE: R, Resource.BANKING: M,
             Resource.ALERTS: M, Resource.RISK: M, Resource.REGISTRY: M,
             Resource.REGISTRY_SUBJECTS: R, Resource.APPROVALS: W},
    "merchant_admin": {Resource.MERCHANTS: F, Resource.MERCHANT_KEYS: F,
                       Resource.CERTIFICATION: F, Resource.APPROVALS: W},
    "security_admin": {Resource.STAFF: F, Resource.TOKENS: F, Resource.SESSIONS: F,
                       Resource.SETTINGS: F, Resource.APPROVALS: W},
    # A machine principal (a system integrating with the ledger API, the benchmarks):
    # posts transfers directly, within its token's limits, and books the rail's incoming
    # credits (a person doing that alone would mint money). Never held by a person.
    "service": {Resource.LEDGER: M, Resource.RAIL: W},
    # Supervisors and auditors: everything, read-only.
    "supervisor": {resource: R for resource in Resource},
}  # fmt: skip

MERCHANT_USER_ROLES = frozenset({"merchant_owner", "merchant_developer", "merchant_support"})
STAFF_ROLES = frozenset(ROLES) - {"customer", "merchant", "service"} - MERCHANT_USER_ROLES
# The roles each kind of principal may hold at all; a principal holding any
# other is refused everything (a forged or corrupted session, not a grant).
KIND_ROLES = {Kind.CUSTOMER: frozenset({"customer"}), Kind.MERCHANT: frozenset({"merchant"}) | MERCHANT_USER_ROLES,
              Kind.STAFF: STAFF_ROLES, Kind.SERVICE: frozenset({"service"})}
OWNED_KINDS = (Kind.CUSTOMER, Kind.MERCHANT)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    status: int = 200  # on refusal: 403, or 404 when the object is someone else's

    def __bool__(self) -> bool:
        return self.allowed


def decide(principal: Principal, resource: Resource, access: Access, *,
           owner: str | None = None) -> Decision:
    """May ``principal`` have ``access`` to ``resource`` (owned by ``owner``, if one)?"""
    if not principal.roles <= KIND_ROLES[principal.kind]:
        return Decision(False, f"a {principal.kind} principal holding a role it cannot have",
                        403)
    granted = max((ROLES.get(role, {}).get(resource, 0) for role in principal.roles), default=0)
    if granted < access:
        roles = ",".join(sorted(principal.roles)) or "none"
        return Decision(False, f"roles {roles} grant no {access.name.lower()} on {resource}",
                        403)
    if principal.kind in OWNED_KINDS:
        if principal.owner is None:
            return Decision(False, f"a {principal.kind} principal without an owner", 403)
        if owner is not None and owner != principal.owner:
            return Decision(False, f"{resource} object belongs to someone else", 404)
    return Decision(True, f"{access.name.lower()} on {resource} granted")

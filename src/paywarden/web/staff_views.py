"""What the second set of back-office pages shows, in words (decision 0048).

The pages name roles, conflicts, alert kinds and key purposes as a new member of staff
would say them, not as the code does: ``insider.view_burst`` is "Unusual number of
customer lookups". The words sit here, next to the tables they follow
(domain/approvals.py's ``CONFLICTS``, the alert kinds services raise, the key purposes),
so a unit test can hold them to those tables: a new conflict or alert kind without words
fails it instead of showing a code to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.approvals import CONFLICTS
from ..services.alerts import Alert
from ..services.keys import Keys
from ..services.keys.purposes import ACTIVE, ROTATABLE
from ..services.keys.rotation import is_due
from ..services.keys.store import KeyVersion
from ..services.staff.review import Holder

# Each staff role, as the job it is.
ROLE_WORDS: dict[str, str] = {
    "operator": "moves ledger money by hand (a second person approves)",
    "support": "helps customers: looks them up, masked",
    "risk": "screens payments and approves refunds, disputes and rule changes",
    "merchant_admin": "certifies merchants and their keys",
    "security_admin": "administers staff, tokens and keys",
    "supervisor": "reads everything and changes nothing",
}

# Why a pair of roles is never held together (AC-5); supervisor pairs share one reason.
_PAIR_WHY: dict[frozenset[str], str] = {
    frozenset({"security_admin", "operator"}): "whoever administers security must not also "
    "move money: they could give themselves the means and then use it",
    frozenset({"security_admin", "risk"}): "whoever administers security must not also "
    "approve money",
    frozenset({"security_admin", "merchant_admin"}): "whoever administers security must not "
    "also certify merchants and their keys",
    frozenset({"operator", "risk"}): "whoever moves ledger money by hand must not also "
    "screen and approve it",
}
SUPERVISOR_WHY = "a supervisor only reads: they check the others, so they do none of it"

# Alert kinds in words; an unknown kind is shown as its code, with dots as spaces.
ALERT_WORDS: dict[str, str] = {
    "insider.view_burst": "Unusual number of customer lookups",
    "insider.reveal_burst": "Unusual number of revealed customer fields",
    "insider.export_burst": "Unusual number of exports",
    "insider.out_of_hours": "Work outside working hours",
    "insider.linked_account": "Staff acting on a customer linked to themselves",
    "safeguarding.shortfall": "Safeguarded money short of what customers hold",
    "safeguarding.break": "Safeguarding reconciliation did not balance",
    "risk.breaker_tripped": "A circuit breaker tripped",
    "staff_bootstrap": "The first security admin was made without a second person",
    "integrity.violated": "The platform's files differ from its release, or its keys are "
    "exposed",
}

# Key purposes in words.
PURPOSE_WORDS: dict[str, str] = {
    "data": "encrypts personal data at rest",
    "blind_index": "keys the searchable hashes of personal data",
    "tree_heads": "signs the audit log's tree heads",
    "receipts": "signs receipts",
    "webhooks": "signs webhooks to merchants",
    "backups": "signs backups",
    "documents": "signs statements and documents",
    "cheques": "signs electronic cheques",
    "registry_index": "keys the credit registry's identifier hashes",
    "registry": "signs the credit registry's feed",
    "ca": "the merchant certificate authority",
    "clearing": "signs clearing messages to banks and hubs",
}


@dataclass(frozen=True)
class Conflict:
    first: str
    second: str
    why: str


def conflict_table() -> list[Conflict]:
    """``CONFLICTS`` as sentences, supervisor pairs last."""
    rows = []
    for pair in CONFLICTS:
        first, second = sorted(pair, key=lambda r: (r == "supervisor", r))
        why = SUPERVISOR_WHY if "supervisor" in pair else _PAIR_WHY[pair]
        rows.append(Conflict(first, second, why))
    return sorted(rows, key=lambda c: ("supervisor" in (c.first, c.second), c.first, c.second))


def alert_words(kind: str) -> str:
    return ALERT_WORDS.get(kind) or kind.replace(".", " ").replace("_", " ").capitalize()


def _who(actor: str | None, names: dict[str, str]) -> str:
    """An actor (``usr_…`` or ``usr_…/ses_…``, ``cli:…``) as a person's name where known."""
    if not actor:
        return ""
    return names.get(actor.split("/")[0], actor)


def alert_row(alert: Alert, names: dict[str, str]) -> dict[str, Any]:
    """One alert as the page shows it: the staff member it is about named, if any."""
    about = alert.detail.get("staff")
    return {"a": alert, "words": alert_words(alert.kind),
            "about": _who(about, names) if isinstance(about, str) else "",
            "acknowledger": _who(alert.acknowledged_by, names)}


def alert_people(alerts: list[Alert]) -> set[str]:
    """The ``usr_…`` ids a page of alerts names (to show their names instead)."""
    actors = [a.acknowledged_by or "" for a in alerts] + [
        a.detail["staff"] for a in alerts if isinstance(a.detail.get("staff"), str)]
    return {actor.split("/")[0] for actor in actors if actor.startswith("usr_")}


def person_row(holder: Holder, pending: list[dict[str, Any]], my_id: str) -> dict[str, Any]:
    """A person of the access review, with the roles they could still be given."""
    held = {p.role for p in holder.privileges}
    return {"h": holder, "me": holder.id == my_id, "active": holder.status == "active",
            "grantable": [r for r in ROLE_WORDS if r not in held],
            "pending": [p for p in pending if p["user_id"] == holder.id]}


def key_row(keys: Keys, version: KeyVersion, *, now_ns: int,
            destroying: dict[str, str]) -> dict[str, Any]:
    """A key version, with when its rotation falls due and any destruction waiting."""
    due_ns: int | None = None
    period = keys.cryptoperiod_ns.get(version.purpose)
    if version.state == ACTIVE and version.purpose in ROTATABLE and period is not None:
        due_ns = version.created_at + period
        if version.not_after is not None:
            due_ns = min(due_ns, version.not_after)
    return {"k": version, "words": PURPOSE_WORDS.get(version.purpose, version.purpose),
            "rotatable": version.purpose in ROTATABLE, "due_ns": due_ns,
            "overdue": version.state == ACTIVE and is_due(keys, version, now_ns=now_ns),
            "pending": destroying.get(version.kid, "")}

"""The registry's fixed vocabularies.

    reason categories  what a subject is told (never the evidence)
    actions            what a request asks: create, change or remove an entry, or
                       trust another institution's feed

Every action is a four-eyes command of the approval engine (kind ``registry_entry``,
decisions 0041 and 0042), so one insider alone writes nothing.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ..errors import DomainError

EVIDENCE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")


class Reason(StrEnum):
    CONFIRMED_FRAUD = "confirmed_fraud"
    IDENTITY_THEFT = "identity_theft"
    MONEY_MULE = "money_mule"
    ACCOUNT_TAKEOVER = "account_takeover"
    CHARGEBACK_ABUSE = "chargeback_abuse"
    REFUND_ABUSE = "refund_abuse"
    SYNTHETIC_IDENTITY = "synthetic_identity"
    INSIDER_FRAUD = "insider_fraud"


class Action(StrEnum):
    CREATE = "create"
    CHANGE = "change"
    REMOVE = "remove"
    TRUST_SOURCE = "trust_source"


REASONS = frozenset(Reason)
ACTIONS = frozenset(Action)


def check_evidence_ref(ref: object) -> str:
    """An evidence reference is an id (a case, a document), never free text: it is kept,
    but the subject and other institutions never see it."""
    if not isinstance(ref, str) or not EVIDENCE_REF.match(ref):
        raise DomainError("registry_evidence_invalid", "an evidence reference is an id of "
                          "at most 128 letters, digits and ._:/-")
    return ref

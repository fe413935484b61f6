"""The credit registry of dishonest parties: identifiers, reasons."""

from .identifiers import (
    EMAIL_DOTS_IGNORED,
    EMAIL_PLUS_IGNORED,
    Kind,
    normalise_card_fingerprint,
    normalise_device_id,
    normalise_email,
    normalise_national_id,
)
from .rules import ACTIONS, REASONS, Action, Reason, check_evidence_ref

__all__ = [
    "ACTIONS",
    "EMAIL_DOTS_IGNORED",
    "EMAIL_PLUS_IGNORED",
    "REASONS",
    "Action",
    "Kind",
    "Reason",
    "check_evidence_ref",
    "normalise_card_fingerprint",
    "normalise_device_id",
    "normalise_email",
    "normalise_national_id",
]

"""Step-up over a banking operation: the evidence must name exactly what is about to run.

The customer's authenticator signed an operation (type, amount, currency, payee,
reference, a server nonce); :func:`confirm` compares the approved operation field by
field with the one the bank is about to execute and only then consumes the evidence
(once, fresh, this user's: :meth:`StepUp.require`). Call it inside the transaction that
does the operation, so a refusal later in it leaves the evidence unused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from ...domain.errors import DomainError
from ..identity.stepup import StepUp, approved_operation


@dataclass(frozen=True)
class Expected:
    type: str
    amount: int
    currency: str
    payee: str
    reference: str


def confirm(conn: Connection, step_up: StepUp, user_id: str, evidence_id: str,
            expected: Expected) -> None:
    """Consume ``evidence_id`` for ``expected``; ``step_up_required`` (none, stale, used,
    another's) or ``step_up_mismatch`` (another operation) if not."""
    operation = approved_operation(conn, user_id, evidence_id)
    if (operation.type, operation.amount, operation.currency, operation.payee,
            operation.reference) != (expected.type, expected.amount, expected.currency,
                                     expected.payee, expected.reference):
        raise DomainError("step_up_mismatch",
                          f"the passkey confirmed another operation than this {expected.type}")
    step_up.require(conn, user_id, operation, evidence_id)

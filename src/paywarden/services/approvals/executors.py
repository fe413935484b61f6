"""What an approval executes: one :class:`Executor` per kind of command.

An executor checks a submitted command and writes it canonically (:meth:`check`), then,
once a second person approved it, carries it out in one or both of two steps:

- :meth:`effect`, outside any transaction, for work that commits through a writer of its
  own (the ledger, the payments' write path). It must be idempotent by the approval's
  id: after a crash the engine runs it again, and the second run answers the first's
  result (a transfer id, a ``refund_id``), never a second effect.
- :meth:`commit`, inside the transaction that marks the approval executed, for work on
  plain rows: the change and the approval's new state commit together.

A ``DomainError`` from either ends the approval ``failed`` with its code and detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from ...domain.approvals import NO_CURRENCY, Kind, State
from ...domain.identity import Principal


@dataclass(frozen=True)
class Checked:
    """A command as it will be stored: its parameters in canonical form, what money it
    moves (for the approver's passkey to show), and one line for the inbox."""

    params: dict[str, Any]
    summary: str
    amount: int = 0
    currency: str = NO_CURRENCY
    subject: str | None = None  # the customer it concerns (usr_…), for insider analytics


@dataclass(frozen=True)
class Approval:
    id: str
    kind: Kind
    params: dict[str, Any]
    command: str  # the canonical text the hash is over
    command_hash: str
    amount: int
    currency: str
    summary: str
    submitted_by: str
    submitted_at: int
    expires_at: int
    state: State
    decided_by: str | None = None
    decided_at: int | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None
    executed_at: int | None = None
    evidence_id: str | None = field(default=None, repr=False)
    merchant_id: str | None = None  # a merchant kind's merchant (decision 0051)


class Executor:
    """The base: a kind with a check and no effect. Subclasses override what they need."""

    kind: Kind
    # Refusals of the effect that mean "held for a risk analyst", not "failed": the
    # approval waits in ``held`` and runs when the case is released (Approvals.answer_held).
    hold_codes: frozenset[str] = frozenset()

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        raise NotImplementedError

    def effect(self, approval: Approval) -> dict[str, Any] | None:
        """The work that commits on its own, idempotent by ``approval.id``."""
        return None

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        """The work on plain rows, in the transaction that marks the approval executed;
        what it returns is stored as the approval's result."""
        return effect or {}

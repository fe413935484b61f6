"""A simulated inter-bank rail with deterministic answers, for development and tests.

Rules (so tests and the demo can provoke each answer): an instruction to an IBAN whose
account number starts with ``999`` is rejected ``AC04`` (closed account at the other
bank); one of more than ``amount_max`` minor units is rejected ``AM02`` (not allowed
amount); one to an IBAN in ``rejected`` is rejected ``AC01`` (incorrect account);
anything else is accepted. Reason codes are ISO 20022 external status reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from schwifty import IBAN

AMOUNT_MAX = 10**12


@dataclass(frozen=True)
class Instruction:
    id: str  # the movement's id: the rail's end-to-end id
    debtor_iban: str
    creditor_iban: str
    creditor_name: str
    amount_minor: int
    currency: str
    reference: str


@dataclass(frozen=True)
class RailAnswer:
    accepted: bool
    reason: str | None = None  # an ISO 20022 status reason code when rejected


class Rail(Protocol):
    def send(self, instruction: Instruction) -> RailAnswer: ...


@dataclass
class SimulatedRail:
    amount_max: int = AMOUNT_MAX
    rejected: set[str] = field(default_factory=set)
    sent: list[Instruction] = field(default_factory=list)  # what it was asked, for tests

    def send(self, instruction: Instruction) -> RailAnswer:
        self.sent.append(instruction)
        account = IBAN(instruction.creditor_iban, allow_invalid=True).account_code
        if instruction.creditor_iban in self.rejected:
            return RailAnswer(False, "AC01")
        if account.startswith("999"):
            return RailAnswer(False, "AC04")
        if instruction.amount_minor > self.amount_max:
            return RailAnswer(False, "AM02")
        return RailAnswer(True)

"""A simulated inter-bank rail with deterministic answers, for development and tests.

Rules (so tests and the demo can provoke each answer): an instruction to an IBAN whose
account number starts with ``999`` is rejected ``AC04`` (closed account at the other
bank); one of more than ``amount_max`` minor units is rejected ``AM02`` (not allowed
amount); one to an IBAN in ``rejected`` is rejected ``AC01`` (incorrect account);
anything else is accepted. Reason codes are ISO 20022 external status reason codes.

A cheque drawn on another bank is presented for collection (:meth:`present_cheque`):
one whose drawer's account number starts with ``999``, or of more than ``amount_max``,
bounces ``insufficient_funds``; one whose (drawer IBAN, serial) is in ``stopped``
bounces ``stopped``; anything else is paid. Its reasons are the cheque bounce reasons
(domain/banking/cheques.py).
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
    # a cheque accepted by a bank of the clearing network: the money comes later, as a
    # transfer of this end-to-end id (the simulated rail's money comes at once: "")
    collecting: str = ""


@dataclass(frozen=True)
class ChequeItem:
    id: str  # the collection's id: the same cheque is always the same id
    text: str  # the cheque as the payee holds it (the drawer's bank checks it)
    drawer_iban: str
    serial: int
    payee_iban: str
    amount_minor: int
    currency: str
    payee_name: str = ""


class Rail(Protocol):
    def send(self, instruction: Instruction) -> RailAnswer: ...

    def present_cheque(self, item: ChequeItem) -> RailAnswer: ...


@dataclass
class SimulatedRail:
    amount_max: int = AMOUNT_MAX
    rejected: set[str] = field(default_factory=set)
    sent: list[Instruction] = field(default_factory=list)  # what it was asked, for tests
    stopped: set[tuple[str, int]] = field(default_factory=set)  # (drawer IBAN, serial)
    cheques: list[ChequeItem] = field(default_factory=list)  # presented, for tests

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

    def present_cheque(self, item: ChequeItem) -> RailAnswer:
        self.cheques.append(item)
        account = IBAN(item.drawer_iban, allow_invalid=True).account_code
        if (item.drawer_iban, item.serial) in self.stopped:
            return RailAnswer(False, "stopped")
        if account.startswith("999") or item.amount_minor > self.amount_max:
            return RailAnswer(False, "insufficient_funds")
        return RailAnswer(True)

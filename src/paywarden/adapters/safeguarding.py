"""The safeguarding bank: where the e-money holders' money is kept apart (issue 11).

The reconciliation asks it one thing: what balance it reports holding for us, per
currency. A real bank answers from its statement (a camt.053 of the safeguarding
account, once the settlement issue brings inter-bank messages); until then
:class:`SimulatedSafeguardingBank` reports the ledger's own mirror of that account
(the SAFEGUARDING_BANK side of every safeguarding leg), less whatever a test tells it
to be short by.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class SafeguardingBank(Protocol):
    def reported_minor(self, currency: str) -> int:
        """The balance the safeguarding bank reports, in minor units of ``currency``."""
        ...


class SimulatedSafeguardingBank:
    """Reports the ledger's mirror of the safeguarding account; ``short_minor`` (tests
    only) makes it report less, as a bank that lost or withheld money would."""

    def __init__(self, mirror: Callable[[str], int]) -> None:
        self._mirror = mirror
        self.short_minor: dict[str, int] = {}

    def reported_minor(self, currency: str) -> int:
        return self._mirror(currency) - self.short_minor.get(currency, 0)

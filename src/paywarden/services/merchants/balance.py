"""A merchant's balance: its ledger account in each currency (decision 0052).

A released payment credits the merchant's account (``AccountKind.MERCHANT``, one per
currency, its id derived from kind, owner and currency), so the balance is read straight
from the ledger: no table of its own that could drift from the money. Money still held
in escrow is not in this account (it is the escrow's until released) and is not summed
here: payments are sealed rows, and adding them up would mean opening every one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.ledger.chart import AccountKind
from ..ledger.accounts import AccountRef
from ..ledger.queries import LedgerQueries


@dataclass(frozen=True)
class Balance:
    """One currency's balance, in minor units."""

    currency: str
    exponent: int  # digits after the decimal point: 2 for EUR
    posted: int  # credits less debits, both posted
    available: int  # posted less what is pending out (e.g. a refund being made)
    pending_in: int  # credits pending: on their way in, not yet posted


def balances(queries: LedgerQueries, merchant_id: str, *, now_ns: int) -> list[Balance]:
    """The merchant's balance in each currency it has an account in, by currency code."""
    found = []
    for ledger in queries.ledgers():
        ref = AccountRef(AccountKind.MERCHANT, merchant_id, ledger.currency)
        view = queries.account(ref.id, now_ns=now_ns)
        if view is None:
            continue
        b = view.balances
        posted = b.credits_posted - b.debits_posted
        found.append(Balance(ledger.currency, ledger.exponent, posted,
                             posted - b.debits_pending, b.credits_pending))
    return found

"""A bank statement: an account's booked entries over a period, between two balances.

A statement is the customer's proof of what the bank says happened, so it must add up
before any format is written: the opening balance plus every entry's signed amount is
the closing balance, and each entry's running balance is the one before it plus its
amount. :meth:`Statement.check` raises :class:`InvariantViolation` otherwise: a
statement that does not add up means the ledger or the reader is broken, and nothing
may be issued from it.

Amounts are signed integers of minor units from the customer's side: a credit to
the account (money in) is positive, a debit (money out) negative. Balances are
signed the same way (a customer account is credit-normal).

:meth:`Statement.data` is the one canonical, JSON-ready form every format is derived
from and that the platform signs and digests (services/banking/statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import InvariantViolation
from ..timestamps import parse_rfc3339, rfc3339

STATEMENT_VERSION = 1
CREDIT = "CRDT"  # ISO 20022 CreditDebitCode: money in
DEBIT = "DBIT"  # money out


@dataclass(frozen=True, slots=True)
class Entry:
    """One booked ledger transfer, as the account holder sees it."""

    entry_id: str  # the ledger transfer id
    booked_at_ns: int
    amount_minor: int  # signed: > 0 credit (in), < 0 debit (out); never 0
    counterparty: str
    reference: str
    balance_after_minor: int

    @property
    def indicator(self) -> str:
        return CREDIT if self.amount_minor > 0 else DEBIT

    @property
    def magnitude_minor(self) -> int:
        return abs(self.amount_minor)

    def data(self) -> dict[str, Any]:
        return {"id": self.entry_id, "booked_at": rfc3339(self.booked_at_ns),
                "amount_minor": self.amount_minor, "counterparty": self.counterparty,
                "reference": self.reference, "balance_after_minor": self.balance_after_minor}


@dataclass(frozen=True, slots=True)
class Statement:
    statement_id: str
    account_id: str
    iban: str
    owner_name: str
    product: str
    currency: str
    period_from: date  # first day covered, inclusive
    period_to: date  # last day covered, inclusive
    opening_balance_minor: int
    entries: tuple[Entry, ...]
    closing_balance_minor: int
    generated_at_ns: int

    def check(self) -> Statement:
        """``self`` if it adds up; :class:`InvariantViolation` if not."""
        found = self.problems()
        if found:
            raise InvariantViolation(f"statement {self.statement_id}: {found[0]}")
        return self

    def problems(self) -> list[str]:
        """Why the statement does not add up (none: it does). A verifier of a statement
        from outside reports these; the platform's own statements :meth:`check`."""
        out: list[str] = []
        if self.period_to < self.period_from:
            out.append(f"the period ends {self.period_to} before it starts {self.period_from}")
        balance = self.opening_balance_minor
        previous_ns = None
        for entry in self.entries:
            if entry.amount_minor == 0:
                out.append(f"entry {entry.entry_id} moves nothing")
            if previous_ns is not None and entry.booked_at_ns < previous_ns:
                out.append(f"entry {entry.entry_id} is out of booking order")
            balance += entry.amount_minor
            if entry.balance_after_minor != balance:
                out.append(f"entry {entry.entry_id}: running balance "
                           f"{entry.balance_after_minor} is not {balance} (the previous "
                           f"balance plus {entry.amount_minor})")
                balance = entry.balance_after_minor
            previous_ns = entry.booked_at_ns
        if balance != self.closing_balance_minor:
            out.append(f"opening {self.opening_balance_minor} plus the entries is {balance}, "
                       f"not the closing balance {self.closing_balance_minor}")
        return out

    @property
    def credits_minor(self) -> int:
        return sum(e.amount_minor for e in self.entries if e.amount_minor > 0)

    @property
    def debits_minor(self) -> int:
        return -sum(e.amount_minor for e in self.entries if e.amount_minor < 0)

    def data(self) -> dict[str, Any]:
        """The statement as plain JSON values: what is signed, digested and rendered."""
        return {"v": STATEMENT_VERSION, "statement_id": self.statement_id,
                "account_id": self.account_id, "iban": self.iban, "owner_name": self.owner_name,
                "product": self.product, "currency": self.currency,
                "from": self.period_from.isoformat(), "to": self.period_to.isoformat(),
                "opening_balance_minor": self.opening_balance_minor,
                "closing_balance_minor": self.closing_balance_minor,
                "generated_at": rfc3339(self.generated_at_ns),
                "entries": [e.data() for e in self.entries]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Statement:
        """The statement :meth:`data` wrote; ValueError if ``data`` is not one. Does not
        check that it adds up (see :meth:`problems`)."""
        try:
            if data["v"] != STATEMENT_VERSION:
                raise ValueError(f"statement version {data['v']!r} is not {STATEMENT_VERSION}")
            entries = tuple(Entry(entry_id=_text(e["id"]), booked_at_ns=_time(e["booked_at"]),
                                  amount_minor=_int(e["amount_minor"]),
                                  counterparty=_text(e["counterparty"]),
                                  reference=_text(e["reference"]),
                                  balance_after_minor=_int(e["balance_after_minor"]))
                            for e in data["entries"])
            return cls(statement_id=_text(data["statement_id"]),
                       account_id=_text(data["account_id"]), iban=_text(data["iban"]),
                       owner_name=_text(data["owner_name"]), product=_text(data["product"]),
                       currency=_text(data["currency"]),
                       period_from=date.fromisoformat(_text(data["from"])),
                       period_to=date.fromisoformat(_text(data["to"])),
                       opening_balance_minor=_int(data["opening_balance_minor"]),
                       entries=entries, closing_balance_minor=_int(data["closing_balance_minor"]),
                       generated_at_ns=_time(data["generated_at"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a statement: {type(exc).__name__} {exc}") from None


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not an integer")
    return value


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"{value!r} is not a string")
    return value


def _time(value: Any) -> int:
    found = parse_rfc3339(_text(value))
    if found is None:
        raise ValueError(f"{value!r} is not an RFC 3339 time")
    return found

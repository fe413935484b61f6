"""The chart's accounts in the ledger: each named by its kind, owner and currency.

Per currency, the platform has an escrow account, a fee income account, and the
funding accounts of the simulated card issuer and of inter-bank transfers; per
party, a merchant's balance, a buyer's wallet and bank account (the kinds, codes
and flags are in :mod:`paywarden.domain.ledger.chart`). Account ids are derived
from what the account is for, so creating them is idempotent and needs no
registry table; payments, and the capabilities after it, name accounts this way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ...domain.ledger import AccountResult
from ...domain.ledger.chart import PLATFORM_OWNER, AccountKind
from ...domain.money import Money
from .currencies import currency
from .engine import LedgerEngine, NewAccount

ID_BITS = 62


@dataclass(frozen=True)
class AccountRef:
    kind: AccountKind
    owner: str  # "platform", mer_…, usr_…
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AccountKind(self.kind))  # "wallet" -> WALLET, or ValueError

    @property
    def id(self) -> int:
        digest = hashlib.sha256(f"{self.kind}|{self.owner}|{self.currency}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> (64 - ID_BITS) or 1

    @property
    def ledger(self) -> int:
        return currency(self.currency).number

    @property
    def name(self) -> str:
        """``"<kind>:<owner>"``: the account's ``user_data``, and a payment's funding source."""
        return f"{self.kind}:{self.owner}"

    @classmethod
    def from_name(cls, name: str, currency_code: str) -> AccountRef:
        kind, owner = name.split(":", 1)
        return cls(AccountKind(kind), owner, currency_code)


def platform_account(kind: AccountKind, money: Money | str) -> AccountRef:
    code = money if isinstance(money, str) else money.currency
    return AccountRef(kind, PLATFORM_OWNER, code)


def new_account(ref: AccountRef) -> NewAccount:
    """The ledger account ``ref`` names, as created on first use."""
    return NewAccount(ref.id, ref.ledger, ref.kind.code, ref.kind.flags, user_data=ref.name)


def ensure(engine: LedgerEngine, refs: list[AccountRef]) -> None:
    """Create the accounts that do not exist yet (the ledger for the currency must)."""
    new = [new_account(r) for r in refs]
    results = engine.wait(engine.create_accounts(new))
    bad = [r for r in results if r not in (AccountResult.OK, AccountResult.EXISTS)]
    if bad:
        raise RuntimeError(f"payment accounts could not be created: {sorted(set(bad))}")

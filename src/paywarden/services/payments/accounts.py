"""The ledger accounts payments move money between.

Per currency, the platform has an escrow account (what buyers paid and merchants
have not yet been given), a fee income account, and the funding accounts of the
simulated card issuer and of inter-bank transfers (which may go negative: money
comes from outside). Per party: a merchant's balance, a buyer's wallet and bank
account, none of which may go below zero. Account ids are derived from what the
account is for, so creating them is idempotent and needs no registry table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ...domain.ledger import AccountFlags, AccountResult
from ...domain.money import Money
from ..ledger import LedgerEngine, NewAccount
from ..ledger.currencies import currency

ID_BITS = 62
CODES = {"escrow": 100, "fee_income": 101, "card_issuer": 102, "bank_clearing": 103,
         "merchant": 200, "wallet": 300, "bank": 301}
UNLIMITED = frozenset({"card_issuer", "bank_clearing"})


@dataclass(frozen=True)
class AccountRef:
    kind: str  # a CODES key
    owner: str  # "platform", mer_…, usr_…
    currency: str

    @property
    def id(self) -> int:
        digest = hashlib.sha256(f"{self.kind}|{self.owner}|{self.currency}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> (64 - ID_BITS) or 1

    @property
    def ledger(self) -> int:
        return currency(self.currency).number


def platform_account(kind: str, money: Money | str) -> AccountRef:
    code = money if isinstance(money, str) else money.currency
    return AccountRef(kind, "platform", code)


def new_account(ref: AccountRef) -> NewAccount:
    """The ledger account ``ref`` names, as created on first use."""
    flags = 0 if ref.kind in UNLIMITED else int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    return NewAccount(ref.id, ref.ledger, CODES[ref.kind], flags,
                      user_data=f"{ref.kind}:{ref.owner}")


def ensure(engine: LedgerEngine, refs: list[AccountRef]) -> None:
    """Create the accounts that do not exist yet (the ledger for the currency must)."""
    new = [new_account(r) for r in refs]
    results = engine.wait(engine.create_accounts(new))
    bad = [r for r in results if r not in (AccountResult.OK, AccountResult.EXISTS)]
    if bad:
        raise RuntimeError(f"payment accounts could not be created: {sorted(set(bad))}")

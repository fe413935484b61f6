"""The chart of accounts: every kind of ledger account the platform keeps, its code,
and whether it may go below zero; and the codes of the transfers between them.

This is the one place that names account kinds and codes; payments, and after it
banking, settlement and risk, take their accounts from here. The values are stored
(an account's ``code``, its ``user_data`` ``"<kind>:<owner>"``, a payment's funding
source), so a member's value never changes; a new kind gets a new value and code.

Codes by owner: 1xx the platform's own accounts (one per currency), 2xx merchants,
3xx buyers and bank customers.
"""

from __future__ import annotations

import enum

from .model import AccountFlags

PLATFORM_OWNER = "platform"  # the owner of the 1xx accounts


class AccountKind(enum.StrEnum):
    ESCROW = "escrow"  # what buyers paid and merchants have not been given yet
    FEE_INCOME = "fee_income"  # the platform's fees
    CARD_ISSUER = "card_issuer"  # the (simulated) card issuer: money from outside
    BANK_CLEARING = "bank_clearing"  # inter-bank transfers in and out: money from outside
    MERCHANT = "merchant"  # a merchant's balance
    WALLET = "wallet"  # a buyer's wallet
    BANK = "bank"  # a customer's bank account

    @property
    def code(self) -> int:
        return _CODES[self]

    @property
    def unlimited(self) -> bool:
        """May go below zero: an account where money enters from outside the platform."""
        return self in _UNLIMITED

    @property
    def flags(self) -> int:
        """The ledger flags its accounts are created with: none may go below zero, except
        the unlimited ones."""
        return 0 if self.unlimited else int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)


_CODES = {AccountKind.ESCROW: 100, AccountKind.FEE_INCOME: 101, AccountKind.CARD_ISSUER: 102,
          AccountKind.BANK_CLEARING: 103, AccountKind.MERCHANT: 200, AccountKind.WALLET: 300,
          AccountKind.BANK: 301}
_UNLIMITED = frozenset({AccountKind.CARD_ISSUER, AccountKind.BANK_CLEARING})


class TransferCode(enum.IntEnum):
    PAYMENT = 20  # a movement of an escrow payment (its legs, authorisation and capture)

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
    BANK = "bank"  # a buyer's bank account (escrow's "bank" method)
    CURRENT = "current"  # a bank customer's current account, owned by its acc_… id
    SAVINGS = "savings"  # a bank customer's savings account, owned by its acc_… id
    SAFEGUARDING = "safeguarding"  # e-money safeguarded for wallet holders (one per currency)
    SAFEGUARDING_BANK = "safeguarding_bank"  # the bank that holds it: money from outside
    INTEREST_EXPENSE = "interest_expense"  # interest the bank pays on savings
    # A clearing hub's accounts (decision 0053), owned by a participant's BIC:
    CENTRAL_BANK = "central_bank"  # the hub operator's issue of central-bank money: outside
    CLEARING_RESERVE = "clearing_reserve"  # a participant's reserves, funded by the operator
    CLEARING_SETTLEMENT = "clearing_settlement"  # a participant's settlement account
    NET_SETTLEMENT = "net_settlement"  # a net window's obligations pass through it (zero after)

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
          AccountKind.BANK: 301, AccountKind.SAFEGUARDING: 104,
          AccountKind.SAFEGUARDING_BANK: 105, AccountKind.INTEREST_EXPENSE: 106,
          AccountKind.CURRENT: 302, AccountKind.SAVINGS: 303,
          AccountKind.CENTRAL_BANK: 107, AccountKind.NET_SETTLEMENT: 108,
          AccountKind.CLEARING_RESERVE: 400, AccountKind.CLEARING_SETTLEMENT: 401}
_UNLIMITED = frozenset({AccountKind.CARD_ISSUER, AccountKind.BANK_CLEARING,
                        AccountKind.SAFEGUARDING_BANK, AccountKind.INTEREST_EXPENSE,
                        AccountKind.CENTRAL_BANK})


class TransferCode(enum.IntEnum):
    PAYMENT = 20  # a movement of an escrow payment (its legs, authorisation and capture)
    BANK_TRANSFER = 30  # a bank customer's transfer (own accounts, another customer, out)
    DEPOSIT = 31  # money in from another bank through the rail
    WITHDRAWAL = 32  # money out through the rail (pending until the rail confirms)
    TOP_UP = 33  # a wallet topped up from a current account or a card
    CHEQUE = 34  # an electronic cheque paid
    INTEREST = 35  # interest posted to a savings account
    SAFEGUARD = 36  # e-money issued or redeemed: the safeguarded amount follows
    CLEARING_FUNDING = 40  # the hub operator funds a participant's reserves
    CLEARING_LIQUIDITY = 41  # pacs.009: a participant's reserves <-> its settlement account
    CLEARING_GROSS = 42  # an RTGS transfer between two settlement accounts
    CLEARING_NET = 43  # a net window's settlement, one leg per participant

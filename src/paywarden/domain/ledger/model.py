"""The ledger's data model: accounts, transfers, their flags and limits.

Amounts and balances are integers of minor units, at most ``AMOUNT_MAX``
(2^63-1, the widest integer both SQLite and PostgreSQL store natively).
A transfer that would push any balance past that is refused, never wrapped.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

AMOUNT_MAX = 2**63 - 1
BATCH_SIZE_MAX = 8190
CODE_MAX = 65_535
TIMEOUT_S_MAX = 2**31 - 1
USER_DATA_LENGTH_MAX = 128
ACCOUNT_ID_MAX = 2**63 - 1

# Client-chosen transfer ids: printable, unambiguous, safe in URLs and logs.
TRANSFER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
# Ids the engine writes itself (expiry of a pending transfer) start with "!",
# which clients can never use, so the two namespaces cannot collide.
SYSTEM_ID_PREFIX = "!"
USER_DATA_PATTERN = re.compile(rf"[\x20-\x7e]{{0,{USER_DATA_LENGTH_MAX}}}")


class AccountFlags(enum.IntFlag):
    NONE = 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2
    CLOSED = 4


class TransferFlags(enum.IntFlag):
    NONE = 0
    LINKED = 1
    PENDING = 2
    POST_PENDING = 4
    VOID_PENDING = 8
    # Set only by the engine on the void it writes when a pending transfer times out.
    EXPIRY = 16


CLIENT_TRANSFER_FLAGS = (
    TransferFlags.LINKED
    | TransferFlags.PENDING
    | TransferFlags.POST_PENDING
    | TransferFlags.VOID_PENDING
)


class PendingState(enum.IntEnum):
    PENDING = 0
    POSTED = 1
    VOIDED = 2
    EXPIRED = 3


class Transfer(NamedTuple):
    """A transfer as a client submits it.

    For a post or void, ``debit_account_id``, ``credit_account_id``, ``ledger``
    and ``code`` may be left at 0 (taken from the pending transfer); ``amount``
    may be ``None`` (the full pending amount).
    """

    id: str
    debit_account_id: int
    credit_account_id: int
    amount: int | None
    ledger: int
    code: int
    flags: int = 0
    pending_id: str | None = None
    timeout_s: int = 0
    user_data: str | None = None


class Row:
    """Column positions of a stored transfer row (a plain tuple, for speed)."""

    TIMESTAMP = 0
    ID = 1
    DEBIT = 2
    CREDIT = 3
    AMOUNT = 4
    LEDGER = 5
    CODE = 6
    FLAGS = 7
    PENDING_ID = 8
    TIMEOUT_S = 9
    USER_DATA = 10
    DEBIT_PREV = 11
    CREDIT_PREV = 12
    # Balances of the debit account, then of the credit account, after the
    # transfer: debits_pending, debits_posted, credits_pending, credits_posted.
    DEBIT_BALANCES = 13
    CREDIT_BALANCES = 17
    WIDTH = 21


TRANSFER_COLUMNS = (
    "timestamp",
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "ledger",
    "code",
    "flags",
    "pending_id",
    "timeout_s",
    "user_data",
    "debit_prev",
    "credit_prev",
    "debit_debits_pending",
    "debit_debits_posted",
    "debit_credits_pending",
    "debit_credits_posted",
    "credit_debits_pending",
    "credit_debits_posted",
    "credit_credits_pending",
    "credit_credits_posted",
)

# A transfer refused with a recorded failure (``results.RECORDED_FAILURES``): what was
# asked, when, and why. It moves no money; it only keeps its id from ever succeeding.
FAILED_COLUMNS = (*TRANSFER_COLUMNS[:11], "result")


class Account:
    """An account and its four balances. Mutable: the engine owns it."""

    __slots__ = (
        "code",
        "credits_pending",
        "credits_posted",
        "debits_pending",
        "debits_posted",
        "flags",
        "id",
        "last_transfer",
        "ledger",
        "timestamp",
        "user_data",
    )

    def __init__(
        self,
        id: int,
        ledger: int,
        code: int,
        flags: int = 0,
        user_data: str | None = None,
        timestamp: int = 0,
        debits_pending: int = 0,
        debits_posted: int = 0,
        credits_pending: int = 0,
        credits_posted: int = 0,
        last_transfer: int = 0,
    ) -> None:
        self.id = id
        self.ledger = ledger
        self.code = code
        self.flags = flags
        self.user_data = user_data
        self.timestamp = timestamp
        self.debits_pending = debits_pending
        self.debits_posted = debits_posted
        self.credits_pending = credits_pending
        self.credits_posted = credits_posted
        self.last_transfer = last_transfer

    def balances(self) -> tuple[int, int, int, int]:
        return (self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted)

    def set_balances(self, balances: tuple[int, int, int, int]) -> None:
        (
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
        ) = balances

    def copy(self) -> Account:
        return Account(
            self.id,
            self.ledger,
            self.code,
            self.flags,
            self.user_data,
            self.timestamp,
            *self.balances(),
            self.last_transfer,
        )

    def __repr__(self) -> str:
        return (
            f"Account(id={self.id}, ledger={self.ledger}, flags={self.flags}, "
            f"balances={self.balances()})"
        )


class Pending:
    """The resolution state of one pending transfer."""

    __slots__ = (
        "amount",
        "credit_account_id",
        "debit_account_id",
        "expires_at",
        "state",
        "timestamp",
    )

    def __init__(
        self,
        timestamp: int,
        debit_account_id: int,
        credit_account_id: int,
        amount: int,
        expires_at: int | None,
        state: int = PendingState.PENDING,
    ) -> None:
        self.timestamp = timestamp
        self.debit_account_id = debit_account_id
        self.credit_account_id = credit_account_id
        self.amount = amount
        self.expires_at = expires_at
        self.state = state

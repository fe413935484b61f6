"""The double-entry ledger: accounts, transfers, two-phase holds, linked chains."""

from .book import Book
from .model import (
    AMOUNT_MAX,
    BATCH_SIZE_MAX,
    FAILED_COLUMNS,
    SYSTEM_ID_PREFIX,
    TRANSFER_COLUMNS,
    Account,
    AccountFlags,
    Pending,
    PendingState,
    Row,
    Transfer,
    TransferFlags,
)
from .results import RECORDED_FAILURES, AccountResult, TransferResult
from .shape import check_account, check_transfer, valid_account_id, valid_transfer_id

__all__ = [
    "AMOUNT_MAX",
    "BATCH_SIZE_MAX",
    "FAILED_COLUMNS",
    "RECORDED_FAILURES",
    "SYSTEM_ID_PREFIX",
    "TRANSFER_COLUMNS",
    "Account",
    "AccountFlags",
    "AccountResult",
    "Book",
    "Pending",
    "PendingState",
    "Row",
    "Transfer",
    "TransferFlags",
    "TransferResult",
    "check_account",
    "check_transfer",
    "valid_account_id",
    "valid_transfer_id",
]

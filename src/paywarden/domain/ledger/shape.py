"""Checks of a single transfer or account that need no ledger state."""

from __future__ import annotations

from typing import TypeGuard

from .model import (
    ACCOUNT_ID_MAX,
    AMOUNT_MAX,
    CLIENT_TRANSFER_FLAGS,
    CODE_MAX,
    TIMEOUT_S_MAX,
    TRANSFER_ID_PATTERN,
    USER_DATA_PATTERN,
    AccountFlags,
    Transfer,
    TransferFlags,
)
from .results import AccountResult, TransferResult

_PENDING = int(TransferFlags.PENDING)
_RESOLVE = int(TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)
_TWO_PHASE = _PENDING | _RESOLVE
_ACCOUNT_FLAGS = int(
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    | AccountFlags.CLOSED
)
_BOTH_LIMITS = int(
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
)


_CLIENT_FLAGS = int(CLIENT_TRANSFER_FLAGS)
_SIMPLE_FLAGS = int(TransferFlags.LINKED | TransferFlags.PENDING)
_ID_MATCH = TRANSFER_ID_PATTERN.fullmatch


def _is_int(value: object) -> TypeGuard[int]:
    # bool is a subclass of int; True is not an amount.
    return value.__class__ is int or (isinstance(value, int) and value.__class__ is not bool)


def valid_transfer_id(value: object) -> bool:
    return value.__class__ is str and _ID_MATCH(value) is not None


def valid_account_id(value: object) -> bool:
    return _is_int(value) and 0 < value <= ACCOUNT_ID_MAX


def _valid_user_data(value: object) -> bool:
    return value is None or (type(value) is str and USER_DATA_PATTERN.fullmatch(value) is not None)


def check_transfer(t: Transfer) -> TransferResult | None:
    """Return why ``t`` is malformed, or None if its shape is sound."""
    tid, dr, cr, amount, ledger, code, flags, pending_id, timeout_s, user_data = t
    # Fast path for the common well-formed single-phase or pending transfer;
    # anything it does not accept gets the full check below, which names the fault.
    if (
        tid.__class__ is str
        and flags.__class__ is int
        and flags & _SIMPLE_FLAGS == flags
        and amount.__class__ is int
        and 0 < amount <= AMOUNT_MAX
        and dr.__class__ is int
        and cr.__class__ is int
        and 0 < dr <= ACCOUNT_ID_MAX
        and 0 < cr <= ACCOUNT_ID_MAX
        and dr != cr
        and code.__class__ is int
        and 0 < code <= CODE_MAX
        and ledger.__class__ is int
        and ledger > 0
        and pending_id is None
        and user_data is None
        and timeout_s.__class__ is int
        and (timeout_s == 0 or (flags & _PENDING and 0 < timeout_s <= TIMEOUT_S_MAX))
        and _ID_MATCH(tid) is not None
    ):
        return None
    return _check_full(t)


def _check_full(t: Transfer) -> TransferResult | None:
    if not valid_transfer_id(t.id):
        return TransferResult.ID_INVALID
    flags = t.flags
    if not _is_int(flags) or flags & ~_CLIENT_FLAGS:
        return TransferResult.FLAGS_INVALID
    two_phase = flags & _TWO_PHASE
    if two_phase & (two_phase - 1):
        return TransferResult.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if not _valid_user_data(t.user_data):
        return TransferResult.USER_DATA_INVALID
    if not _is_int(t.timeout_s) or not 0 <= t.timeout_s <= TIMEOUT_S_MAX:
        return TransferResult.TIMEOUT_INVALID
    if t.timeout_s and not flags & _PENDING:
        return TransferResult.TIMEOUT_RESERVED_FOR_PENDING
    amount = t.amount
    if flags & _RESOLVE:
        return _check_resolve(t)
    if t.pending_id is not None:
        return TransferResult.PENDING_ID_MUST_BE_EMPTY
    if not _is_int(amount) or amount <= 0:
        return TransferResult.AMOUNT_MUST_BE_POSITIVE
    if amount > AMOUNT_MAX:
        return TransferResult.AMOUNT_TOO_LARGE
    if not valid_account_id(t.debit_account_id) or not valid_account_id(t.credit_account_id):
        return TransferResult.ACCOUNT_ID_INVALID
    if t.debit_account_id == t.credit_account_id:
        return TransferResult.ACCOUNTS_MUST_BE_DIFFERENT
    if not _is_int(t.code) or not 0 < t.code <= CODE_MAX:
        return TransferResult.CODE_INVALID
    if not _is_int(t.ledger) or t.ledger <= 0:
        return TransferResult.LEDGER_MISMATCH
    return None


def _check_resolve(t: Transfer) -> TransferResult | None:
    """Shape of a post or void: it names a pending transfer; other fields are optional."""
    if t.pending_id is None:
        return TransferResult.PENDING_ID_REQUIRED
    if not valid_transfer_id(t.pending_id):
        return TransferResult.ID_INVALID
    if t.pending_id == t.id:
        return TransferResult.PENDING_ID_MUST_BE_DIFFERENT
    amount = t.amount
    if amount is not None:
        if not _is_int(amount) or amount <= 0:
            return TransferResult.AMOUNT_MUST_BE_POSITIVE
        if amount > AMOUNT_MAX:
            return TransferResult.AMOUNT_TOO_LARGE
    for account_id in (t.debit_account_id, t.credit_account_id):
        if account_id != 0 and not valid_account_id(account_id):
            return TransferResult.ACCOUNT_ID_INVALID
    if not _is_int(t.code) or not 0 <= t.code <= CODE_MAX:
        return TransferResult.CODE_INVALID
    if not _is_int(t.ledger) or t.ledger < 0:
        return TransferResult.LEDGER_MISMATCH
    return None


def check_account(
    account_id: object, ledger: object, code: object, flags: object, user_data: object
) -> AccountResult | None:
    """Return why a new account is malformed, or None if its shape is sound."""
    if not valid_account_id(account_id):
        return AccountResult.ID_INVALID
    if not _is_int(flags) or flags & ~_ACCOUNT_FLAGS or flags & AccountFlags.CLOSED:
        return AccountResult.FLAGS_INVALID
    if flags & _BOTH_LIMITS == _BOTH_LIMITS:
        return AccountResult.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if not _is_int(code) or not 0 < code <= CODE_MAX:
        return AccountResult.CODE_INVALID
    if not _is_int(ledger) or ledger <= 0:
        return AccountResult.LEDGER_NOT_FOUND
    if not _valid_user_data(user_data):
        return AccountResult.USER_DATA_INVALID
    return None

"""Ledger endpoints under /v1: ledgers, accounts, transfers."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..bootstrap import Platform
from ..domain.approvals import NO_CURRENCY
from ..domain.errors import DomainError, InvariantViolation
from ..domain.identity import Access, Kind, Principal, Resource
from ..domain.ledger import (
    AccountFlags,
    AccountResult,
    Transfer,
    TransferFlags,
    TransferResult,
)
from ..services.approvals.money import transfer_params
from ..services.ledger import EngineUnresponsive, NewAccount
from ..services.ledger.currencies import currency
from ..services.ledger.queries import AccountView, Balances, Ledger, TransferView
from . import problem_codes as codes
from .approval_routes import refusals as approval_refusals
from .approval_routes import submitted
from .auth import CurrentPrincipal, require, require_by_method
from .defences import enforce
from .deps import PlatformDep
from .ids import account_id_from_str, account_id_to_str, parse_rfc3339, rfc3339
from .problems import RETRY_AFTER_S, Problem
from .schemas import ledger as s

router = APIRouter(prefix="/v1", dependencies=[Depends(require_by_method(Resource.LEDGER))])

_TRANSFER_FLAGS = {
    "linked": TransferFlags.LINKED,
    "pending": TransferFlags.PENDING,
    "post_pending": TransferFlags.POST_PENDING,
    "void_pending": TransferFlags.VOID_PENDING,
}
_ACCOUNT_FLAGS = {
    "debits_must_not_exceed_credits": AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    "credits_must_not_exceed_debits": AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
    "closed": AccountFlags.CLOSED,
}
_ACCOUNT_CREATED_STATUS = {AccountResult.OK: 201, AccountResult.EXISTS: 200}
ACCOUNT_ID_ATTEMPTS_MAX = 5
T = TypeVar("T")


async def _answer(p: Platform, future: Future[T]) -> T:
    """The writer's answer, waited for no longer than the engine's bound."""
    try:
        return await p.engine.wait_async(future)
    except EngineUnresponsive as exc:
        raise Problem(exc.code, str(exc), headers={"Retry-After": str(RETRY_AFTER_S)}
                      ) from None


def _account_code(result: AccountResult) -> str:
    """The problem code of a refused account: ``account_<result>`` (``ledger_not_found``
    names the ledger, not the account)."""
    return result.value if result.value.startswith("ledger") else f"account_{result.value}"


def _flag_names(flags: int, table: Mapping[str, int]) -> list[str]:
    return [name for name, bit in table.items() if flags & bit]


def _invalid(loc: list[str | int], msg: str) -> Problem:
    return Problem(codes.Edge.VALIDATION_FAILED,
                   f"the request is invalid: {msg}; nothing was applied",
                   errors=[{"loc": loc, "type": "value_error", "msg": msg}])


def _account_id(value: str, loc: list[str | int]) -> int:
    number = account_id_from_str(value)
    if number is None:
        raise _invalid(loc, f"account id {value!r} is malformed")
    return number


def _ledger_id(code: str, loc: list[str | int]) -> int:
    try:
        return currency(code).number
    except DomainError as exc:
        raise _invalid(loc, exc.detail) from None


def _ledger_out(ledger: Ledger) -> s.LedgerOut:
    return s.LedgerOut(id=ledger.id, currency=ledger.currency, exponent=ledger.exponent,
                       created_at=rfc3339(ledger.created_at))


def _balances_out(b: Balances) -> s.BalancesOut:
    return s.BalancesOut(debits_pending=b.debits_pending, debits_posted=b.debits_posted,
                         credits_pending=b.credits_pending, credits_posted=b.credits_posted)


def _currency_of(p: Platform, ledger_id: int) -> str:
    ledger = p.queries.ledger(ledger_id)
    return ledger.currency if ledger else str(ledger_id)


def _account_out(p: Platform, a: AccountView) -> s.AccountOut:
    return s.AccountOut(id=account_id_to_str(a.id), ledger=_currency_of(p, a.ledger), code=a.code,
                        flags=_flag_names(a.flags, _ACCOUNT_FLAGS), user_data=a.user_data,
                        created_at=rfc3339(a.timestamp), balances=_balances_out(a.balances))


def _transfer_out(t: TransferView, currency_code: str) -> s.TransferOut:
    flags = _flag_names(t.flags, _TRANSFER_FLAGS)
    if t.flags & TransferFlags.EXPIRY:
        flags.append("expiry")
    return s.TransferOut(id=t.id, debit_account_id=account_id_to_str(t.debit_account_id),
                         credit_account_id=account_id_to_str(t.credit_account_id), amount=t.amount,
                         ledger=currency_code, code=t.code, flags=flags, pending_id=t.pending_id,
                         timeout_s=t.timeout_s, user_data=t.user_data,
                         timestamp=rfc3339(t.timestamp))


# -- ledgers -------------------------------------------------------------------


@router.post("/ledgers", status_code=201, response_model=s.LedgerOut)
def create_ledger(body: s.LedgerIn, p: PlatformDep) -> s.LedgerOut:
    """Create a ledger.

    Staff create the ledger of a currency (one per ISO 4217 code).
    """
    return _ledger_out(p.queries.create_ledger(body.currency, now_ns=p.clock.now_ns()))


@router.get("/ledgers", response_model=list[s.LedgerOut])
def list_ledgers(p: PlatformDep) -> list[s.LedgerOut]:
    """List ledgers.

    Every ledger: its currency and exponent.
    """
    return [_ledger_out(ledger) for ledger in p.queries.ledgers()]


# -- accounts ------------------------------------------------------------------


@router.post("/accounts", status_code=201, response_model=s.AccountOut,
             responses={200: {"description": "the same account existed already"}})
async def create_account(body: s.AccountIn, p: PlatformDep, response: Response) -> s.AccountOut:
    """Create a ledger account.

    Idempotent by the client's id: the same id and fields answer 200 with the first account.
    """
    ledger_id = _ledger_id(body.ledger, ["body", "ledger"])
    flags = 0
    for name in body.flags:
        flags |= _ACCOUNT_FLAGS[name]
    for _ in range(ACCOUNT_ID_ATTEMPTS_MAX):
        if body.id is not None:
            account_id = _account_id(body.id, ["body", "id"])
        else:
            account_id = secrets.randbits(63) or 1
        new = NewAccount(account_id, ledger_id, body.code, flags, body.user_data)
        (result,) = await _answer(p, p.engine.create_accounts([new]))
        if result is AccountResult.EXISTS_WITH_DIFFERENT_FIELDS and body.id is None:
            continue  # a random id collided: draw another
        break
    status = _ACCOUNT_CREATED_STATUS.get(result)
    if status is None:
        raise Problem(_account_code(result), f"account not created: {result.value}")
    response.status_code = status
    view = p.queries.account(account_id, now_ns=p.clock.now_ns())
    if view is None:
        raise Problem(codes.Edge.INTERNAL_ERROR, "the account vanished after creation")
    return _account_out(p, view)


@router.get("/accounts/{account_id}", response_model=s.AccountOut)
def get_account(account_id: str, p: PlatformDep,
                as_of: Annotated[str | None, Query(description="RFC 3339 time")] = None
                ) -> s.AccountOut:
    """Read a ledger account.

    Balances (posted and pending, debits and credits) now, or as of a past time.
    """
    number = _account_id(account_id, ["path", "account_id"])
    view = p.queries.account(number, now_ns=p.clock.now_ns())
    if view is None:
        raise Problem(codes.Ledger.ACCOUNT_NOT_FOUND, f"no account {account_id}")
    out = _account_out(p, view)
    if as_of is not None:
        as_of_ns = parse_rfc3339(as_of)
        if as_of_ns is None:
            raise _invalid(["query", "as_of"], f"{as_of!r} is not an RFC 3339 time")
        balances = p.queries.balances_as_of(number, as_of_ns)
        if balances is None:
            raise Problem(codes.Ledger.ACCOUNT_NOT_FOUND, f"account {account_id} did not exist at {as_of}")
        out.balances = _balances_out(balances)
        out.as_of = rfc3339(as_of_ns)
    return out


@router.post("/accounts/{account_id}/close", response_model=s.AccountOut,
             dependencies=[Depends(require(Resource.LEDGER, Access.MODIFY))])
async def close_account(account_id: str, p: PlatformDep) -> s.AccountOut:
    """Close a ledger account.

    A closed account takes no more transfers.
    """
    number = _account_id(account_id, ["path", "account_id"])
    result = await _answer(p, p.engine.close_account(number))
    if result is not AccountResult.OK:
        raise Problem(_account_code(result), f"account {account_id} not closed: {result.value}")
    view = p.queries.account(number, now_ns=p.clock.now_ns())
    if view is None:
        raise InvariantViolation(f"account {number} vanished after it was closed")
    return _account_out(p, view)


@router.get("/accounts/{account_id}/transfers", response_model=s.TransferPageOut)
def list_account_transfers(
    account_id: str, p: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,19}$")] = None,
) -> s.TransferPageOut:
    """List an account's transfers.

    The account's transfers, cursor-paginated, newest first.
    """
    number = _account_id(account_id, ["path", "account_id"])
    view = p.queries.account(number, now_ns=p.clock.now_ns())
    if view is None:
        raise Problem(codes.Ledger.ACCOUNT_NOT_FOUND, f"no account {account_id}")
    page, next_cursor = p.queries.account_transfers(
        number, limit=limit, before=int(cursor) if cursor else None)
    code = _currency_of(p, view.ledger)
    return s.TransferPageOut(data=[_transfer_out(t, code) for t in page],
                             next_cursor=str(next_cursor) if next_cursor else None)


# -- transfers -----------------------------------------------------------------


def _to_domain(i: int, t: s.TransferIn) -> Transfer:
    flags = 0
    for name in t.flags:
        flags |= _TRANSFER_FLAGS[name]
    loc: list[str | int] = ["body", "transfers", i]
    return Transfer(
        id=t.id,
        debit_account_id=_account_id(t.debit_account_id, [*loc, "debit_account_id"])
        if t.debit_account_id else 0,
        credit_account_id=_account_id(t.credit_account_id, [*loc, "credit_account_id"])
        if t.credit_account_id else 0,
        amount=t.amount,
        ledger=_ledger_id(t.ledger, [*loc, "ledger"]) if t.ledger else 0,
        code=t.code or 0,
        flags=flags,
        pending_id=t.pending_id,
        timeout_s=t.timeout_s,
        user_data=t.user_data,
    )


@router.post("/transfers", response_model=s.TransferBatchOut,
             responses={202: {"description": "A person's transfers, waiting for a second "
                              "member of staff (the body names the approval)"}})
async def create_transfers(body: s.TransferBatchIn, p: PlatformDep,
                           principal: CurrentPrincipal) -> s.TransferBatchOut | JSONResponse:
    """Submit a batch of transfers.

    Each transfer has a client-chosen id; the answer lists each one's result, in order.
    Resubmitting an id with the same fields answers `exists`. A machine principal (a
    ``service`` token) posts directly; a person's manual transfers are a four-eyes
    command: 202 with the approval's id, and nothing moves until another member of staff
    approves (`POST /v1/approvals/{id}/approve`).
    """
    transfers = [_to_domain(i, t) for i, t in enumerate(body.transfers)]
    if principal.kind is Kind.SERVICE:
        _within_limit(p, principal, transfers)
    else:
        ledgers = {t.ledger for t in transfers if t.ledger}
        code = _currency_of(p, ledgers.pop()) if len(ledgers) == 1 else NO_CURRENCY
        with approval_refusals():
            made = await run_in_threadpool(
                p.approvals.submit, principal, "ledger_transfers",
                {"transfers": [transfer_params(t) for t in transfers], "currency": code})
        return submitted(made)
    # One hit per debited account per submission, before anything is queued.
    debited = sorted({t.debit_account_id for t in transfers if t.debit_account_id})
    await enforce(p.rate_limits, "account", *map(account_id_to_str, debited))
    results = await _answer(p, p.engine.submit(transfers))
    return s.TransferBatchOut(
        results=[s.TransferResultOut(index=i, id=t.id, result=r.value)
                 for i, (t, r) in enumerate(zip(transfers, results))],
        applied=sum(r is TransferResult.OK for r in results),
    )


def _within_limit(p: Platform, principal: Principal, transfers: list[Transfer]) -> None:
    """A machine principal posts within its own limit (decision 0043): one transfer over
    it refuses the whole batch, before anything is queued."""
    limit = p.sessions.amount_max(principal.session_id or "")
    if limit is None:
        raise Problem(codes.Ledger.SERVICE_LIMIT_EXCEEDED, "this service token carries no "
                      "limit; ask for a service credential with one")
    over = [i for i, t in enumerate(transfers) if t.amount is not None and t.amount > limit]
    if over:
        raise Problem(codes.Ledger.SERVICE_LIMIT_EXCEEDED, f"transfer {over[0]} is over this "
                      f"service's limit of {limit} minor units; nothing was applied")


@router.get("/transfers/{transfer_id}", response_model=s.TransferOut)
def get_transfer(transfer_id: str, p: PlatformDep) -> s.TransferOut:
    """Read a transfer.

    One transfer by its id.
    """
    view = p.queries.transfer(transfer_id)
    if view is None:
        raise Problem(codes.Ledger.TRANSFER_NOT_FOUND, "no transfer with that id")
    return _transfer_out(view, _currency_of(p, view.ledger))

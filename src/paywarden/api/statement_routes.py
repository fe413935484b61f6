"""An account's transactions and statements over HTTP (services/banking/history,
services/banking/statements; decision 0025).

    GET /v1/me/accounts/{id}/transactions?from=&to=&amount_min=&amount_max=&q=&cursor=&limit=
    GET /v1/me/accounts/{id}/statements?from=YYYY-MM-DD&to=YYYY-MM-DD&format=camt053|csv|pdf

Another customer's account is 404, like a missing one. A statement is a download
(``Content-Disposition: attachment``) in the format asked, sealed: it carries its audit
inclusion proof under a signed tree head, and ``paywarden banking verify-statement``
checks it. Dates are UTC days, inclusive; a bad date is ``history_filter_invalid`` or
``statement_period_invalid``, an unknown format ``statement_format_invalid`` (400).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from ..bootstrap import Platform
from ..domain.identity import Access
from ..domain.timestamps import rfc3339
from ..services.banking.history import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, Filters, HistoryItem
from ..services.banking.statements import FORMATS
from ..services.banking.statements.service import Statements
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .banking_routes import customer
from .deps import PlatformDep
from .problems import Problem, Refusals

router = APIRouter(prefix="/v1/me/accounts", tags=["banking"])
AccountId = Annotated[str, Path(pattern=r"^acc_[0-9a-f]{24}$")]
Day = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (UTC)")]
Minor = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="minor units")]
refusals = Refusals(codes.Banking, codes.Ledger, codes.Statements)


def statements_of(platform: Platform) -> Statements:
    return Statements(platform.database, clock=platform.clock, keys=platform.keys,
                      tree_heads=platform.tree_heads)


def _day(value: str | None, name: str, code: codes.Statements) -> date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(code, f"{name} is not a date YYYY-MM-DD") from None


def _item(item: HistoryItem) -> dict[str, Any]:
    return {"id": item.entry_id, "at": rfc3339(item.at_ns), "state": item.state,
            "amount": item.amount_minor, "counterparty": item.counterparty,
            "reference": item.reference, "balance_after": item.balance_after_minor}


@router.get("/{account_id}/transactions")
def transactions(account_id: AccountId, platform: PlatformDep, principal: CurrentPrincipal,
                 from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                 to: Day = None, amount_min: Minor = None, amount_max: Minor = None,
                 q: Annotated[str | None, Query(max_length=100)] = None,
                 cursor: Annotated[str | None, Query(max_length=64)] = None,
                 limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
                 ) -> dict[str, Any]:
    """Your account's transactions, newest first.

    Booked entries with the running (posted) balance after each; holds still open are
    listed as ``pending`` and leave the balance unchanged. Filter by UTC days (``from``,
    ``to``, inclusive), amount in minor units (on the magnitude), and text ``q`` in the
    counterparty or reference; page with ``next_cursor``."""
    user = customer(platform, principal, Access.READ)
    invalid = codes.Statements.HISTORY_FILTER_INVALID
    with refusals():
        filters = Filters(from_date=_day(from_, "from", invalid), to_date=_day(to, "to", invalid),
                          amount_min_minor=amount_min, amount_max_minor=amount_max, text=q)
        page = statements_of(platform).history(user, account_id, filters=filters,
                                               cursor=cursor, limit=limit)
    return {"data": [_item(i) for i in page.items], "next_cursor": page.next_cursor}


@router.get("/{account_id}/statements", response_class=Response, responses={200: {
    "description": "The statement file", "content": {
        m.MEDIA_TYPE.split(";")[0]: {} for m in FORMATS.values()}}})
def statement(account_id: AccountId, platform: PlatformDep, principal: CurrentPrincipal,
              from_: Annotated[str, Query(alias="from", max_length=10)],
              to: Annotated[str, Query(max_length=10)],
              format: Annotated[str, Query(max_length=16)] = "camt053") -> Response:
    """Download a statement of your account.

    ``format``: ``camt053`` (ISO 20022 camt.053.001.08 XML), ``csv`` or ``pdf``, for the
    UTC days ``from`` to ``to`` inclusive (at most 366 days, ending today at the latest).
    Each is signed and carries the audit log's tree size and root and the inclusion
    proof of its own audit entry: check it with ``paywarden banking verify-statement``."""
    user = customer(platform, principal, Access.READ)
    module = FORMATS.get(format)
    if module is None:
        raise Problem(codes.Statements.STATEMENT_FORMAT_INVALID,
                      f"format is one of {', '.join(sorted(FORMATS))}")
    invalid = codes.Statements.STATEMENT_PERIOD_INVALID
    first, last = _day(from_, "from", invalid), _day(to, "to", invalid)
    if first is None or last is None:
        raise Problem(invalid, "from and to are required")
    with refusals():
        sealed = statements_of(platform).issue(user, account_id, first, last,
                                               actor=principal.actor)
    name = f"statement-{account_id}-{first.isoformat()}-{last.isoformat()}.{module.EXTENSION}"
    return Response(module.render(sealed), media_type=module.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

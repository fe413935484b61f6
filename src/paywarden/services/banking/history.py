"""An account's history, read straight from the ledger's chain of transfers.

Each transfer row stores both accounts' four balances just after it (decision 0002),
so every entry's running balance is read, not recomputed, and the opening balance of
a period is the stored balance of the account's last transfer before it. The walk is
newest first, one primary-key lookup per step, from the account's head.

What the history shows (decision 0025):

- **booked**: a transfer that moved posted money (a plain transfer, or the post of a
  hold). Its running balance is the posted balance after it.
- **pending**: a hold (pending transfer) still open at read time. Its amount is shown,
  signed, but it does not move the running balance: ``balance_after_minor`` is the
  posted balance, unchanged by it. Once posted, the hold leaves the list and its post
  appears as a booked entry; once voided or expired it leaves the list (no money
  moved).

Amounts and balances are signed from the account holder's side (:class:`Side`): for
a credit-normal account (every customer account) a credit is positive and the balance
is ``credits_posted - debits_posted``.

Pagination is by an opaque cursor naming the last transfer *looked at*, bound to the
account. A page looks at no more than ``SCAN_STEPS_MAX`` transfers: with a narrow
filter it may come back short, or empty, with a cursor to go on from.

Days are UTC days: ``from`` is inclusive from 00:00, ``to`` inclusive to 24:00.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ...adapters.store.schema import accounts, pending_transfers, transfers
from ...domain.banking.statement import Entry
from ...domain.errors import DomainError
from ...domain.ledger import TRANSFER_COLUMNS, PendingState, Row, TransferFlags
from ...domain.ledger.chart import AccountKind

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
SCAN_STEPS_MAX = 5_000  # transfers one page may look at
PERIOD_STEPS_MAX = 1_000_000  # transfers a statement may walk back over (its period and after)
TEXT_LENGTH_MAX = 100
NS_PER_S = 1_000_000_000
_DESCRIBE_CHUNK = 200
_T = [transfers.c[name] for name in TRANSFER_COLUMNS]
_CURSOR_PREFIX = "h1."
_UNBOOKED = int(TransferFlags.PENDING | TransferFlags.VOID_PENDING | TransferFlags.EXPIRY)


class Side(enum.Enum):
    """Which way an account's balance counts."""

    CREDIT_NORMAL = "credit"  # balance = credits - debits: customers, merchants, escrow
    DEBIT_NORMAL = "debit"  # balance = debits - credits: where money enters from outside

    @classmethod
    def of(cls, kind: AccountKind) -> Side:
        return cls.DEBIT_NORMAL if kind.unlimited else cls.CREDIT_NORMAL


@dataclass(frozen=True)
class Description:
    counterparty: str
    reference: str


# Who the other side was and what the payer wrote, for transfers of one account: given
# the rows (``Row`` positions), by transfer id. The default reads the ledger only.
Describe = Callable[[Connection, int, Sequence[tuple[Any, ...]]], dict[str, Description]]


@dataclass(frozen=True)
class Filters:
    from_date: date | None = None
    to_date: date | None = None
    amount_min_minor: int | None = None  # on the amount's magnitude
    amount_max_minor: int | None = None
    text: str | None = None  # in the counterparty or reference, case-insensitive

    def __post_init__(self) -> None:
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise DomainError("history_filter_invalid", f"to {self.to_date} is before from "
                              f"{self.from_date}")
        for name in ("amount_min_minor", "amount_max_minor"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 0):
                raise DomainError("history_filter_invalid",
                                  f"{name} {value!r} is not a non-negative integer of minor units")
        if (self.amount_min_minor is not None and self.amount_max_minor is not None
                and self.amount_max_minor < self.amount_min_minor):
            raise DomainError("history_filter_invalid", "amount_max_minor is below amount_min_minor")
        if self.text is not None and len(self.text) > TEXT_LENGTH_MAX:
            raise DomainError("history_filter_invalid",
                              f"text is longer than {TEXT_LENGTH_MAX} characters")

    def keeps(self, item: HistoryItem) -> bool:
        magnitude = abs(item.amount_minor)
        if self.amount_min_minor is not None and magnitude < self.amount_min_minor:
            return False
        if self.amount_max_minor is not None and magnitude > self.amount_max_minor:
            return False
        if self.text:
            needle = self.text.casefold()
            return needle in item.counterparty.casefold() or needle in item.reference.casefold()
        return True


@dataclass(frozen=True)
class HistoryItem:
    entry_id: str  # the ledger transfer id
    at_ns: int
    state: str  # booked | pending
    amount_minor: int  # signed, the holder's side
    counterparty: str
    reference: str
    balance_after_minor: int  # posted; a pending item leaves it unchanged

    def entry(self) -> Entry:
        return Entry(entry_id=self.entry_id, booked_at_ns=self.at_ns,
                     amount_minor=self.amount_minor, counterparty=self.counterparty,
                     reference=self.reference, balance_after_minor=self.balance_after_minor)


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    next_cursor: str | None


@dataclass(frozen=True)
class Period:
    """A period's booked entries, oldest first, between the balances the ledger stores."""

    opening_balance_minor: int
    entries: tuple[Entry, ...]
    closing_balance_minor: int


def day_start_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS_PER_S


def day_end_ns(day: date) -> int:
    """The last nanosecond of ``day`` (UTC)."""
    return day_start_ns(day + timedelta(days=1)) - 1


def ledger_describe(conn: Connection, account_id: int,
                    rows: Sequence[tuple[Any, ...]]) -> dict[str, Description]:
    """The other account's ledger name (``kind:owner``) and the transfer's user data."""
    others = {r[Row.CREDIT] if r[Row.DEBIT] == account_id else r[Row.DEBIT] for r in rows}
    names = dict(conn.execute(select(accounts.c.id, accounts.c.user_data)
                              .where(accounts.c.id.in_(others))).all()) if others else {}
    out = {}
    for r in rows:
        other = r[Row.CREDIT] if r[Row.DEBIT] == account_id else r[Row.DEBIT]
        out[r[Row.ID]] = Description(names.get(other) or f"account {other}", r[Row.USER_DATA] or "")
    return out


# -- reading -------------------------------------------------------------------------


def history(conn: Connection, account_id: int, side: Side, *, now_ns: int,
            filters: Filters = Filters(), cursor: str | None = None,
            limit: int = PAGE_SIZE_DEFAULT, describe: Describe = ledger_describe) -> HistoryPage:
    """A page of the account's history, newest first."""
    limit = max(1, min(limit, PAGE_SIZE_MAX))
    start = _start(conn, account_id, cursor)
    from_ns = day_start_ns(filters.from_date) if filters.from_date else None
    to_ns = day_end_ns(filters.to_date) if filters.to_date else None
    items: list[HistoryItem] = []
    last_ts, more = None, False
    chunk: list[tuple[Any, ...]] = []
    for scanned, row in enumerate(_walk(conn, account_id, start)):
        if from_ns is not None and row[Row.TIMESTAMP] < from_ns:
            break
        if len(items) >= limit or scanned == SCAN_STEPS_MAX:
            more = True
            break
        last_ts = row[Row.TIMESTAMP]
        if (to_ns is None or row[Row.TIMESTAMP] <= to_ns) and _shown(conn, row, now_ns):
            chunk.append(row)
        if len(chunk) >= min(limit - len(items), _DESCRIBE_CHUNK):
            items += _kept(conn, account_id, side, chunk, filters, describe)
            chunk = []
    items += _kept(conn, account_id, side, chunk, filters, describe)
    return HistoryPage(items, _cursor(account_id, last_ts) if more and last_ts else None)


def period(conn: Connection, account_id: int, side: Side, from_date: date, to_date: date, *,
           describe: Describe = ledger_describe) -> Period:
    """Booked entries from ``from_date`` to ``to_date`` (UTC days, inclusive) and the
    balances before and after them, as the ledger stores them."""
    from_ns, to_ns = day_start_ns(from_date), day_end_ns(to_date)
    head = _head(conn, account_id)
    closing: int | None = None
    opening = 0
    booked: list[tuple[Any, ...]] = []
    steps = 0
    for row in _walk(conn, account_id, head):
        steps += 1
        if steps > PERIOD_STEPS_MAX:
            raise DomainError("history_too_deep",
                              f"more than {PERIOD_STEPS_MAX} transfers to walk back")
        ts = row[Row.TIMESTAMP]
        if ts > to_ns:
            continue
        balance = _posted(row, account_id, side)
        if ts < from_ns:
            opening = balance
            break
        if closing is None:
            closing = balance
        if not row[Row.FLAGS] & _UNBOOKED:
            booked.append(row)
    booked.reverse()
    names = describe(conn, account_id, booked) if booked else {}
    entries = tuple(_item(r, account_id, side, "booked", names[r[Row.ID]]).entry()
                    for r in booked)
    return Period(opening, entries, opening if closing is None else closing)


# -- helpers ---------------------------------------------------------------------------


def _head(conn: Connection, account_id: int) -> int:
    head = conn.execute(select(accounts.c.last_transfer)
                        .where(accounts.c.id == account_id)).scalar_one_or_none()
    if head is None:
        raise DomainError("not_found", f"ledger account {account_id} does not exist")
    return int(head)


def _start(conn: Connection, account_id: int, cursor: str | None) -> int:
    if cursor is None:
        return _head(conn, account_id)
    ts = _parse_cursor(account_id, cursor)
    row = conn.execute(select(*_T).where(transfers.c.timestamp == ts)).first()
    if row is None or account_id not in (row[Row.DEBIT], row[Row.CREDIT]):
        raise DomainError("cursor_invalid", "the cursor names no transfer of this account")
    return int(row[Row.DEBIT_PREV] if row[Row.DEBIT] == account_id else row[Row.CREDIT_PREV])


def _cursor(account_id: int, ts: int) -> str:
    raw = f"{account_id}:{ts}".encode()
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_cursor(account_id: int, cursor: str) -> int:
    try:
        if not cursor.startswith(_CURSOR_PREFIX) or len(cursor) > 64:
            raise ValueError("not a history cursor")
        body = cursor[len(_CURSOR_PREFIX):]
        owner, ts = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split(":")
        if int(owner) != account_id:
            raise ValueError("another account's cursor")
        return int(ts)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("cursor_invalid", "the cursor is not one this account's history "
                          "gave") from None


def _walk(conn: Connection, account_id: int, start: int) -> Iterator[tuple[Any, ...]]:
    query = select(*_T).where(transfers.c.timestamp == bindparam("ts"))
    ts = start
    while ts:
        row = conn.execute(query, {"ts": ts}).first()
        if row is None:
            raise DomainError("history_broken", f"transfer at {ts} of account {account_id} "
                              "is missing")
        yield tuple(row)
        ts = row[Row.DEBIT_PREV] if row[Row.DEBIT] == account_id else row[Row.CREDIT_PREV]


def _posted(row: tuple[Any, ...], account_id: int, side: Side) -> int:
    start = Row.DEBIT_BALANCES if row[Row.DEBIT] == account_id else Row.CREDIT_BALANCES
    debits_posted, credits_posted = row[start + 1], row[start + 3]
    balance = int(credits_posted - debits_posted)
    return balance if side is Side.CREDIT_NORMAL else -balance


def _shown(conn: Connection, row: tuple[Any, ...], now_ns: int) -> bool:
    flags = row[Row.FLAGS]
    if flags & (TransferFlags.VOID_PENDING | TransferFlags.EXPIRY):
        return False
    if not flags & TransferFlags.PENDING:
        return True
    p = pending_transfers
    hold = conn.execute(select(p.c.state, p.c.expires_at)
                        .where(p.c.timestamp == row[Row.TIMESTAMP])).first()
    return bool(hold is not None and hold.state == PendingState.PENDING
                and (hold.expires_at is None or hold.expires_at > now_ns))


def _item(row: tuple[Any, ...], account_id: int, side: Side, state: str,
          about: Description) -> HistoryItem:
    amount = int(row[Row.AMOUNT])
    credited = row[Row.CREDIT] == account_id
    signed = amount if credited == (side is Side.CREDIT_NORMAL) else -amount
    return HistoryItem(entry_id=row[Row.ID], at_ns=int(row[Row.TIMESTAMP]), state=state,
                       amount_minor=signed, counterparty=about.counterparty,
                       reference=about.reference,
                       balance_after_minor=_posted(row, account_id, side))


def _kept(conn: Connection, account_id: int, side: Side, rows: list[tuple[Any, ...]],
          filters: Filters, describe: Describe) -> list[HistoryItem]:
    if not rows:
        return []
    names = describe(conn, account_id, rows)
    items = [_item(r, account_id, side,
                   "pending" if r[Row.FLAGS] & TransferFlags.PENDING else "booked",
                   names[r[Row.ID]]) for r in rows]
    return [i for i in items if filters.keeps(i)]

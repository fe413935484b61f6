"""How net positions and windows are stored: the rows of each change, the upserts that
write them in a group commit, and the snapshot a batch starts from.

Every write is an upsert, and the totals and reserved amounts are written as increments:
the rows of one batch then commute across statements (the write path flushes statement by
statement, not unit by unit), and within one statement they run in the order queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...adapters.store.schema import net_positions, net_reserved, net_totals, net_windows
from ...domain.clearing.positions import (
    Change,
    Position,
    PositionState,
    TotalsDelta,
    Window,
    WindowState,
)


@dataclass(frozen=True)
class Upserts:
    windows: Executable
    positions: Executable
    totals: Executable
    reserved: Executable

    @property
    def all(self) -> tuple[Executable, ...]:
        return (self.windows, self.positions, self.totals, self.reserved)


_UPSERTS: dict[str, Upserts] = {}


def upserts(dialect: str) -> Upserts:
    """The statements for ``dialect``, made once: a batch groups rows by statement object."""
    made = _UPSERTS.get(dialect)
    if made is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        w, p = insert(net_windows), insert(net_positions)
        t, r = insert(net_totals), insert(net_reserved)
        made = Upserts(
            w.on_conflict_do_update(index_elements=[net_windows.c.id], set_={
                "state": w.excluded.state, "closed_ns": w.excluded.closed_ns,
                "settled_ns": w.excluded.settled_ns}),
            p.on_conflict_do_update(index_elements=[net_positions.c.uetr], set_={
                "state": p.excluded.state, "window_id": p.excluded.window_id,
                "updated_ns": p.excluded.updated_ns}),
            t.on_conflict_do_update(
                index_elements=[net_totals.c.window_id, net_totals.c.participant], set_={
                    "debits": net_totals.c.debits + t.excluded.debits,
                    "credits": net_totals.c.credits + t.excluded.credits}),
            r.on_conflict_do_update(
                index_elements=[net_reserved.c.currency, net_reserved.c.participant],
                set_={"amount": net_reserved.c.amount + r.excluded.amount}))
        _UPSERTS[dialect] = made
    return made


def row_of(statements: Upserts, change: Change, *, currency: str,
           now_ns: int) -> tuple[Executable, dict[str, Any]]:
    if isinstance(change, Window):
        return statements.windows, {
            "id": change.id, "currency": change.currency, "number": change.number,
            "state": str(change.state), "opened_ns": change.opened_ns,
            "closed_ns": change.closed_ns, "settled_ns": change.settled_ns}
    if isinstance(change, Position):
        return statements.positions, {
            "uetr": change.uetr, "window_id": change.window_id, "currency": change.currency,
            "payer": change.payer, "payee": change.payee, "amount": change.amount,
            "state": str(change.state), "created_ns": now_ns, "updated_ns": now_ns}
    if isinstance(change, TotalsDelta):
        return statements.totals, {"window_id": change.window_id,
                                   "participant": change.participant,
                                   "debits": change.debits, "credits": change.credits}
    return statements.reserved, {"currency": currency, "participant": change.participant,
                                 "amount": change.amount}


def window_from(row: Any) -> Window:
    r = row._mapping
    return Window(r["id"], r["currency"], r["number"], WindowState(r["state"]), r["opened_ns"],
                  r["closed_ns"], r["settled_ns"])


def position_from(row: Any) -> Position:
    r = row._mapping
    return Position(r["uetr"], r["payer"], r["payee"], r["amount"], r["currency"],
                    PositionState(r["state"]), r["window_id"])


@dataclass(frozen=True)
class Snapshot:
    """One currency's unsettled windows, their totals and the reserved amounts, as stored."""

    windows: tuple[Window, ...]
    totals: tuple[TotalsDelta, ...]
    reserved: dict[str, int]
    number_max: int


def snapshot(conn: Connection, currency: str) -> Snapshot:
    w = net_windows
    windows = tuple(window_from(r) for r in conn.execute(
        select(w).where(w.c.currency == currency, w.c.state != str(WindowState.SETTLED))))
    number_max = conn.execute(select(func.max(w.c.number)).where(
        w.c.currency == currency)).scalar_one_or_none() or 0
    totals: tuple[TotalsDelta, ...] = ()
    if windows:
        totals = tuple(TotalsDelta(r.window_id, r.participant, r.debits, r.credits)
                       for r in conn.execute(select(net_totals).where(
                           net_totals.c.window_id.in_([x.id for x in windows]))))
    reserved = {r.participant: r.amount for r in conn.execute(
        select(net_reserved).where(net_reserved.c.currency == currency))}
    return Snapshot(windows, totals, reserved, number_max)


def stored_position(conn: Connection, uetr: str) -> Position | None:
    row = conn.execute(select(net_positions).where(net_positions.c.uetr == uetr)).first()
    return position_from(row) if row is not None else None


def stored_window(conn: Connection, wid: str) -> Window | None:
    row = conn.execute(select(net_windows).where(net_windows.c.id == wid)).first()
    return window_from(row) if row is not None else None


def window_totals(conn: Connection, wids: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """Per window, per participant: (debits, credits) committed."""
    found: dict[str, dict[str, tuple[int, int]]] = {wid: {} for wid in wids}
    if wids:
        for r in conn.execute(select(net_totals).where(net_totals.c.window_id.in_(wids))
                              .order_by(net_totals.c.window_id, net_totals.c.participant)):
            found[r.window_id][r.participant] = (r.debits, r.credits)
    return found

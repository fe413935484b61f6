"""What a unit of work sees inside a group commit: one transaction, the ledger, queued
writes and audit events that are written once for the whole batch.

A unit's ``run(batch)`` follows validate-then-write:

    checks (reads through ``batch.conn``; refusals raise DomainError)
    batch.post(chain)          the money, last of the refusable steps
    batch.later(...)           rows to write, grouped into one executemany per statement
    batch.audit(event, then)   the unit's audit entry; ``then(index)`` queues what needs
                               the entry's index (receipts, webhooks, the idempotent answer)

A unit that must write before a refusable step (consuming step-up evidence) asks for a
savepoint; everything else is undone by forgetting what the unit queued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable, Insert

from ...adapters.store import audit_log
from ...adapters.store.ledger_writer import writer_for
from ...domain.audit.leaves import Event
from ...domain.errors import DomainError, InvariantViolation
from ...domain.ledger import Transfer, TransferResult
from ..ledger.batch import LedgerBatch
from ..ledger.engine import NewAccount

Then = Callable[[int], None]


class UnitFailed(Exception):
    """A unit's ``then`` failed while the batch was being written: only a rollback of the
    batch undoes it. The writer fails that unit and runs the others again."""

    def __init__(self, unit: Any, error: BaseException) -> None:
        super().__init__(str(error))
        self.unit = unit
        self.error = error


class LedgerRefused(DomainError):
    """The ledger refused a unit's chain; ``results`` says why, per transfer."""

    def __init__(self, results: list[TransferResult]) -> None:
        failed = sorted({str(r) for r in results if r is not TransferResult.OK})
        code = ("insufficient_funds" if TransferResult.EXCEEDS_CREDITS in results
                else "ledger_refused")
        super().__init__(code, f"the ledger refused the movements: {failed}")
        self.results = results


@dataclass
class _Queued:
    statements: dict[Executable, list[dict[str, Any]]] = field(default_factory=dict)
    counted: set[Executable] = field(default_factory=set)  # each row must change one row
    events: list[tuple[Event, Then | None, Any]] = field(default_factory=list)


INSERT_ROWS_MAX = 500  # rows in one multi-row INSERT on PostgreSQL
_PLAIN = (str, int, bytes, type(None))


def _plain_rows(rows: list[dict[str, Any]]) -> bool:
    """Rows of the same columns holding only values the driver sends as they are."""
    keys = rows[0].keys()
    return all(r.keys() == keys and all(isinstance(v, _PLAIN) for v in r.values())
               for r in rows)


def _insert_rows(conn: Connection, statement: Insert, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT per INSERT_ROWS_MAX rows, on the driver: PostgreSQL parses,
    plans and runs every statement on its own, so a statement per row (executemany)
    costs the server most of a batch's time."""
    columns = list(rows[0])
    one = "(" + ",".join(["%s"] * len(columns)) + ")"
    head = f"INSERT INTO {statement.table.name} ({', '.join(columns)}) VALUES "  # type: ignore[attr-defined]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for start in range(0, len(rows), INSERT_ROWS_MAX):
        chunk = rows[start:start + INSERT_ROWS_MAX]
        cursor.execute(head + ",".join([one] * len(chunk)),
                       [row[c] for row in chunk for c in columns])


class Batch:
    """One group commit's transaction, shared by its units in order."""

    def __init__(self, conn: Connection, *, now_ns: int, units: Sequence[Any] = ()) -> None:
        self.conn = conn
        self.units = units  # the batch's units in order, for reads they share
        self.now_ns = now_ns
        self.ledger = LedgerBatch(writer_for(conn.dialect.name, conn.connection), now_ns=now_ns)
        self.cache: dict[str, Any] = {}  # per-batch reads units share (versions, merchants)
        self._queued = _Queued()
        self._mark: tuple[dict[Executable, int], int] | None = None
        self._unit: Any = None
        self.posted = False  # the current unit's chain is in the ledger: it cannot be undone

    # -- used by the writer --------------------------------------------------------------

    def load(self, chains: Sequence[Sequence[Transfer]], accounts: Sequence[NewAccount]) -> None:
        self.ledger.load(chains, accounts)

    def begin_unit(self, unit: Any) -> None:
        self._unit = unit
        self.posted = False
        self._mark = ({s: len(rows) for s, rows in self._queued.statements.items()},
                      len(self._queued.events))

    def forget_unit(self) -> None:
        """Drop what the refused unit queued (its chain, if any, never reached the ledger)."""
        if self._mark is None:
            raise InvariantViolation("forgetting a unit that was never begun")
        lengths, events = self._mark
        for statement, rows in list(self._queued.statements.items()):
            del rows[lengths.get(statement, 0):]
            if not rows:
                del self._queued.statements[statement]
        del self._queued.events[events:]

    def flush(self, *, actor: str) -> None:
        """Write the ledger, then every unit's audit entry, then what needed its index."""
        events = self.ledger.flush(at_ns=self.now_ns, actor=actor)
        units = self._queued.events
        indexes = audit_log.append(audit_log.driver(self.conn),
                                   events + [event for event, _, _ in units])
        for (_, then, unit), index in zip(units, indexes[len(events):], strict=True):
            if then is None:
                continue
            try:
                then(index)
            except InvariantViolation:
                raise
            except Exception as exc:  # noqa: BLE001 - its unit fails; the batch rolls back
                raise UnitFailed(unit, exc) from exc
        postgres = self.conn.dialect.name == "postgresql"
        for statement, rows in self._queued.statements.items():
            if postgres and isinstance(statement, Insert) and _plain_rows(rows):
                _insert_rows(self.conn, statement, rows)
                continue
            changed = self.conn.execute(statement, rows).rowcount
            if statement in self._queued.counted and changed != len(rows):
                raise InvariantViolation(f"{len(rows)} rows of a batch changed {changed}: a row "
                                         "was written behind the write path's lock")

    # -- used by units -------------------------------------------------------------------

    def post(self, chain: Sequence[Transfer]) -> None:
        """Apply the unit's chain; raises :class:`LedgerRefused` leaving no trace."""
        if not chain:
            return
        results = self.ledger.apply(chain)
        if any(r is not TransferResult.OK for r in results):
            raise LedgerRefused(results)
        self.posted = True

    def later(self, statement: Executable, row: dict[str, Any], *, counted: bool = False) -> None:
        """Queue ``row`` for ``statement`` (the same object each time, so rows group);
        ``counted``: the statement must change exactly one row per queued row."""
        self._queued.statements.setdefault(statement, []).append(row)
        if counted:
            self._queued.counted.add(statement)

    def audit(self, event: Event, then: Then | None = None) -> None:
        self._queued.events.append((event, then, self._unit))

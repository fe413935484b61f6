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

from sqlalchemy import Connection, Executable

from ...adapters.store import audit_log
from ...adapters.store.ledger_writer import Read, writer_for
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


_PLAIN = (str, int, bytes, type(None))
_COMPILED: dict[tuple[Executable, tuple[str, ...]], str] = {}
# SQLite's driver takes positional parameters: the SQL and the order of its names.
_POSITIONAL: dict[tuple[Executable, tuple[str, ...]], tuple[str, tuple[str, ...]] | None] = {}


def _plain_rows(rows: list[dict[str, Any]]) -> bool:
    """Rows of the same columns holding only values the driver sends as they are."""
    keys = rows[0].keys()
    if not all(r.keys() == keys for r in rows):
        return False
    kinds = {type(v) for r in rows for v in r.values()}  # a few types, however many values
    return all(issubclass(kind, _PLAIN) for kind in kinds)


def _driver_sql(conn: Connection, statement: Executable, columns: tuple[str, ...]) -> str:
    """``statement`` compiled once for the driver (named parameters): SQLAlchemy's compile
    and result set-up cost more CPU per batch than the statement's own round trip."""
    key = (statement, columns)
    sql = _COMPILED.get(key)
    if sql is None:
        sql = str(statement.compile(dialect=conn.dialect,  # type: ignore[attr-defined]
                                    column_keys=list(columns)))
        _COMPILED[key] = sql
    return sql


def _positional(conn: Connection, statement: Executable,
                columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """SQLite: ``statement`` compiled once for the driver, with the order of its
    parameters; None when it needs a parameter the rows do not give (a Python-side
    default), which SQLAlchemy then fills. Per row, SQLAlchemy's parameter processing
    cost more CPU than SQLite's insert (a screening writes ~10 rows)."""
    key = (statement, columns)
    if key not in _POSITIONAL:
        compiled = statement.compile(dialect=conn.dialect,  # type: ignore[attr-defined]
                                     column_keys=list(columns))
        names = tuple(compiled.positiontup or ())
        _POSITIONAL[key] = (str(compiled), names) if set(names) <= set(columns) else None
    return _POSITIONAL[key]


class Batch:
    """One group commit's transaction, shared by its units in order."""

    def __init__(self, conn: Connection, *, now_ns: int, units: Sequence[Any] = ()) -> None:
        self.conn = conn
        self.units = units  # the batch's units in order, for reads they share
        self.now_ns = now_ns
        self._postgres = conn.dialect.name == "postgresql"
        self.ledger = LedgerBatch(writer_for(conn.dialect.name, conn.connection,
                                             pipelined=self._postgres), now_ns=now_ns)
        self.reads: dict[str, list[Any]] = {}  # rows of the units' prefetch, by key
        self.cache: dict[str, Any] = {}  # per-batch reads units share (versions, merchants)
        self._queued = _Queued()
        self._mark: tuple[dict[Executable, int], int] | None = None
        self._unit: Any = None
        self.posted = False  # the current unit's chain is in the ledger: it cannot be undone

    # -- used by the writer --------------------------------------------------------------

    def load(self, chains: Sequence[Sequence[Transfer]], accounts: Sequence[NewAccount]) -> None:
        """Lock the ledger and read what the chains need, and what the units ask to read up
        front (``prefetch``; ``self.reads``): on PostgreSQL all in one round trip."""
        reads: dict[str, Read] = {}
        for kind in dict.fromkeys(type(u) for u in self.units):
            prefetch = getattr(kind, "prefetch", None)
            if prefetch is not None:
                reads.update(prefetch([u for u in self.units if type(u) is kind],
                                      postgres=self._postgres))
        self.reads = self.ledger.load(chains, accounts, reads)

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
        if self._postgres:
            self._flush_pipelined(actor)
            return
        events = self.ledger.flush(at_ns=self.now_ns, actor=actor)
        indexes = audit_log.append(audit_log.driver(self.conn),
                                   events + [event for event, _, _ in self._queued.events])
        self._then(indexes[len(events):])
        for statement, rows in self._queued.statements.items():
            plain = _plain_rows(rows) and _positional(self.conn, statement, tuple(rows[0]))
            if plain:
                sql, names = plain
                cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cursor.executemany(sql, [tuple(r[n] for n in names) for r in rows])
                changed = cursor.rowcount
            else:
                changed = self.conn.execute(statement, rows).rowcount
            self._checked(statement, rows, changed)

    def _flush_pipelined(self, actor: str) -> None:
        """PostgreSQL, in two pipelines of one round trip each: (1) the ledger's rows, the
        rows that must each change one row, and the audit reservation; (2) once every unit's
        ``then`` has its index, the audit entries, the other rows and the commit (which the
        caller's commit then finds done). Nothing commits unless every statement before
        the commit succeeded: in a pipeline, an error skips the rest up to the sync."""
        driver: Any = self.conn.connection.driver_connection
        sql = audit_log.driver(self.conn)
        statements = self._queued.statements
        late: list[Executable] = []
        with driver.pipeline():
            events = self.ledger.flush(at_ns=self.now_ns, actor=actor)
            sent = [(s, rows, self._send(driver, s, rows)) for s, rows in statements.items()
                    if s in self._queued.counted and _plain_rows(rows)]
            leaves = events + [event for event, _, _ in self._queued.events]
            reserved = audit_log.send_reserve(driver, len(leaves)) if leaves else None
        start, known = reserved() if reserved is not None else (0, {})
        for statement, rows, cursor in sent:
            self._checked(statement, rows, cursor.rowcount)
        self._then(list(range(start + len(events), start + len(leaves))))
        done = {s for s, _, _ in sent}
        with driver.pipeline():
            if leaves:
                audit_log.write(sql, start, leaves, known)
            for statement, rows in statements.items():
                if statement in done:
                    continue
                if statement in self._queued.counted or not _plain_rows(rows):
                    late.append(statement)
                    continue
                self._send(driver, statement, rows)
            if not late:
                driver.commit()  # in the same round trip; the caller's commit finds it done
        for statement in late:  # not plain, or queued by a then: through SQLAlchemy, checked
            rows = statements[statement]
            self._checked(statement, rows, self.conn.execute(statement, rows).rowcount)

    def _send(self, driver: Any, statement: Executable, rows: list[dict[str, Any]]) -> Any:
        cursor = driver.cursor()
        cursor.executemany(_driver_sql(self.conn, statement, tuple(rows[0])), rows)
        return cursor

    def _checked(self, statement: Executable, rows: list[dict[str, Any]], changed: int) -> None:
        if statement in self._queued.counted and changed != len(rows):
            raise InvariantViolation(f"{len(rows)} rows of a batch changed {changed}: a row "
                                     "was written behind the write path's lock")

    def _then(self, indexes: list[int]) -> None:
        for (_, then, unit), index in zip(self._queued.events, indexes, strict=True):
            if then is None:
                continue
            try:
                then(index)
            except InvariantViolation:
                raise
            except Exception as exc:
                raise UnitFailed(unit, exc) from exc

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

    def queued(self, statement: Executable) -> Sequence[dict[str, Any]]:
        """The rows queued so far for ``statement``, in order (a refused unit's are gone):
        what a unit needs to see of the earlier units of its batch, unwritten until flush."""
        return self._queued.statements.get(statement, ())

    def audit(self, event: Event, then: Then | None = None) -> None:
        self._queued.events.append((event, then, self._unit))

"""The reads every group-commit batch makes search an index on SQLite, whatever the
tables hold: SQLite scans a whole table for a row value ``IN`` a list of values, so an
append to the audit log once read every stored node, and grew slower with the log."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from paywarden.adapters.store import audit_log, open_database
from paywarden.domain.audit.leaves import Event
from paywarden.services.certification.selling import standing_read
from paywarden.services.payments.checkouts import orders_read
from paywarden.services.payments.units import stored_read


class Recording(audit_log.Sql):
    """The driver statements an append sends, with their parameters."""

    def __init__(self, connection: Any) -> None:
        super().__init__(connection, "sqlite")
        self.selects: list[tuple[str, tuple[Any, ...]]] = []

    def rows(self, sql: str, params: Any = ()) -> list[Any]:
        if sql.lstrip().upper().startswith("SELECT"):
            self.selects.append((sql, tuple(params)))
        return super().rows(sql, params)


def _plan(raw: Any, sql: str, params: tuple[Any, ...]) -> list[str]:
    return [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.fixture
def raw() -> Any:
    with tempfile.TemporaryDirectory() as directory:
        database = open_database(f"sqlite:///{Path(directory) / 'plans.db'}")
        database.migrate()
        connection = database.engine.raw_connection()
        try:
            yield connection.driver_connection
        finally:
            connection.close()
            database.dispose()


def test_an_audit_append_reads_the_frontier_by_the_primary_key(raw: Any) -> None:
    sql = Recording(raw)
    for n in range(1, 12):  # sizes with frontiers of one to three nodes
        audit_log.append(sql, [Event(at_ns=n, actor="test", action="test.plan",
                                     object_id=f"obj-{n}")])
        raw.commit()
    frontier = [s for s in sql.selects if "audit_nodes" in s[0]]
    assert frontier, "the appends read no stored node: nothing was checked"
    for statement, params in frontier:
        plan = _plan(raw, statement, params)
        assert not any(step.startswith("SCAN audit_nodes") for step in plan), plan
        assert any("audit_nodes USING" in step for step in plan), plan


@pytest.mark.parametrize(("table", "read"), [  # the table as the plan names it
    ("checkout_sessions", orders_read([("mer_1", "order-1"), ("mer_2", "order-2")],
                                      postgres=False)),
    ("m", standing_read(["mer_1", "mer_2"], postgres=False)),
    ("payments", stored_read(["pay_1", "pay_2"], postgres=False)),
])
def test_a_batch_prefetch_searches_an_index(raw: Any, table: str,
                                            read: tuple[str, tuple[Any, ...]]) -> None:
    statement, params = read
    plan = _plan(raw, statement, params)
    assert not any(step.startswith(f"SCAN {table}") for step in plan), plan
    assert any(step.startswith(f"SEARCH {table} USING") for step in plan), plan

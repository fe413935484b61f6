"""The risk engine's compiled reads (services/risk/reads.py, decision 0037): statements
compiled once and run on connections of their own, which take no place in the platform's
pool, come back after every screening, and are replaced when they break."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import bindparam, insert, select

from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import risk_events
from paywarden.services.risk.reads import Reads, ReadsBusy, one_of

EVENTS = select(risk_events.c.key, risk_events.c.amount).where(
    risk_events.c.key.in_(one_of(["customer:a", "customer:b"])),
    risk_events.c.at >= bindparam("since")).order_by(risk_events.c.at).limit(10)


def seed(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(insert(risk_events), [
            {"key": k, "decision_id": f"rsk_{i:024d}", "at": i, "amount": 100 + i}
            for i, k in enumerate(["customer:a", "customer:b", "customer:c", "customer:a"])])


def test_a_compiled_read_answers_with_literal_lists_and_its_own_limit(
        database: Database) -> None:
    seed(database)
    reads = Reads(database, deadline_ms=1_000)
    try:
        with reads.lent():
            assert reads.rows(EVENTS, {"since": 1}) == [("customer:b", 101), ("customer:a", 103)]
            assert reads.scalar(EVENTS, {"since": 99}) is None
    finally:
        reads.close()


def test_an_expanding_list_a_write_and_a_read_outside_a_loan_are_refused(
        database: Database) -> None:
    reads = Reads(database, deadline_ms=1_000)
    try:
        expanding = select(risk_events.c.key).where(risk_events.c.key.in_(["x", "y"]))
        with reads.lent(), pytest.raises(TypeError, match="one_of"):
            reads.rows(expanding, {})
        with pytest.raises(RuntimeError, match="outside"):
            reads.rows(EVENTS, {"since": 0})
    finally:
        reads.close()


def test_the_reads_take_no_place_in_the_pool_and_lend_at_most_their_own(
        database: Database) -> None:
    reads = Reads(database, deadline_ms=200, connections_max=2)
    held, release = threading.Barrier(3), threading.Event()

    def hold() -> None:
        with reads.lent():
            reads.rows(EVENTS, {"since": 0})
            held.wait()
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        held.wait()
        # both lent: a third waits the deadline, then gives up
        with pytest.raises(ReadsBusy), reads.lent():
            pass
        checked_out = database.engine.pool.checkedout()  # type: ignore[attr-defined]
        assert checked_out == 0, "the reads hold places in the platform's pool"
    finally:
        release.set()
        for t in threads:
            t.join()
        reads.close()


def test_a_broken_connection_is_dropped_and_the_next_screening_reconnects(
        database: Database) -> None:
    seed(database)
    reads = Reads(database, deadline_ms=1_000, connections_max=1)
    try:
        with reads.lent():
            reads._local.conn.close()  # the server went away under it
            with pytest.raises(database.engine.dialect.loaded_dbapi.Error):
                reads.rows(EVENTS, {"since": 0})
        with reads.lent():
            assert len(reads.rows(EVENTS, {"since": 0})) == 3
    finally:
        reads.close()

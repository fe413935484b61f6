"""SQLite: the WAL is checkpointed by the engine's own thread, and stays bounded."""

from __future__ import annotations

import gc
import sqlite3
import time

import pytest

from paywarden.adapters.store import Database
from paywarden.domain.ledger import Transfer
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.checkpointer import FALLBACK_PAGES
from paywarden.services.ledger.engine import _gc_paused

EUR = 978


@pytest.fixture
def sqlite_engine(engine: LedgerEngine, database: Database) -> LedgerEngine:
    if database.dialect != "sqlite":
        pytest.skip("WAL checkpoints are SQLite's")
    engine.create_accounts([NewAccount(1, EUR, 1), NewAccount(2, EUR, 1)]).result()
    return engine


def transfers_in_the_database_file(database: Database) -> int:
    """Transfers copied back from the WAL: the file read as if it had no WAL."""
    assert database.file is not None
    conn = sqlite3.connect(f"file:{database.file.path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM transfers").fetchone()[0])
    finally:
        conn.close()


def test_the_writer_checks_the_wal_in_only_at_its_fallback(sqlite_engine: LedgerEngine) -> None:
    writer = sqlite_engine._writer
    assert writer is not None
    (pages,) = writer.conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    assert pages == FALLBACK_PAGES


def test_committed_batches_are_copied_back_by_the_checkpointer(
        sqlite_engine: LedgerEngine, database: Database) -> None:
    for i in range(5):
        sqlite_engine.execute([Transfer(f"t{i}", 1, 2, 10, EUR, 1)])
    deadline = time.monotonic() + 10
    while transfers_in_the_database_file(database) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert transfers_in_the_database_file(database) == 5


def test_stopping_ends_the_thread_and_returns_the_connection_as_it_came(
        sqlite_engine: LedgerEngine, database: Database) -> None:
    writer = sqlite_engine._writer
    checkpointer = sqlite_engine._checkpointer
    assert writer is not None and checkpointer is not None
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    conn = writer.conn
    sqlite_engine.stop()
    assert not thread.is_alive()
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)


def test_a_paused_collector_stays_paused_and_a_running_one_resumes() -> None:
    assert gc.isenabled()
    with _gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

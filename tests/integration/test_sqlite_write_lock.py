"""SQLite: a unit of work that may write takes the write lock at BEGIN; reads do not.

Before, every transaction began deferred: one that read, then wrote after another
writer had committed, failed at once with "database is locked" (SQLite cannot move
a read snapshot forward, and does not wait). And a thread that opened a second
writing transaction while holding one waited for itself until the busy timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.crypto import LocalMasterKey
from paywarden.adapters.store import Database, NestedWriteTransaction, open_database
from paywarden.adapters.store.schema import key_versions
from paywarden.services.keys import Keys
from paywarden.services.keys.purposes import DATA, RECEIPTS

WAIT_S = 10


@pytest.fixture
def sqlite(tmp_path: object) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path}/paywarden.db")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield db
    db.dispose()


def _count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one())


def test_a_unit_of_work_that_reads_then_writes_waits_for_a_concurrent_writer(
        sqlite: Database) -> None:
    read_done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        read_done.wait(WAIT_S)
        try:
            with sqlite.engine.begin() as conn:  # waits for the lock the first one holds
                conn.execute(text("UPDATE counter SET n = n + 100 WHERE id = 1"))
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    with sqlite.engine.begin() as conn:
        n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
        read_done.set()
        time.sleep(0.2)  # the other writer tries now; before, it committed here
        conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
    thread.join(WAIT_S)
    assert errors == []
    assert _count(sqlite) == 101  # both increments, serialised


def test_a_read_does_not_queue_behind_a_held_write_lock(sqlite: Database) -> None:
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with sqlite.engine.begin() as conn:
            conn.execute(text("UPDATE counter SET n = 7 WHERE id = 1"))
            holding.set()
            release.wait(WAIT_S)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(WAIT_S)
        started = time.monotonic()
        assert _count(sqlite) == 0  # the committed state, at once
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        thread.join(WAIT_S)
    assert _count(sqlite) == 7


def test_a_second_writing_transaction_in_the_same_thread_is_refused_at_once(
        sqlite: Database) -> None:
    started = time.monotonic()
    with sqlite.engine.begin() as outer:
        outer.execute(text("UPDATE counter SET n = 1 WHERE id = 1"))
        assert sqlite.write_transaction() is outer
        with pytest.raises(NestedWriteTransaction), sqlite.engine.begin():
            pass  # before: a wait for itself until the busy timeout (30 s)
        with sqlite.engine.connect() as reader:  # reading beside it is fine
            assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
    assert time.monotonic() - started < 5
    assert sqlite.write_transaction() is None
    assert _count(sqlite) == 1


def test_another_database_object_on_the_same_file_counts_as_the_same_lock(
        sqlite: Database) -> None:
    other = open_database(sqlite.url)
    try:
        with sqlite.engine.begin(), pytest.raises(NestedWriteTransaction), \
                other.engine.begin():
            pass
    finally:
        other.dispose()


def _keys(database: Database, clock: FakeClock) -> Keys:
    return Keys(database, clock=clock, master=LocalMasterKey(b"k" * 32),
                cryptoperiod_data_days=365, cryptoperiod_signing_days=180,
                publish_retired_days=30, cache_s=60)


def _versions(database: Database, purpose: str) -> int:
    with database.engine.connect() as conn:
        return len(conn.execute(select(key_versions.c.version)
                                .where(key_versions.c.purpose == purpose)).all())


def test_a_first_key_used_under_a_write_transaction_is_made_in_it(database: Database,
                                                                    clock: FakeClock) -> None:
    """Before, the keyring made it in a transaction of its own: on SQLite that one waited
    for the caller's lock until the busy timeout, then failed."""
    keys = _keys(database, clock)
    started = time.monotonic()
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_state SET version = version WHERE id = 1"))
        sealed = keys.seal(b"alice", table="users", column="email_sealed", row_id="u1")
        assert keys.open(sealed, table="users", column="email_sealed", row_id="u1") == b"alice"
        signer = keys.signer(RECEIPTS)
        assert keys.signer(RECEIPTS).key_id == signer.key_id  # the same key, found again
    assert time.monotonic() - started < 10
    assert _versions(database, DATA) == 1 and _versions(database, RECEIPTS) == 1
    assert keys.open(sealed, table="users", column="email_sealed", row_id="u1") == b"alice"
    assert keys.signer(RECEIPTS).key_id == signer.key_id


def test_a_first_key_made_in_a_transaction_that_rolls_back_is_forgotten(
        database: Database, clock: FakeClock) -> None:
    keys = _keys(database, clock)
    with pytest.raises(RuntimeError), database.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_state SET version = version WHERE id = 1"))
        lost = keys.signer(RECEIPTS).key_id
        keys.seal(b"x", table="t", column="c", row_id=1)
        raise RuntimeError("the caller fails")
    made_in_transaction = database.dialect == "sqlite"
    assert _versions(database, RECEIPTS) == (0 if made_in_transaction else 1)
    again = keys.signer(RECEIPTS).key_id
    assert (again != lost) is made_in_transaction  # nothing cached named the lost key
    assert _versions(database, RECEIPTS) == 1

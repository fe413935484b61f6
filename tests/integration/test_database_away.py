"""A PostgreSQL server that goes away and comes back (a failover, decision 0065): the
ledger writer's connection is cut under it, the batch is answered
``DatabaseUnavailable`` (the API's 503 ``database_unavailable``), the writer connects
again, a retry under the same ids is answered ``exists`` for what committed, and nothing
is applied twice. The API answers 503 with Retry-After while the database is away.
PostgreSQL only: SQLite has no server to lose."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from paywarden.adapters.store import Database, DatabaseUnavailable
from paywarden.domain.ledger import Transfer, TransferResult
from paywarden.services.ledger import LedgerEngine, NewAccount

EUR = 978


@pytest.fixture
def pg(database: Database) -> Database:
    if database.dialect != "postgresql":
        pytest.skip("a server to lose: PostgreSQL only")
    return database


def _cut(database: Database) -> int:
    """Terminate every other backend on the database (what a failover does to them)."""
    admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    return int(cut)


@pytest.fixture
def accounts(pg: Database, engine: LedgerEngine) -> tuple[int, int]:
    debit, credit = secrets.randbits(60) + 1, secrets.randbits(60) + 1
    engine.wait(engine.create_accounts([NewAccount(debit, EUR, 1), NewAccount(credit, EUR, 1)]))
    return debit, credit


def test_the_ledger_writer_connects_again_and_a_retry_applies_once(
        pg: Database, engine: LedgerEngine, accounts: tuple[int, int]) -> None:
    debit, credit = accounts
    first = [Transfer("away-1", debit, credit, 5, EUR, 1)]
    assert engine.execute(first) == [TransferResult.OK]

    assert _cut(pg) >= 1  # the writer's own connection among them
    batch = [Transfer("away-1", debit, credit, 5, EUR, 1),
             Transfer("away-2", debit, credit, 7, EUR, 1)]
    with pytest.raises(DatabaseUnavailable):
        engine.execute(batch)
    assert engine.running  # not a dead writer: it connects again for the next batch

    assert engine.execute(batch) == [TransferResult.EXISTS, TransferResult.OK]
    assert engine.execute(batch) == [TransferResult.EXISTS, TransferResult.EXISTS]
    with pg.engine.connect() as conn:
        posted = conn.execute(text("SELECT debits_posted FROM accounts WHERE id = :id"),
                              {"id": debit}).scalar_one()
    assert posted == 12


@pytest.fixture
def client(pg: Database, tmp_path: object) -> Iterator[TestClient]:
    from paywarden.api import create_app
    from paywarden.bootstrap import build
    from paywarden.settings import Settings

    platform = build(Settings(database_url=pg.url, data_dir=tmp_path), database=pg)
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_api_answers_503_while_the_database_is_away(
        pg: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/health/ready").status_code == 200

    def away(*_args: object, **_kwargs: object) -> None:
        raise psycopg.OperationalError("connection refused: no primary")

    _cut(pg)
    monkeypatch.setattr(pg.engine.pool, "_do_get", away)  # no connection can be made
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"]

    answer = client.post("/v1/auth/passkeys/signin/options", json={"username": "someone"})
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "database_unavailable"
    assert answer.headers["Retry-After"]

    monkeypatch.undo()
    assert client.get("/health/ready").status_code == 200


def test_reconnection_backs_off_while_there_is_no_primary(
        pg: Database, engine: LedgerEngine, accounts: tuple[int, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    debit, credit = accounts
    attempts: list[float] = []

    def no_primary(_self: Database) -> object:
        attempts.append(time.monotonic())
        raise psycopg.OperationalError("connection refused: no primary")

    # No primary from before the cut: had another batch met the cut connection first and
    # the writer connected again before this test's batch, that batch would succeed (CI).
    monkeypatch.setattr(Database, "raw_connection", no_primary)
    _cut(pg)
    with pytest.raises(DatabaseUnavailable):  # meets the cut connection, or no primary
        engine.execute([Transfer("gone-1", debit, credit, 1, EUR, 1)])
    for i in range(5):  # at once, again and again: one attempt, the rest wait for it
        with pytest.raises(DatabaseUnavailable):
            engine.execute([Transfer(f"gone-{i + 2}", debit, credit, 1, EUR, 1)])
    assert len(attempts) == 1
    time.sleep(0.25)  # past the first wait: one more attempt, and the wait doubles
    with pytest.raises(DatabaseUnavailable):
        engine.execute([Transfer("gone-7", debit, credit, 1, EUR, 1)])
    assert len(attempts) == 2

    monkeypatch.undo()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the primary is back: within the wait, it serves
        try:
            assert engine.execute([Transfer("back-1", debit, credit, 1, EUR, 1)]) == [
                TransferResult.OK]
            break
        except DatabaseUnavailable:
            time.sleep(0.05)
    else:
        pytest.fail("the writer did not connect again")

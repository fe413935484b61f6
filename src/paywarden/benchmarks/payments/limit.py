"""The reference: bare one-row durable commits, as many clients as the flows had.

Each client has a connection of its own, opened by paywarden's ``open_database``
(SQLite: WAL, ``synchronous=FULL``, the same busy timeout; PostgreSQL: the same
server and defaults), and repeats: begin (SQLite: ``BEGIN IMMEDIATE``, the
write lock a payment transition takes), insert one row, commit. No ledger, no
sealing, no audit: what the storage gives, the ceiling of one commit per transition.

On SQLite the clients take turns through a lock in the process: left to SQLite's
busy handler, which sleeps for milliseconds between tries, 16 writers reach a
small fraction of what the disk commits, and the reference would flatter the
payment path. A lock hands the write lock on at once, as one process would.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.progress import Progress
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, func, select

from ...adapters.store import Database, open_database
from .load import Recorder, Unit, quantile_ms, run_clients

TABLE = Table("bench_commit_limit", MetaData(),
              Column("id", Integer, primary_key=True, autoincrement=True),
              Column("client", Integer, nullable=False),
              Column("at_ns", BigInteger, nullable=False))


def _committer(database: Database, client: int, turns: threading.Lock) -> tuple[Unit, Any]:
    proxy = database.raw_connection()
    conn = proxy.driver_connection
    if database.dialect == "sqlite":
        sql = "INSERT INTO bench_commit_limit (client, at_ns) VALUES (?, ?)"

        def commit(rec: Recorder) -> None:
            def once() -> None:
                with turns:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(sql, (client, time.time_ns()))
                    conn.execute("COMMIT")

            rec.transition("commit", once)
    else:
        sql = "INSERT INTO bench_commit_limit (client, at_ns) VALUES (%s, %s)"
        conn.rollback()  # start from a clean transaction state

        def commit(rec: Recorder) -> None:
            def once() -> None:
                with conn.cursor() as cur:
                    cur.execute(sql, (client, time.time_ns()))
                conn.commit()

            rec.transition("commit", once)

    return commit, proxy


def measure_commit_limit(url: str, *, clients: int, seconds: float, progress: Progress,
                         label: str) -> dict[str, Any]:
    # One Database per client: a connection each, whatever the size of the pool.
    databases = [open_database(url) for _ in range(clients)]
    proxies: list[Any] = []
    try:
        TABLE.create(databases[0].engine)
        units = []
        turns = threading.Lock()
        for client, database in enumerate(databases):
            unit, proxy = _committer(database, client, turns)
            units.append(unit)
            proxies.append(proxy)
        result = run_clients(units, seconds=seconds, warmup_units=1, progress=progress,
                             label=label)
        with databases[0].engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(TABLE)).scalar_one()
    finally:
        for proxy in proxies:
            proxy.close()
        for database in databases:
            database.dispose()
    committed = result.transitions() + clients  # and one warm-up commit each
    if result.errors or stored != committed:
        raise RuntimeError(f"{label}: {stored} rows stored, {committed} committed, "
                           f"{result.errors} errors {result.error_kinds}")
    latencies = result.recorded.transitions_s.get("commit", [])
    return {"commit_limit_s": result.transitions() / result.seconds,
            "commit_p50_ms": quantile_ms(latencies, 0.5),
            "commit_p99_ms": quantile_ms(latencies, 0.99),
            "commit_limit_seconds": result.seconds}


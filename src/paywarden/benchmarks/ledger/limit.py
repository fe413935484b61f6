"""The reference: a bare ``executemany`` of the engine's own rows, no ledger logic."""

from __future__ import annotations

import time
from typing import Any

from rich.progress import Progress

from ...adapters.store import open_database
from ...domain.ledger import TRANSFER_COLUMNS


def _limit_table(name: str, indexed: bool) -> Any:
    """A table with the columns of ``transfers``; with its PK and unique index if ``indexed``."""
    from sqlalchemy import Column, MetaData, Table, UniqueConstraint

    from ...adapters.store.schema import transfers

    columns = []
    for c in transfers.columns:
        if indexed:
            columns.append(
                Column(
                    c.name,
                    c.type,
                    primary_key=c.primary_key,
                    nullable=c.nullable,
                    autoincrement=False,
                )
            )
        else:
            columns.append(Column(c.name, c.type))
    extra = [UniqueConstraint("id", name=f"uq_{name}_id")] if indexed else []
    if [c.name for c in transfers.columns] != list(TRANSFER_COLUMNS):
        raise AssertionError("schema.transfers and TRANSFER_COLUMNS disagree")
    return Table(name, MetaData(), *columns, *extra)


def measure_limit(
    url: str, rows: list[list[tuple[Any, ...]]], indexed: bool, progress: Progress, label: str
) -> dict[str, Any]:
    db = open_database(url)
    total = sum(len(b) for b in rows)
    name = "limit_indexed" if indexed else "limit_plain"
    try:
        table = _limit_table(name, indexed)
        table.metadata.create_all(db.engine)
        proxy = db.raw_connection()
        try:
            conn = proxy.driver_connection
            columns = ", ".join(TRANSFER_COLUMNS)
            task = progress.add_task(label, total=total)
            if db.dialect == "sqlite":
                marks = ",".join("?" * len(TRANSFER_COLUMNS))
                sql = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
                started = time.perf_counter()
                for batch in rows:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(sql, batch)
                    conn.execute("COMMIT")
                    progress.advance(task, len(batch))
                elapsed = time.perf_counter() - started
            else:
                marks = ", ".join(["%s"] * len(TRANSFER_COLUMNS))
                sql = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
                conn.rollback()  # start from a clean transaction state
                started = time.perf_counter()
                with conn.cursor() as cur:
                    for batch in rows:
                        cur.executemany(sql, batch)
                        conn.commit()
                        progress.advance(task, len(batch))
                elapsed = time.perf_counter() - started
            progress.stop_task(task)
            cur = conn.cursor()
            cur.execute(f"SELECT count(*) FROM {name}")
            (count,) = cur.fetchone()
            cur.close()
            if db.dialect != "sqlite":
                conn.rollback()
        finally:
            proxy.close()
        if int(count) != total:
            raise AssertionError(f"{label}: {count} rows stored, {total} inserted")
    finally:
        db.dispose()
    return {"tps": total / elapsed, "seconds": elapsed}

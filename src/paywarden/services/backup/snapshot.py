"""A consistent snapshot of a live database, with its row counts and tree head.

- SQLite: a read transaction is opened on a source connection and held while the
  backup API copies the pages into a 0600 scratch file next to the backup, a
  step at a time (for progress). Holding the transaction pins one WAL snapshot,
  so the copy never restarts however fast the platform writes, and writers are
  not blocked. Row counts and the tree head are then read from the copy itself.
- PostgreSQL: a REPEATABLE READ, READ ONLY transaction exports its snapshot
  (``pg_export_snapshot()``), reads the row counts and tree head, and stays open
  while ``pg_dump --snapshot`` streams a custom-format dump of exactly that state.

Either way the caller gets the counts, the head and a stream of bytes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ...adapters.store import Database
from . import auditing, pgtools
from .archive import temp_path
from .errors import SnapshotFailed

SQLITE_STEP_PAGES = 1_024
SQLITE_BUSY_TIMEOUT_S = 30.0
CHUNK_BYTES = 1024 * 1024
STDERR_SHOWN_BYTES_MAX = 2_000

PageProgress = Callable[[int, int], None]  # (pages copied, pages in all)


@dataclass
class Snapshot:
    rows: dict[str, int]
    tree_head: dict[str, Any] | None
    size_hint: int | None  # bytes the stream will yield, when known
    chunks: Iterator[bytes]


def read_state(conn: Connection) -> tuple[dict[str, int], dict[str, Any] | None]:
    """Row counts of every table and the latest signed tree head, as ``conn`` sees them."""
    return count_rows(conn), auditing.latest_head(conn)


def count_rows(conn: Connection) -> dict[str, int]:
    quote = conn.dialect.identifier_preparer.quote
    return {name: int(conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())
            for name in sorted(inspect(conn).get_table_names())}


def sqlite_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise SnapshotFailed("an in-memory SQLite database has nothing to back up")
    return Path(name).resolve()


@contextlib.contextmanager
def sqlite_snapshot(database: Database, *, near: Path,
                    progress: PageProgress | None = None) -> Iterator[Snapshot]:
    scratch = temp_path(near, "snapshot")
    try:
        _copy_pages(sqlite_path(database.url), scratch, progress)
        engine = create_engine(f"sqlite:///{scratch}", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                rows, head = read_state(conn)
        finally:
            engine.dispose()
        yield Snapshot(rows=rows, tree_head=head, size_hint=scratch.stat().st_size,
                       chunks=_file_chunks(scratch))
    finally:
        scratch.unlink(missing_ok=True)
        Path(f"{scratch}-journal").unlink(missing_ok=True)


def _copy_pages(source: Path, target: Path, progress: PageProgress | None) -> None:
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pins the snapshot
        src.backup(dst, pages=SQLITE_STEP_PAGES, progress=None if progress is None else (
            lambda _status, remaining, total: progress(total - remaining, total)))
        src.execute("COMMIT")
        # One self-contained file: no WAL beside it in the payload.
        dst.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error as exc:
        raise SnapshotFailed(f"SQLite backup of {source.name} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


def server_major(conn: Connection) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000


@contextlib.contextmanager
def postgres_snapshot(database: Database) -> Iterator[Snapshot]:
    with database.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            rows, head = read_state(conn)
            pg_dump = pgtools.find_tool("pg_dump", server_major=server_major(conn))
            yield Snapshot(rows=rows, tree_head=head, size_hint=None,
                           chunks=_pg_dump(pg_dump, database.url, snapshot_id))


def _pg_dump(program: str, url: str, snapshot_id: str) -> Iterator[bytes]:
    info, password = pgtools.conninfo(url)
    command = [program, "--format=custom", "--compress=0", f"--snapshot={snapshot_id}",
               "--no-password", f"--dbname={info}"]
    with pgtools.client_env(password) as env, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=stderr, env=env)
        stdout = cast(IO[bytes], process.stdout)
        try:
            while chunk := stdout.read(CHUNK_BYTES):
                yield chunk
            code = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            stdout.close()
        if code != 0:
            stderr.seek(0)
            shown = stderr.read(STDERR_SHOWN_BYTES_MAX).decode("utf-8", "replace").strip()
            raise SnapshotFailed(f"pg_dump exited with {code}: {shown}")

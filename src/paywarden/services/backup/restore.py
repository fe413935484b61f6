"""``paywarden restore``: check everything, then put the backup's database in place.

Refused before the target is touched: a wrong magic or layout, a manifest that
fails its checks or its signature, a signing key not trusted (trust.py), a data
key this platform's master key cannot unwrap, a ciphertext whose SHA-256 or GCM
tag does not match, a backup of the other database kind, a target holding data
without ``force``.

- SQLite: the snapshot is decrypted into a 0600 scratch file beside the target,
  checked (checks.py), recorded as restored, folded into one file, and renamed
  over the target; the old file is kept as ``<db>.pre-restore`` (a hard link made
  before the rename, so the swap itself is one atomic rename). A target another
  process still has open is refused (stop the platform first).
- PostgreSQL: the dump is decrypted into a 0600 scratch file; the target's public
  schema is emptied (it held nothing, or ``force``); ``pg_restore
  --single-transaction`` loads it; the same checks run. On any failure the
  restored objects are dropped again, leaving an empty database that the
  platform refuses to serve (``paywarden init`` or another restore).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ...adapters.clock import Clock
from ...adapters.store import Database, open_database
from ..keys import Keys
from . import auditing, pgtools
from .archive import Header, fsync_dir, read_header, temp_path
from .checks import check_restored
from .create import Progress, _bytes
from .errors import BackupError, RestoredDatabaseInvalid, TargetBusy, TargetNotEmpty
from .payload import open_payload
from .snapshot import count_rows, server_major, sqlite_path
from .trust import check_signature, unwrap_data_key

SEEDED_TABLES = frozenset({"alembic_version", "ledger_state"})  # rows a bare `init` writes
SQLITE_LOCK_WAIT_S = 2.0
PG_LOCK_TIMEOUT = "10s"
PRE_RESTORE_SUFFIX = ".pre-restore"
PRE_RESTORE_NAMES_MAX = 100


@dataclass(frozen=True)
class RestoreResult:
    backup_id: str
    database: str
    tree_size: int
    rows: dict[str, int]
    trusted_by: str
    previous: Path | None

    def as_json(self) -> dict[str, Any]:
        return {"backup_id": self.backup_id, "database": self.database,
                "tree_size": self.tree_size, "rows": self.rows, "trusted_by": self.trusted_by,
                "previous": None if self.previous is None else str(self.previous)}


def restore_backup(database: Database, file: Path, *, clock: Clock, keys: Keys, actor: str,
                   force: bool = False, jwks: dict[str, Ed25519PublicKey] | None = None,
                   progress: Progress | None = None) -> RestoreResult:
    """Restore ``file`` into ``database``, whose keyring (``keys``) holds the master key."""
    with open(file, "rb") as f:
        header = read_header(f, file_size=os.fstat(f.fileno()).st_size)
        manifest = header.manifest
        if manifest.database != database.dialect:
            raise BackupError(f"backup of a {manifest.database} database cannot be restored "
                              f"into {database.dialect}")
        trusted_by = check_signature(header, keyring=_keyring(database, keys), jwks=jwks)
        key = unwrap_data_key(manifest, keys.master)
        if database.dialect == "sqlite":
            previous = _restore_sqlite(database, f, header, key, clock=clock, force=force,
                                       actor=actor, progress=progress)
        else:
            previous = None
            _restore_postgres(database, f, header, key, clock=clock, force=force, actor=actor,
                              progress=progress)
    return RestoreResult(backup_id=manifest.backup_id, database=manifest.database,
                         tree_size=manifest.tree_size, rows=manifest.rows,
                         trusted_by=trusted_by, previous=previous)


def _keyring(database: Database, keys: Keys) -> Callable[[str], Ed25519PublicKey | None]:
    """The target's keyring, if it has one; never creates the target."""
    def lookup(kid: str) -> Ed25519PublicKey | None:
        if database.dialect == "sqlite" and not _exists(sqlite_path(database.url)):
            return None
        try:
            if not database.is_migrated():
                return None
            return keys.public_key(kid)
        except SQLAlchemyError:  # a database from before the keyring
            return None
        finally:
            database.dispose()
    return lookup


def _exists(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def holds_data(conn: Connection) -> bool:
    return any(count for table, count in count_rows(conn).items()
               if table not in SEEDED_TABLES)


def _decrypt(f: IO[bytes], out: IO[bytes], header: Header, key: bytes,
             progress: Progress | None) -> None:
    m = header.manifest
    f.seek(header.payload_offset)
    open_payload(f, out, size=m.payload_size, key=key, nonce=m.nonce_bytes, aad=m.aad(),
                 tag=m.tag_bytes, sha256=m.payload_sha256, snapshot_size=m.snapshot_size,
                 progress=_bytes(progress, "decrypt", m.payload_size))
    out.flush()
    os.fsync(out.fileno())


def _check_and_record(restored: Database, header: Header, *, clock: Clock, actor: str,
                      progress: Progress | None) -> None:
    manifest = header.manifest
    verify_progress = None if progress is None else (
        lambda done, total: progress("verify", done, total))
    problems = check_restored(restored, manifest, progress=verify_progress)
    if problems:
        raise RestoredDatabaseInvalid(problems)
    auditing.record(restored, at_ns=clock.now_ns(), actor=actor,
                    action="backup.restored", object_id=manifest.backup_id,
                    detail={"backup_id": manifest.backup_id, "tree_size": manifest.tree_size,
                            "sha256": manifest.payload_sha256})


# -- SQLite -----------------------------------------------------------------------


def _restore_sqlite(database: Database, f: IO[bytes], header: Header, key: bytes, *,
                    clock: Clock, force: bool, actor: str,
                    progress: Progress | None) -> Path | None:
    target = sqlite_path(database.url)
    database.dispose()
    if _exists(target) and _sqlite_holds_data(target) and not force:
        raise TargetNotEmpty(f"{target.name} holds data: restore with --force to replace it "
                             f"(the old file is kept as {target.name}{PRE_RESTORE_SUFFIX})")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = temp_path(target, "restore")
    try:
        with open(scratch, "wb") as out:
            _decrypt(f, out, header, key, progress)
        restored = open_database(f"sqlite:///{scratch}")
        try:
            _check_and_record(restored, header, clock=clock, actor=actor, progress=progress)
        finally:
            restored.dispose()
        _fold(scratch)
        return _swap_in(target, scratch)
    finally:
        for leftover in (scratch, *(Path(f"{scratch}{s}") for s in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)


def _sqlite_holds_data(path: Path) -> bool:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return holds_data(conn)
    except SQLAlchemyError as exc:
        raise TargetBusy(f"cannot read the target {path.name}: {type(exc).__name__}") from exc
    finally:
        engine.dispose()


def _fold(path: Path) -> None:
    """Rollback-journal mode: the whole database in the one file that is renamed."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_LOCK_WAIT_S)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        conn.close()
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _swap_in(target: Path, scratch: Path) -> Path | None:
    previous = None
    if target.exists():
        try:
            _fold(target)  # needs the only connection: refuses while the platform runs
        except sqlite3.Error as exc:
            raise TargetBusy(f"{target.name} is in use ({exc}): stop the platform, then "
                             "restore") from None
        previous = _free_name(target)
        try:
            os.link(target, previous)
        except OSError:
            shutil.copy2(target, previous)
    os.replace(scratch, target)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    fsync_dir(target.parent)
    return previous


def _free_name(target: Path) -> Path:
    for n in range(PRE_RESTORE_NAMES_MAX):
        name = target.with_name(target.name + PRE_RESTORE_SUFFIX + (f".{n}" if n else ""))
        if not name.exists():
            return name
    raise BackupError(f"{PRE_RESTORE_NAMES_MAX} earlier {PRE_RESTORE_SUFFIX} files: "
                      "remove some first")


# -- PostgreSQL -------------------------------------------------------------------


def _restore_postgres(database: Database, f: IO[bytes], header: Header, key: bytes, *,
                      clock: Clock, force: bool, actor: str, progress: Progress | None) -> None:
    with database.engine.connect() as conn:
        occupied = holds_data(conn)
        pg_restore = pgtools.find_tool("pg_restore", server_major=server_major(conn))
    if occupied and not force:
        raise TargetNotEmpty("the target database holds data: restore with --force to drop "
                             "its public schema's objects first")
    with tempfile.NamedTemporaryFile(prefix="paywarden-restore-", suffix=".dump") as scratch:
        _decrypt(f, scratch, header, key, progress)
        database.dispose()
        empty_public_schema(database)
        try:
            if progress:
                progress("restore", 0, None)
            _pg_restore(pg_restore, database.url, Path(scratch.name))
            restored = open_database(database.url)
            try:
                _check_and_record(restored, header, clock=clock, actor=actor,
                                  progress=progress)
            finally:
                restored.dispose()
        except BaseException:
            empty_public_schema(database)  # nothing half-restored is left to serve
            raise


def empty_public_schema(database: Database) -> None:
    try:
        with database.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}'"))
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except SQLAlchemyError as exc:
        raise TargetBusy(f"cannot empty the target's public schema (is the platform still "
                         f"running?): {type(exc).__name__}") from exc
    finally:
        database.dispose()


def _pg_restore(program: str, url: str, dump: Path) -> None:
    info, password = pgtools.conninfo(url)
    command = [program, "--single-transaction", "--exit-on-error", "--no-owner",
               "--no-privileges", "--no-password", f"--dbname={info}", str(dump)]
    with pgtools.client_env(password) as env:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              check=False)
    if done.returncode != 0:
        shown = done.stderr[-2_000:].decode("utf-8", "replace").strip()
        raise RestoredDatabaseInvalid([f"pg_restore exited with {done.returncode}: {shown}"])

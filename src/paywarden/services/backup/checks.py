"""What a restored database must pass before it is put in place.

- ``paywarden verify``: the ledger's invariants (services.ledger.verify);
- ``paywarden audit verify``: the tree recomputed, every stored head's signature;
- the row count of every table equals the manifest's;
- the latest signed tree head equals the manifest's, and the restored tree's root
  at the manifest's size is the manifest's root hash.

Each failure is a line naming the check; the caller refuses on any.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from ...adapters.store import Database
from ..ledger.verify import verify_ledger
from . import auditing
from .manifest import Manifest
from .snapshot import count_rows

ROW_DIFFERENCES_SHOWN_MAX = 10

Progress = Callable[[int, int], None]


def check_restored(database: Database, manifest: Manifest, *,
                   progress: Progress | None = None) -> list[str]:
    """Every reason the restored ``database`` is not the backup's state."""
    try:
        problems = _counts_and_head(database, manifest)
        if problems:  # a database of another shape: the deeper checks would only echo it
            return problems
        problems += [f"ledger {v}" for v in verify_ledger(database, progress=progress)]
        problems += [f"audit {p}" for p in auditing.verify(database)]
    except (SQLAlchemyError, LookupError) as exc:  # missing tables, rows or tree nodes
        return [f"restored database is unreadable: {type(exc).__name__}"]
    return problems


def _counts_and_head(database: Database, manifest: Manifest) -> list[str]:
    problems: list[str] = []
    with database.engine.connect() as conn:
        rows = count_rows(conn)
        tables = sorted(set(rows) | set(manifest.rows))
        differ = [t for t in tables if rows.get(t) != manifest.rows.get(t)]
        problems += [f"rows {t}: restored {rows.get(t, 'no table')}, manifest "
                     f"{manifest.rows.get(t, 'no table')}" for t in differ[
                         :ROW_DIFFERENCES_SHOWN_MAX]]
        if manifest.tree_head is None:
            return problems
        latest = auditing.latest_head(conn)
        if latest != manifest.tree_head:
            problems.append(f"tree head: restored latest is at size "
                            f"{None if latest is None else latest['tree_size']}, differs from "
                            f"the manifest's at {manifest.tree_size}")
        root = auditing.root_at(conn, manifest.tree_size)
        if root != auditing.root_hash_of(manifest.tree_head):
            problems.append(f"tree head: the restored tree's root at size {manifest.tree_size} "
                            "is not the manifest's root hash")
    return problems

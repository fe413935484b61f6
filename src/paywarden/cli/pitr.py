"""``paywarden backup --pitr`` and ``paywarden restore --to TIME``: point-in-time recovery
on PostgreSQL (services/backup/pitr.py, decision 0067).

A base backup is recorded in the audit log. A restore starts a server of its own on
loopback with the database as it was at TIME, then checks it as ``paywarden verify``
does (the ledger's invariants and the whole audit log, every signed tree head against
the tree recomputed from the entries) and names the newest signed tree head at or
before TIME; it stops that server unless ``--keep-running``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import text

from ..settings import Settings
from .backup import refused
from .common import err, open_platform, operator_actor


def pitr_dir(settings: Settings) -> Path:
    return (settings.pitr_dir or settings.data_dir / "pitr").resolve()


def _postgresql(settings: Settings) -> None:
    if not settings.database.startswith("postgresql"):
        err.print("[red]paywarden: point-in-time recovery is PostgreSQL's[/red] (its WAL "
                  "archive); on SQLite, use `paywarden backup FILE`")
        raise typer.Exit(2)


def base_backup(settings: Settings, *, as_json: bool) -> None:
    from ..services import audit
    from ..services.backup.errors import BackupError
    from ..services.backup.pitr import take_base_backup

    _postgresql(settings)
    where = pitr_dir(settings)
    try:
        with err.status(f"taking a base backup into {where / 'base'}"):
            made = take_base_backup(settings.database, where)
    except BackupError as exc:
        refused(exc, as_json)
    platform = open_platform(settings)
    try:
        with platform.database.engine.begin() as conn:
            audit.record(conn, at_ns=platform.clock.now_ns(), actor=operator_actor(),
                         action="backup.pitr_base", object_id=made.path.name,
                         detail={"consistent_at": made.consistent_at.isoformat()})
        platform.tree_heads.sign_now()  # a signed head covers it, as every audit leaf
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"ok": True, **made.as_json()}))
    else:
        err.print(f"[green]base backup {made.path.name} taken[/green]: restorable to any "
                  f"moment after {made.consistent_at.isoformat()} (WAL archive "
                  f"{where / 'wal'})")


def restore_to_moment(settings: Settings, moment: str, *, keep_running: bool,
                      as_json: bool) -> None:
    from ..adapters.store import open_database
    from ..services.backup.errors import BackupError
    from ..services.backup.pitr import restore_to
    from ..services.ledger.verify import verify_ledger
    from .audit import audit_problems

    _postgresql(settings)
    try:
        target = datetime.fromisoformat(moment)
    except ValueError:
        raise typer.BadParameter(f"--to {moment!r} is not an ISO 8601 moment, such as "
                                 "2026-12-02T15:30:00Z") from None
    try:
        with err.status(f"restoring to {target.isoformat()}"):
            _archive_now(settings.database)
            restored = restore_to(pitr_dir(settings), target)
    except BackupError as exc:
        refused(exc, as_json)
    database = open_database(restored.url)
    try:
        violations = verify_ledger(database)
        problems = audit_problems(database, quiet=as_json)
        head = _head_at(database.engine, target)
    finally:
        database.dispose()
        if not keep_running:
            restored.stop()
    found = [{"check": v.check, "detail": v.detail} for v in violations] + [
        {"check": p.code, "detail": p.message} for p in problems]  # type: ignore[attr-defined]
    answer = {"ok": not found, "restored_to": target.isoformat(),
              "base_backup": restored.base.as_json(), "data_dir": str(restored.data_dir),
              "url": restored.url if keep_running else None, "tree_head": head,
              "violations": found}
    if as_json:
        print(json.dumps(answer))
    else:
        for v in found:
            err.print(f"[red]VIOLATION[/red] {v['check']}: {v['detail']}")
        if not found:
            err.print(f"[green]restored to {target.isoformat()}[/green]: verify and audit "
                      f"verify pass; the newest signed tree head then: {head}")
        if keep_running:
            err.print(f"the restored server runs at {restored.url} (data {restored.data_dir})")
    raise typer.Exit(1 if found else 0)


def _archive_now(database_url: str) -> None:
    """When the live cluster answers, archive its current WAL first (the moment may be in
    it); when it does not, the archive holds what it holds."""
    from ..adapters.store import is_unavailable
    from ..services.backup.pitr import switch_wal

    try:
        switch_wal(database_url)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        err.print("the database does not answer: restoring from the archive as it is")


def _head_at(engine: Any, target: datetime) -> dict[str, Any] | None:
    """The newest signed tree head at or before ``target`` (audit verify checked it)."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT tree_size, timestamp, key_id FROM audit_tree_heads "
            "WHERE timestamp <= :ms ORDER BY tree_size DESC LIMIT 1"),
            {"ms": int(target.timestamp() * 1000)}).first()
    if row is None:
        return None
    return {"tree_size": int(row.tree_size), "timestamp_ms": int(row.timestamp),
            "key_id": row.key_id}

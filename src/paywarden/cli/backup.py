"""``paywarden backup OUT`` and ``paywarden restore FILE``: encrypted, signed, verified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from .common import app, err, open_platform, operator_actor, settings_from_env

if TYPE_CHECKING:
    from ..services.backup.create import Progress as PhaseProgress

PHASES = {"snapshot": "copying pages", "encrypt": "compressing + encrypting",
          "write": "writing", "decrypt": "decrypting + checking", "restore": "pg_restore",
          "verify": "verifying transfers"}
BYTE_PHASES = {"encrypt", "write", "decrypt"}


@contextmanager
def _bars(quiet: bool) -> Iterator[PhaseProgress]:
    with Progress(TextColumn("{task.description:<26}"), BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet or not err.is_terminal) as bars:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(PHASES.get(phase, phase), total=total)
            bars.update(tasks[phase], completed=done, total=total)
        yield update


@app.command()
def backup(out: Annotated[Path | None, typer.Argument(
               help="the backup file to write (0600)")] = None,
           pitr: Annotated[bool, typer.Option(
               "--pitr", help="a base backup for point-in-time recovery (PostgreSQL, into "
               "PAYWARDEN_PITR_DIR) instead of a file")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")]
           = False) -> None:
    """Take a consistent, encrypted, signed backup of the live database (or, with --pitr,
    a base backup that the WAL archive replays to any later moment)."""
    from ..services.backup import BackupError

    if pitr:
        from .pitr import base_backup

        base_backup(settings_from_env(), as_json=as_json)
        return
    if out is None:
        raise typer.BadParameter("name the backup file to write (or give --pitr)")
    platform = open_platform(settings_from_env())
    try:
        if not platform.database.is_migrated():
            err.print("[red]no PayWarden database here[/red]")
            raise typer.Exit(2)
        with _bars(as_json) as bars:
            result = platform.backups.create(out, actor=operator_actor(), progress=bars)
    except BackupError as exc:
        refused(exc, as_json)
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps(result.as_json()))
    else:
        m = result.manifest
        err.print(f"[green]backup {m.backup_id} written[/green] to {result.path}: "
                  f"{sum(m.rows.values()):,} rows in {len(m.rows)} tables, audit tree size "
                  f"{m.tree_size}, {m.payload_size:,} bytes, sha256 {m.payload_sha256}")


@app.command()
def restore(file: Annotated[Path | None, typer.Argument(
                help="a file written by `paywarden backup`", exists=True,
                dir_okay=False)] = None,
            to: Annotated[str | None, typer.Option(
                "--to", help="restore PostgreSQL to this moment (ISO 8601, with its zone) from "
                "the base backups and WAL archive, on a server of its own, and verify it")]
            = None,
            keep_running: Annotated[bool, typer.Option(
                "--keep-running", help="with --to: leave the restored server running")]
            = False,
            force: Annotated[bool, typer.Option(
                "--force", help="replace a database that holds data (SQLite keeps the old "
                "file as .pre-restore; PostgreSQL drops its public schema's objects)")] = False,
            trust_jwks: Annotated[str | None, typer.Option(
                "--trust-jwks", help="a JWKS file or URL whose keys may have signed the "
                "backup, when this platform's keyring does not know the signing key")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")]
            = False) -> None:
    """Check a backup's signature, digest and tag, restore it, verify it, then put it in place
    (or, with --to, restore PostgreSQL to a moment beside the live cluster and verify it)."""
    from ..services.backup import BackupError, load_jwks

    if to is not None:
        from .pitr import restore_to_moment

        restore_to_moment(settings_from_env(), to, keep_running=keep_running,
                          as_json=as_json)
        return
    if file is None:
        raise typer.BadParameter("name the backup file to restore (or give --to TIME)")

    platform = open_platform(settings_from_env(), create=True)  # may restore into nothing
    try:
        jwks = None if trust_jwks is None else load_jwks(trust_jwks)
        with _bars(as_json) as bars:
            result = platform.backups.restore(file, actor=operator_actor(), force=force,
                                              jwks=jwks, progress=bars)
    except BackupError as exc:
        refused(exc, as_json)
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps({"ok": True, **result.as_json()}))
    else:
        kept = f"; the old database is kept as {result.previous}" if result.previous else ""
        err.print(f"[green]restored backup {result.backup_id}[/green]: verify and audit verify "
                  f"pass, audit tree size {result.tree_size}, signer trusted by "
                  f"{result.trusted_by}{kept}")


def refused(exc: Exception, as_json: bool) -> None:
    from ..services.backup import BackupError

    code = exc.code if isinstance(exc, BackupError) else "error"
    if as_json:
        print(json.dumps({"ok": False, "error": code, "message": str(exc)}))
    err.print(f"[red]refused[/red]: {exc}")
    raise typer.Exit(1)

"""``paywarden audit``: verify the tamper-evident log, or watch a platform's as a witness."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from .common import app, err, open_store, settings_from_env

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

ALARM_EXIT = 3


def audit_problems(database: object, *, quiet: bool) -> list[object]:
    """Run the audit checks with a progress bar (shared with ``paywarden verify``)."""
    from ..services.audit.verify import verify_audit

    with Progress(TextColumn("checking the audit log"), BarColumn(),
                  TextColumn("{task.completed:,}/{task.total:,}"), TimeRemainingColumn(),
                  console=err, disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task("audit", total=None)
        return list(verify_audit(database, progress=lambda done, total: bar.update(  # type: ignore[arg-type]
            task, completed=done, total=total)))


@audit_app.command("verify")
def verify(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
           ) -> None:
    """Recompute the tree from the entries, check every signed head and the ledger; exit 1 on
    any problem, naming it."""
    database = open_store(settings_from_env())
    try:
        problems = audit_problems(database, quiet=as_json)
    finally:
        database.dispose()
    if as_json:
        print(json.dumps({"ok": not problems, "problems": [
            {"code": p.code, "message": p.message} for p in problems]}))  # type: ignore[attr-defined]
    elif problems:
        for p in problems:
            err.print(f"[red]PROBLEM[/red] {p}")
    else:
        err.print("[green]audit log verified: entries, tree, signed heads and ledger agree[/green]")
    raise typer.Exit(1 if problems else 0)


@audit_app.command("watch")
def watch(
    url: Annotated[str, typer.Argument(help="the platform's base URL, e.g. https://pay.example")],
    token: Annotated[str, typer.Option(envvar="PAYWARDEN_WITNESS_TOKEN",
                                       help="a supervisor bearer token")],
    state: Annotated[Path, typer.Option(help="where the witness keeps the heads it saw")] = Path(
        "witness.json"),
    interval: Annotated[float, typer.Option(min=0.5, help="seconds between checks")] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="check once and exit")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per check")] = False,
) -> None:
    """Witness a platform's audit log: store each signed tree head, prove each new one extends
    the last; on a fork, rollback or rewrite raise the alarm and exit 3."""
    import httpx

    from ..client.witness import Witness

    witness = Witness(url, token, state)
    while True:
        try:
            head, alarms = witness.observe()
        except (httpx.HTTPError, ValueError) as exc:
            err.print(f"[yellow]cannot reach {url}: {type(exc).__name__}: {exc}[/yellow]")
            if once:
                raise typer.Exit(2) from None
            time.sleep(interval)
            continue
        if as_json:
            print(json.dumps({"ok": not alarms, "tree_size": head.tree_size if head else None,
                              "alarms": [{"kind": a.kind, "message": a.message}
                                         for a in alarms]}), flush=True)
        for alarm in alarms:
            err.print(f"[bold red]ALARM[/bold red] {alarm}")
        if alarms:
            raise typer.Exit(ALARM_EXIT)
        if not as_json and head is not None:
            err.print(f"tree size {head.tree_size:,}: consistent with everything seen")
        if once:
            raise typer.Exit(0)
        time.sleep(interval)

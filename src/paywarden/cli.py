"""The ``paywarden`` command."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from .settings import Settings

app = typer.Typer(help="PayWarden: a self-hosted, security-first payment platform.",
                  no_args_is_help=True, add_completion=False)
bench_app = typer.Typer(help="Benchmarks that print JSON.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
err = Console(stderr=True)


def _settings() -> Settings:
    return Settings()


def _platform(settings: Settings):  # type: ignore[no-untyped-def]
    from .bootstrap import build
    from .logs import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    return build(settings)


def _init(settings: Settings, *, new_token: bool) -> str | None:
    """Migrate; issue an operator token if there is none (or if asked). Returns the new token."""
    from .adapters.clock import SystemClock
    from .adapters.store import open_database
    from .services.operators import has_token, issue_token

    database = open_database(settings.database)
    try:
        database.migrate()
        if new_token or not has_token(database):
            return issue_token(database, now_ns=SystemClock().now_ns())
        return None
    finally:
        database.dispose()


@app.command()
def init(new_token: Annotated[bool, typer.Option(help="issue another operator token")] = False
         ) -> None:
    """Create or upgrade the database; print a new operator token once."""
    settings = _settings()
    token = _init(settings, new_token=new_token)
    err.print(f"database ready: {_redact(settings.database)}")
    if token:
        err.print("operator token (shown once, store it safely):")
        print(token)
    else:
        err.print("an operator token exists already; use --new-token for another")


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from .api import create_app

    settings = _settings()
    platform = _platform(settings)
    if not platform.database.is_migrated():
        err.print("[red]the database is not initialised: run `paywarden init` first[/red]")
        raise typer.Exit(2)
    uvicorn.run(create_app(platform), host=host or settings.host, port=port or settings.port,
                log_config=None, server_header=False)


@app.command()
def demo() -> None:
    """Load the demo ledgers, accounts and transfers (idempotent)."""
    from .demo import load_demo

    platform = _platform(_settings())
    platform.start()
    try:
        for account in load_demo(platform):
            err.print(f"  {account.name:<18} acct_{account.id:016x}")
    finally:
        platform.stop()


@app.command()
def run(host: Annotated[str | None, typer.Option()] = None,
        port: Annotated[int | None, typer.Option()] = None) -> None:
    """Initialise if needed, load the demo and serve: the one-command start."""
    settings = _settings()
    token = _init(settings, new_token=False)
    demo()
    url = f"http://{host or settings.host}:{port or settings.port}"
    err.rule("PayWarden is starting")
    err.print(f"API:      {url}/v1   (interactive docs: {url}/docs)")
    err.print(f"Health:   {url}/health/ready    Metrics: {url}/metrics")
    if token:
        err.print("Operator token (shown once; send as 'Authorization: Bearer …'):")
        err.print(f"  [bold]{token}[/bold]")
    else:
        err.print("Operator token: issued on the first run; `paywarden init --new-token` for another")
    err.print(f"Data:     {_redact(settings.database)}")
    err.print("Stop:     press Ctrl+C")
    serve(host=host, port=port)


@app.command()
def verify(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
           ) -> None:
    """Prove the ledger's invariants; exit 1 naming each violation."""
    from .adapters.store import open_database
    from .services.ledger.verify import verify_ledger

    settings = _settings()
    database = open_database(settings.database)
    if not database.is_migrated():
        err.print("[red]no PayWarden database here[/red]")
        raise typer.Exit(2)
    with Progress(TextColumn("replaying transfers"), BarColumn(), TextColumn("{task.completed:,}"
                  "/{task.total:,}"), TimeRemainingColumn(), console=err,
                  disable=as_json or not err.is_terminal) as bar:
        task = bar.add_task("replay", total=None)
        violations = verify_ledger(database, progress=lambda done, total: bar.update(
            task, completed=done, total=total))
    database.dispose()
    if as_json:
        print(json.dumps({"ok": not violations,
                          "violations": [{"check": v.check, "detail": v.detail}
                                         for v in violations]}))
    elif violations:
        for v in violations:
            err.print(f"[red]VIOLATION[/red] {v}")
    else:
        err.print("[green]ledger verified: no violations[/green]")
    raise typer.Exit(1 if violations else 0)


@bench_app.command("ledger", context_settings={"allow_extra_args": True,
                                               "ignore_unknown_options": True})
def bench_ledger(ctx: typer.Context) -> None:
    """Ledger throughput and latency against the raw insert limit and a peer."""
    from .benchmarks.ledger import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(prog_name="paywarden")
    sys.exit(0)

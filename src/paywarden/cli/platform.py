"""Commands that run the platform: init, serve, demo, run, verify, bench."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..settings import Settings
from .common import (
    app,
    bench_app,
    err,
    open_platform,
    open_store,
    operator_actor,
    redact,
    refusing,
    settings_from_env,
)
from .preflight import check_replication, check_store

ROLES = ("bank", "hub", "both")

if TYPE_CHECKING:
    from ..bootstrap import Platform
    from ..demo import DemoAccount


def _init(settings: Settings) -> None:
    database = open_store(settings, create=True)
    _private_folder(settings.data_dir)
    try:
        database.migrate()
    finally:
        database.dispose()


def _private_folder(folder: Path) -> None:
    """The data folder is this user's alone (serve refuses one others can read)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o077 and folder.stat().st_uid == os.geteuid():
        folder.chmod(0o700)
        err.print(f"made the data folder {folder} private (700)", markup=False)


@app.command()
def init() -> None:
    """Create or upgrade the database. Then issue tokens with `paywarden tokens issue`."""
    settings = settings_from_env()
    _init(settings)
    err.print(f"database ready: {redact(settings.database)}")


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None,
          role: Annotated[str | None, typer.Option(
              help="bank (the default), hub (clearing and settlement) or both")] = None,
          peer: Annotated[list[str] | None, typer.Option(
              help="a peer hub this hub knows, BIC=URL (repeat for each)")] = None,
          accept_async_loss: Annotated[bool, typer.Option(
              "--accept-async-loss", help="serve on a PostgreSQL cluster whose failover "
              "may lose acknowledged commits (refused without it)")] = False,
          workers: Annotated[int, typer.Option(
              help="serving processes on the one port (PostgreSQL and Redis)")] = 1,
          allow_unsigned: Annotated[bool, typer.Option(
              "--allow-unsigned", help="development: serve code no signed release manifest "
              "vouches for (changes while serving are still found)")] = False,
          allow_root: Annotated[bool, typer.Option(
              "--allow-root", help="serve as root (refused without it)")] = False) -> None:
    """Serve the HTTP API. Exits 70 if the process failed on a broken invariant."""
    from .integrity import check_host, check_release, warn, with_integrity_flags
    from .serving import claim, serve_claimed, served_at
    from .workers import check_workers, supervise

    with refusing():
        settings = with_integrity_flags(
            served_at(_clearing(settings_from_env(), role, peer), host=host, port=port),
            allow_unsigned=allow_unsigned, allow_root=allow_root)
        check_store(settings, create=False)
        check_host(settings, allow_root=settings.allow_root)
        unsigned = check_release(settings)
        check_workers(settings, workers)
        unsafe = check_replication(settings, accept_async_loss=accept_async_loss
                                   or settings.accept_async_loss)
        claimed = claim(settings)
    warn(unsigned)
    for reason in unsafe:
        err.print(f"paywarden: WARNING, serving with --accept-async-loss: {reason}",
                  style="bold red", markup=False, highlight=False, soft_wrap=True)
    if workers == 1:
        serve_claimed(settings, claimed)
        return
    try:
        supervise(workers, lambda: serve_claimed(settings, claimed))
    finally:
        claimed.release()


def _clearing(settings: Settings, role: str | None, peers: list[str] | None) -> Settings:
    """``--role`` and ``--peer`` over ``PAYWARDEN_CLEARING_ROLE`` and ``…_PEERS``."""
    update: dict[str, Any] = {}
    if role is not None:
        if role not in ROLES:
            raise typer.BadParameter(f"--role is one of {', '.join(ROLES)}, not {role!r}")
        update["clearing_role"] = role
    if peers:
        update["clearing_peers"] = ",".join(peers)
    if not update:
        return settings
    return settings.model_copy(update=update)


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
         ) -> None:
    """Load the demo ledgers and accounts (idempotent), then a certified demo merchant, a
    buyer and one escrow payment taken all the way to released, and a bank customer with
    accounts and a month's kind of activity (new each run)."""
    platform = open_platform(settings_from_env())
    platform.start()
    try:
        accounts, made = _demo(platform)
    finally:
        platform.stop()
    if as_json:
        print(json.dumps({**made, "accounts": {a.name: f"acct_{a.id:016x}" for a in accounts}}))
        return
    _print_demo(accounts, made)


def _demo(platform: Platform) -> tuple[list[DemoAccount], dict[str, Any]]:
    from ..demo import load_demo
    from ..demo_bank import demo_bank
    from ..demo_escrow import demo_payment

    return load_demo(platform), {**demo_payment(platform), **demo_bank(platform)}


def _print_demo(accounts: list[DemoAccount], made: dict[str, Any]) -> None:
    for account in accounts:
        err.print(f"  {account.name:<18} acct_{account.id:016x}")
    for name, value in made.items():
        err.print(f"  {name:<26} {value}")


@app.command()
def run(host: Annotated[str | None, typer.Option()] = None,
        port: Annotated[int | None, typer.Option()] = None) -> None:
    """Initialise if needed, load the demo on a new database, and serve: the one-command
    start for development (unsigned code and root are allowed, and said so). The port and
    the database are checked before anything is written."""
    from .integrity import check_host, check_release, warn, with_integrity_flags
    from .serving import claim, serve_claimed, served_at

    with refusing():
        settings = with_integrity_flags(served_at(settings_from_env(), host=host, port=port),
                                        allow_unsigned=True, allow_root=True)
        check_store(settings, create=True)
        claimed = claim(settings)
    try:
        _init(settings)
        with refusing():
            check_host(settings, allow_root=True)
            warn(check_release(settings))
        token = _first_start(settings)
    except BaseException:
        claimed.release()
        raise
    _banner(settings, token)
    serve_claimed(settings, claimed)


def _banner(settings: Settings, token: str | None) -> None:
    url = settings.public_url

    def say(line: str) -> None:
        err.print(line, soft_wrap=True)

    err.rule("PayWarden is starting")
    say(f"Open:     {url}   API: {url}/v1   (interactive docs: {url}/docs)")
    say(f"Health:   {url}/health/ready    Metrics: {url}/metrics")
    if token is not None:
        say("Operator token for the ledger API, valid for a day (send as "
            "'Authorization: Bearer …'; more with `paywarden tokens issue`):")
        say(f"  [bold]{token}[/bold]")
    else:
        say("Demo:     loaded by the first start, not made again")
        say("Token:    the first start printed one; another: "
            "`paywarden tokens issue --role operator`")
    say(f"Data:     {redact(settings.database)}")
    say("Stop:     press Ctrl+C")


def _first_start(settings: Settings) -> str | None:
    """On a database without the demo: load it, print it, and issue an operator token
    (returned). On any later start: nothing (None), so demo merchants do not pile up."""
    from ..demo import demo_loaded
    from ..services.identity.tokens import issue_staff_token

    platform = open_platform(settings)
    platform.start()
    try:
        if demo_loaded(platform):
            return None
        _print_demo(*_demo(platform))
        return issue_staff_token(platform.database, platform.sessions, role="operator",
                                 ttl_s=settings.staff_token_ttl_s_max,
                                 ttl_s_max=settings.staff_token_ttl_s_max,
                                 actor=operator_actor(), now_ns=platform.clock.now_ns()).token
    finally:
        platform.stop()


@app.command()
def verify(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
           ) -> None:
    """Prove the ledger's invariants and check the audit log against it; exit 1 naming each
    violation."""
    from ..services.ledger.verify import verify_ledger
    from .audit import audit_problems

    database = open_store(settings_from_env())
    with Progress(TextColumn("replaying transfers"), BarColumn(), TextColumn("{task.completed:,}"
                  "/{task.total:,}"), TimeRemainingColumn(), console=err,
                  disable=as_json or not err.is_terminal) as bar:
        task = bar.add_task("replay", total=None)
        violations = verify_ledger(database, progress=lambda done, total: bar.update(
            task, completed=done, total=total))
    try:
        problems = audit_problems(database, quiet=as_json)
    finally:
        database.dispose()
    found = [{"check": v.check, "detail": v.detail} for v in violations] + [
        {"check": p.code, "detail": p.message} for p in problems]  # type: ignore[attr-defined]
    if as_json:
        print(json.dumps({"ok": not found, "violations": found}))
    elif found:
        for v in found:
            err.print(f"[red]VIOLATION[/red] {v['check']}: {v['detail']}")
    else:
        err.print("[green]ledger and audit log verified: no violations[/green]")
    raise typer.Exit(1 if found else 0)


@bench_app.command("ledger", add_help_option=False,
                   context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench_ledger(ctx: typer.Context) -> None:
    """Ledger throughput and latency against the raw insert limit and a peer."""
    from ..benchmarks.ledger import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


@bench_app.command("payments", add_help_option=False,
                   context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench_payments(ctx: typer.Context) -> None:
    """Escrow flows through the service and over HTTP against bare durable commits."""
    from ..benchmarks.payments import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))

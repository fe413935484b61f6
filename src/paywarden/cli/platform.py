"""Commands that run the platform: init, serve, demo, run, verify, bench."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..settings import Settings
from .common import (
    app,
    bench_app,
    err,
    open_platform,
    operator_actor,
    redact,
    settings_from_env,
)


def _init(settings: Settings) -> None:
    from ..adapters.store import open_database

    database = open_database(settings.database)
    try:
        database.migrate()
    finally:
        database.dispose()


@app.command()
def init() -> None:
    """Create or upgrade the database. Then issue tokens with `paywarden tokens issue`."""
    settings = settings_from_env()
    _init(settings)
    err.print(f"database ready: {redact(settings.database)}")


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None) -> None:
    """Serve the HTTP API. Exits 70 if the process failed on a broken invariant."""
    import uvicorn

    from ..api import create_app
    from ..services.failstop import EXIT_CODE

    settings = _served_at(settings_from_env(), host=host, port=port)
    platform = open_platform(settings)
    if not platform.database.is_migrated():
        err.print("[red]the database is not initialised: run `paywarden init` first[/red]")
        raise typer.Exit(2)
    server = uvicorn.Server(uvicorn.Config(
        create_app(platform), host=settings.host, port=settings.port, log_config=None,
        server_header=False, **_edge_limits(settings)))

    def stop_server() -> None:
        server.should_exit = True  # uvicorn's own graceful stop, as on SIGTERM

    platform.failstop.arm(stop_server=stop_server)
    platform.start_background()
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl+C, re-raised by uvicorn once it has shut down
        pass
    if platform.failstop.failed:
        platform.failstop.stopped()
        raise typer.Exit(EXIT_CODE)
    if not server.started:
        raise typer.Exit(3)  # as uvicorn.run: the server did not start


def _served_at(settings: Settings, *, host: str | None, port: int | None) -> Settings:
    """Settings for serving on ``host:port``.

    Signed requests and passkeys are bound to the public origin. Unless it is set
    (``PAYWARDEN_PUBLIC_URL``, behind a proxy or TLS terminator), it is where we serve —
    named ``localhost`` when that is a loopback address: browsers take no IP address
    as a WebAuthn relying party, and treat plain-http ``localhost`` as a secure context.
    """
    update: dict[str, Any] = {"host": host or settings.host, "port": port or settings.port}
    name = "localhost" if update["host"] in LOOPBACK else update["host"]
    if "public_url" not in settings.model_fields_set:
        update["public_url"] = f"http://{name}:{update['port']}"
    if "webauthn_rp_id" not in settings.model_fields_set:
        update["webauthn_rp_id"] = name
    return settings.model_copy(update=update)


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


REQUEST_LINE_BYTES_MAX = 8 * 1024


def _edge_limits(settings: Settings) -> dict[str, Any]:
    """What uvicorn may hold before the app sees a request (the app checks again, finer).

    h11 refuses (400) a request head larger than the header cap plus a request
    line, before buffering more; the app's own cap answers 431 below that.
    """
    return {
        "http": "h11",  # the parser these limits apply to
        "h11_max_incomplete_event_size": settings.request_header_bytes_max
        + REQUEST_LINE_BYTES_MAX,
        "limit_concurrency": settings.connections_max,  # beyond: 503 from uvicorn itself
        "timeout_keep_alive": 5,
        "backlog": 2048,
    }


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
         ) -> None:
    """Load the demo ledgers and accounts (idempotent), then a certified demo merchant, a
    buyer and one escrow payment taken all the way to released (new each run)."""
    from ..demo import load_demo
    from ..demo_escrow import demo_payment

    platform = open_platform(settings_from_env())
    platform.start()
    try:
        accounts = load_demo(platform)
        made = demo_payment(platform)
    finally:
        platform.stop()
    if as_json:
        print(json.dumps({**made, "accounts": {a.name: f"acct_{a.id:016x}" for a in accounts}}))
        return
    for account in accounts:
        err.print(f"  {account.name:<18} acct_{account.id:016x}")
    for name, value in made.items():
        err.print(f"  {name:<26} {value}")


@app.command()
def run(host: Annotated[str | None, typer.Option()] = None,
        port: Annotated[int | None, typer.Option()] = None) -> None:
    """Initialise if needed, load the demo and serve: the one-command start."""
    from ..services.identity.tokens import issue_staff_token

    settings = settings_from_env()
    _init(settings)
    demo(as_json=False)
    platform = open_platform(settings)
    try:
        token = issue_staff_token(platform.database, platform.sessions, role="operator",
                                  ttl_s=settings.staff_token_ttl_s_max,
                                  ttl_s_max=settings.staff_token_ttl_s_max,
                                  actor=operator_actor(), now_ns=platform.clock.now_ns()).token
    finally:
        platform.database.dispose()
    url = _served_at(settings, host=host, port=port).public_url
    err.rule("PayWarden is starting")
    err.print(f"API:      {url}/v1   (interactive docs: {url}/docs)")
    err.print(f"Health:   {url}/health/ready    Metrics: {url}/metrics")
    err.print("Operator token for the ledger API, valid for a day (send as "
              "'Authorization: Bearer …'; more with `paywarden tokens issue`):")
    err.print(f"  [bold]{token}[/bold]")
    err.print(f"Data:     {redact(settings.database)}")
    err.print("Stop:     press Ctrl+C")
    serve(host=host, port=port)


@app.command()
def verify(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
           ) -> None:
    """Prove the ledger's invariants and check the audit log against it; exit 1 naming each
    violation."""
    from ..adapters.store import open_database
    from ..services.ledger.verify import verify_ledger
    from .audit import audit_problems

    settings = settings_from_env()
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

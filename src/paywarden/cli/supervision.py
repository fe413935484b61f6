"""``paywarden supervision verify``: check a supervision report against the log.

    paywarden supervision verify REPORT_FILE [--url https://pay.example | --jwks FILE]
                                 [--json]

checks a report (CSV, JSON or PDF) with the platform's published keys (fetched from
``--url``'s ``/.well-known/jwks.json``, a saved JWKS file, or, on the platform's host with
neither, the keyring's public keys): the seal, the content, the report's own audit
entry, its inclusion proof, every cited entry's inclusion proof and the tree head's
signature. Exit 0: every check holds; 1: one fails (named); 2: keys or file unreadable.
It reads and changes nothing on the platform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .banking_statements import _jwks_from
from .common import app, err, open_store, settings_from_env

REPORT_BYTES_MAX = 64 * 1024 * 1024

supervision_app = typer.Typer(help="The supervisor's reports: check one against the log.",
                              no_args_is_help=True)
app.add_typer(supervision_app, name="supervision")


@supervision_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="the report: .csv, .json or .pdf")],
    url: Annotated[str | None, typer.Option(
        help="the platform's base URL; its /.well-known/jwks.json is fetched")] = None,
    jwks: Annotated[Path | None, typer.Option(
        help="a JWKS file saved from the platform's /.well-known/jwks.json")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Check a report's seal, content, audit entry, the inclusion proof of every entry it
    cites and the tree head signature; exit 0 if all hold, 1 if not."""
    from ..services.supervision.verify import keys_from_jwks, keys_from_store
    from ..services.supervision.verify import verify as check

    try:
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    if len(data) > REPORT_BYTES_MAX:
        err.print(f"{file} is larger than {REPORT_BYTES_MAX} bytes")
        raise typer.Exit(2)
    document = _jwks_from(jwks, url)
    if document is not None:
        outcome = check(data, keys_from_jwks(document))
    else:
        database = open_store(settings_from_env())
        try:
            outcome = check(data, keys_from_store(database))
        finally:
            database.dispose()
    if as_json:
        print(json.dumps(outcome.as_json(), sort_keys=True))
    else:
        for c in outcome.checks:
            mark = "[green]ok[/green]  " if c.ok else "[red]FAIL[/red]"
            err.print(f"{mark} {c.name:<10} {escape(c.detail)}", highlight=False)
        r = outcome.sealed.report if outcome.sealed else None
        if outcome.ok and r is not None:
            print(f"{file}: VERIFIED {r.kind} report {r.report_id}, {r.period_from} to "
                  f"{r.period_to}, {len(r.rows)} rows, {len(r.citations())} cited entries")
        else:
            print(f"{file}: NOT VERIFIED; failed: {', '.join(outcome.failed)}")
    raise typer.Exit(0 if outcome.ok else 1)

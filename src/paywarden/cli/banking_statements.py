"""``paywarden banking``: statements, and checking a statement file.

    paywarden banking statement ACCOUNT_ID --from YYYY-MM-DD --to YYYY-MM-DD
                                --format camt053|csv|pdf [--out FILE]

issues a statement of any account (an operator on the platform's host: the audit entry
names them) and writes it to stdout, or to ``--out``.

    paywarden banking verify-statement FILE [--jwks FILE | --url URL] [--json]

checks a statement (CSV, camt.053 XML or PDF) against the platform's published keys:
a JWKS file saved from ``/.well-known/jwks.json``, that document fetched from ``--url``,
or, run on the platform's host with neither, the keyring's public keys. Exit 0: every
check holds; 1: one fails (named); 2: the keys or the file could not be read.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape

from .common import app, err, open_platform, open_store, operator_actor, settings_from_env

banking_app = typer.Typer(help="Online banking: statements.", no_args_is_help=True)
app.add_typer(banking_app, name="banking")

STATEMENT_BYTES_MAX = 64 * 1024 * 1024
JWKS_BYTES_MAX = 1024 * 1024
FETCH_TIMEOUT_S = 15.0


def _jwks_from(path: Path | None, url: str | None) -> dict[str, Any] | None:
    if path is not None and url is not None:
        err.print("give --jwks or --url, not both")
        raise typer.Exit(2)
    try:
        if path is not None:
            body = json.loads(path.read_bytes()[:JWKS_BYTES_MAX])
        elif url is not None:
            answer = httpx.get(url.rstrip("/") + "/.well-known/jwks.json",
                               timeout=FETCH_TIMEOUT_S, follow_redirects=False)
            answer.raise_for_status()
            body = json.loads(answer.content[:JWKS_BYTES_MAX])
        else:
            return None
    except (OSError, ValueError, httpx.HTTPError) as exc:
        err.print(f"cannot read the published keys: {type(exc).__name__}: {exc}")
        raise typer.Exit(2) from None
    if not isinstance(body, dict):
        err.print("the published keys are not a JWKS document")
        raise typer.Exit(2)
    return body


@banking_app.command("verify-statement")
def verify_statement(
    file: Annotated[Path, typer.Argument(help="the statement: .csv, camt.053 .xml or .pdf")],
    jwks: Annotated[Path | None, typer.Option(
        help="a JWKS file saved from the platform's /.well-known/jwks.json")] = None,
    url: Annotated[str | None, typer.Option(
        help="the platform's base URL; its /.well-known/jwks.json is fetched")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Check a statement's signature, sums, content, digest, audit inclusion proof and
    tree head signature; exit 0 if all hold, 1 if not."""
    from ..services.banking.statements.verify import keys_from_jwks, keys_from_store, verify

    try:
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    if len(data) > STATEMENT_BYTES_MAX:
        err.print(f"{file} is larger than {STATEMENT_BYTES_MAX} bytes")
        raise typer.Exit(2)
    document = _jwks_from(jwks, url)
    if document is not None:
        report = verify(data, keys_from_jwks(document))
    else:
        database = open_store(settings_from_env())
        try:
            report = verify(data, keys_from_store(database))
        finally:
            database.dispose()
    if as_json:
        print(json.dumps(report.as_json(), sort_keys=True))
    else:
        for c in report.checks:
            mark = "[green]ok[/green]  " if c.ok else "[red]FAIL[/red]"
            err.print(f"{mark} {c.name:<10} {escape(c.detail)}", highlight=False)
        s = report.sealed.statement if report.sealed else None
        if report.ok and s is not None:
            print(f"{file}: VERIFIED statement {s.statement_id} of {s.iban}, "
                  f"{s.period_from} to {s.period_to}")
        else:
            print(f"{file}: NOT VERIFIED; failed: {', '.join(report.failed)}")
    raise typer.Exit(0 if report.ok else 1)


def _date(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"--{name} {value!r} is not a date YYYY-MM-DD")
        raise typer.Exit(2) from None


@banking_app.command("statement")
def statement(
    account_id: Annotated[str, typer.Argument(help="the account's acc_… id")],
    from_: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (UTC)")],
    to: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD (UTC), inclusive")],
    format: Annotated[str, typer.Option("--format", help="camt053, csv or pdf")] = "camt053",
    out: Annotated[Path | None, typer.Option("--out", help="write here, not stdout")] = None,
) -> None:
    """Issue a signed statement of an account, recorded in the audit log."""
    from ..domain.errors import DomainError
    from ..services.banking.statements import FORMATS
    from ..services.banking.statements.service import Statements

    module = FORMATS.get(format)
    if module is None:
        err.print(f"--format is one of {', '.join(sorted(FORMATS))}")
        raise typer.Exit(2)
    first, last = _date(from_, "from"), _date(to, "to")
    platform = open_platform(settings_from_env())
    try:
        statements = Statements(platform.database, clock=platform.clock, keys=platform.keys,
                                tree_heads=platform.tree_heads)
        sealed = statements.issue_any(account_id, first, last, actor=operator_actor())
    except DomainError as exc:
        err.print(f"paywarden: {exc.code}: {exc.detail}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    finally:
        platform.database.dispose()
    data = module.render(sealed)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)
        err.print(f"wrote {out}: statement {sealed.statement.statement_id}, "
                  f"{len(sealed.statement.entries)} entries", highlight=False)

"""``paywarden keys``: the keyring on the server host — list, rotate, rewrap, destroy.

Never prints a secret: kids, purposes, versions, states and dates only. Every
change is recorded in the audit log as ``cli:<login>``. Destroying a version is a
four-eyes command (decision 0044): ``destroy`` and ``rewrap --destroy`` submit it and
print the approval's id; another security_admin approves it with their passkey.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..domain.errors import DomainError
from .common import (
    app,
    err,
    host_principal,
    open_platform,
    operator_actor,
    settings_from_env,
    submit_for_approval,
)

if TYPE_CHECKING:
    from ..bootstrap import Platform
    from ..services.keys import KeyVersion

keys_app = typer.Typer(help="The platform's keyring: data, blind-index and signing keys.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")

T = TypeVar("T")
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _run(action: Callable[[Platform], T]) -> T:
    platform = open_platform(settings_from_env())
    try:
        return action(platform)
    except DomainError as exc:
        err.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()


def _when(ns: int | None) -> str:
    if ns is None:
        return ""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="seconds")


def _print(versions: list[KeyVersion], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([v.as_json() | {"created": _when(v.created_at),
                                         "retired": _when(v.retired_at) or None,
                                         "not_after": _when(v.not_after) or None}
                          for v in versions]))
        return
    table = Table("purpose", "version", "state", "kid", "created", "retired", "not after")
    for v in versions:
        table.add_row(v.purpose, str(v.version), v.state, v.kid, _when(v.created_at),
                      _when(v.retired_at), _when(v.not_after))
    err.print(table)


@keys_app.command("list")
def list_(purpose: Annotated[str | None, typer.Option(help="only this purpose")] = None,
          as_json: AsJson = False) -> None:
    """Every key version: purpose, version, state, kid, dates (no secrets)."""
    _print(_run(lambda p: p.keys.versions(purpose)), as_json=as_json)


@keys_app.command("rotate")
def rotate(purpose: Annotated[str, typer.Argument(
               help="data | tree_heads | receipts | webhooks | backups | ca")],
           as_json: AsJson = False) -> None:
    """Start a new active version; the old one is retired (decrypt / verify only)."""
    new = _run(lambda p: p.keys.rotate(purpose, actor=operator_actor()))
    _print([new], as_json=as_json)


@keys_app.command("rotate-due")
def rotate_due(as_json: AsJson = False) -> None:
    """Rotate every key past its cryptoperiod (PAYWARDEN_KEY_CRYPTOPERIOD_*_DAYS)."""
    _print(_run(lambda p: p.keys.rotate_due(actor=operator_actor())), as_json=as_json)


@keys_app.command("destroy")
def destroy(kid: Annotated[str, typer.Argument(help="the kid of a retired version")]) -> None:
    """Submit destroying a retired version's secret for approval (four eyes: another
    security_admin approves with a passkey); prints the approval id.

    A kid may begin with "-" (a JWK thumbprint is base64url): write `destroy -- KID`."""
    submit_for_approval("security_admin", "key_destruction", {"kid": kid})


@keys_app.command("rewrap")
def rewrap(table: Annotated[str | None, typer.Option(help="only this table")] = None,
           column: Annotated[str | None, typer.Option(help="only this column")] = None,
           batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
           destroy_unused: Annotated[bool, typer.Option(
               "--destroy", help="then submit destroying the retired data versions for approval")
           ] = False,
           as_json: AsJson = False) -> None:
    """Move sealed records to the active data key (re-wraps data keys only)."""

    def work(p: Platform) -> dict[str, object]:
        with Progress(TextColumn("rewrap"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, disable=as_json) as bar:
            task = bar.add_task("rewrap", total=None)
            report = p.keys.rewrap(table, column, batch_size=batch_size,
                                   actor=operator_actor(),
                                   progress=lambda done, total: bar.update(
                                       task, completed=done, total=total))
        submitted: list[str] = []
        if destroy_unused:
            who = host_principal("security_admin")
            for version in p.keys.versions("data"):
                if version.state == "retired":
                    try:
                        made = p.approvals.submit(who, "key_destruction", {"kid": version.kid})
                        submitted.append(made.id)
                    except DomainError as exc:
                        err.print(f"[yellow]{version.kid} kept: {exc.detail}[/yellow]")
        return {**report.as_json(), "destruction_approvals": submitted}

    result = _run(work)
    if as_json:
        print(json.dumps(result))
    else:
        err.print(f"scanned {result['scanned']}, moved {result['moved']}, destructions "
                  f"submitted for approval: {result['destruction_approvals']}")

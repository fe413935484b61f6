"""What every command shares: the Typer apps, the console, settings, the platform.

Commands get their settings and their database only through here, so that every
one of them refuses a bad setting the same way (``preflight.py``): two lines on
stderr, exit 2, nothing created.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from ..domain.errors import DomainError
from ..origins import OriginError
from ..settings import Settings
from .preflight import EXIT_UNUSABLE, Unusable, check_store, load_settings, redact

if TYPE_CHECKING:
    from ..adapters.store import Database
    from ..bootstrap import Platform
    from ..domain.identity import Principal

app = typer.Typer(help="PayWarden: a self-hosted, security-first payment platform.",
                  no_args_is_help=True, add_completion=False)
bench_app = typer.Typer(help="Benchmarks that print JSON.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
err = Console(stderr=True)


@contextmanager
def refusing() -> Iterator[None]:
    """An :class:`Unusable` setting or store ends the command: its two lines, exit 2."""
    try:
        yield
    except Unusable as exc:
        refuse(exc)
    except OriginError as exc:
        refuse(Unusable(str(exc), "set PAYWARDEN_PUBLIC_URL, or listen on 127.0.0.1 "
                        "(--host or PAYWARDEN_HOST) for local use"))


def refuse(exc: Unusable) -> NoReturn:
    err.print(f"paywarden: {exc.problem}", style="red", markup=False, highlight=False,
              soft_wrap=True)
    err.print(exc.fix, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_UNUSABLE)


def settings_from_env() -> Settings:
    with refusing():
        return load_settings()


def open_store(settings: Settings, *, create: bool = False) -> Database:
    """The database alone (no keys, no engine threads), once preflight found it usable."""
    from ..adapters.store import open_database

    with refusing():
        check_store(settings, create=create, keys=False)
    return open_database(settings.database)


def open_platform(settings: Settings, *, create: bool = False) -> Platform:
    """The platform on a store preflight found usable; ``create``: it may be made now."""
    from ..bootstrap import build
    from ..logs import configure_logging

    with refusing():
        check_store(settings, create=create)
    configure_logging(settings.log_level, json=settings.log_json)
    return build(settings)


def operator_actor() -> str:
    """How the audit record names whoever runs a command on the server host."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"cli:{login}"


def host_principal(role: str) -> Principal:
    """Whoever runs a command on the server host, as the member of staff who submits a
    four-eyes command (decision 0044): it stores the command and changes nothing. The
    approval needs another person's passkey, which no host token carries."""
    from ..domain.identity import Kind, Principal

    return Principal(kind=Kind.STAFF, id=operator_actor(), roles=frozenset({role}))


def submit_for_approval(role: str, kind: str, params: dict[str, Any]) -> None:
    """Submit a four-eyes command as the host actor; print the approval's id on stdout."""
    platform = open_platform(settings_from_env())
    try:
        made = platform.approvals.submit(host_principal(role), kind, params)
    except DomainError as exc:
        err.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        platform.database.dispose()
    err.print(f"submitted for approval ({made.summary}); another member of staff approves "
              f"it with their passkey: POST /v1/approvals/{made.id}/approve")
    print(made.id)


__all__ = ["app", "bench_app", "err", "host_principal", "open_platform", "open_store",
           "operator_actor", "redact", "refusing", "settings_from_env", "submit_for_approval"]

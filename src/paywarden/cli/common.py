"""What every command shares: the Typer apps, the console, settings, the platform."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from ..settings import Settings

if TYPE_CHECKING:
    from ..bootstrap import Platform

app = typer.Typer(help="PayWarden: a self-hosted, security-first payment platform.",
                  no_args_is_help=True, add_completion=False)
bench_app = typer.Typer(help="Benchmarks that print JSON.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
err = Console(stderr=True)


def settings_from_env() -> Settings:
    return Settings()


def open_platform(settings: Settings) -> Platform:
    from ..bootstrap import build
    from ..logs import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    return build(settings)


def operator_actor() -> str:
    """How the audit record names whoever runs a command on the server host."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"cli:{login}"


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)

"""``paywarden clearing …``: the clearing network's commands (decision 0053). Each part
adds its own module of subcommands to :data:`clearing_app`."""

from __future__ import annotations

import typer

from .common import app

clearing_app = typer.Typer(help="The clearing network: messages, participants, windows.",
                           no_args_is_help=True)
app.add_typer(clearing_app, name="clearing")

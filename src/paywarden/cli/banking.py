"""``paywarden banking``: the bank's commands, one module per family (banking_*.py).

This module only holds the group, so that each family adds its commands to one
``banking_app`` (interest and safeguarding: ``banking_jobs.py``).
"""

from __future__ import annotations

import typer

from .common import app

banking_app = typer.Typer(help="Online banking: interest, safeguarding, statements.",
                          no_args_is_help=True)
app.add_typer(banking_app, name="banking")

"""The ``paywarden`` command: one module per family of subcommands."""

from __future__ import annotations

import os
import sys

from . import (  # noqa: F401 - registers the commands
    alerts,
    audit,
    backup,
    banking,
    banking_jobs,
    banking_statements,
    certification,
    clearing,
    clearing_nodes,
    clearing_recalls,
    clearing_returns,
    clearing_views,
    clearing_windows,
    evidence,
    ha,
    integrity,
    keys,
    merchants,
    network,
    payments,
    platform,
    registry,
    risk,
    risk_labels,
    risk_model,
    staff,
    supervision,
    tokens,
)
from .common import app


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(prog_name="paywarden")
    sys.exit(0)


__all__ = ["app", "main"]

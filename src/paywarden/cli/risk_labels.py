"""``paywarden risk labels export``: analysts' labels with the decisions' recorded features,
as the CSV ``paywarden risk model retrain --decisions`` reads (decision 0034)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import open_platform, operator_actor, settings_from_env
from .risk import risk_app

labels_app = typer.Typer(help="Analysts' labels of risk decisions.", no_args_is_help=True)
risk_app.add_typer(labels_app, name="labels")


@labels_app.command("export")
def export(out: Annotated[Path, typer.Option(help="the CSV to write")] = Path("labels.csv")
           ) -> None:
    """Write every labelled decision: its recorded features as the model's (empty where the
    decision did not record one) and the label. Audited: who took the labels out."""
    platform = open_platform(settings_from_env())
    try:
        with out.open("w", newline="", encoding="utf-8") as f:
            count = platform.risk_labels.export(f, actor=operator_actor())
    finally:
        platform.database.dispose()
    print(f"wrote {count} labelled decisions to {out}")

"""``paywarden risk labels export``: analysts' labels with the decisions' recorded features,
as the CSV ``paywarden risk model retrain --decisions`` reads (decision 0034)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import open_store, operator_actor, settings_from_env
from .risk import risk_app

labels_app = typer.Typer(help="Analysts' labels of risk decisions.", no_args_is_help=True)
risk_app.add_typer(labels_app, name="labels")


@labels_app.command("export")
def export(out: Annotated[Path, typer.Option(help="the CSV to write")] = Path("labels.csv")
           ) -> None:
    """Write every labelled decision: its recorded features as the model's (empty where the
    decision did not record one) and the label. Audited: who took the labels out."""
    from ..adapters.clock import SystemClock
    from ..services.risk.labels import Labels

    database = open_store(settings_from_env())
    try:
        with out.open("w", newline="", encoding="utf-8") as f:
            count = Labels(database, clock=SystemClock()).export(f, actor=operator_actor())
    finally:
        database.dispose()
    print(f"wrote {count} labelled decisions to {out}")

"""``paywarden risk model``: train, verify and retrain the learned risk score (0033).

Needs the ``risk`` extra (lightgbm, numpy). Nothing here touches the database: a model is
a signed release artifact, reviewed before the engine is pointed at it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import err
from .risk import risk_app

model_app = typer.Typer(help="The learned risk score: a signed model file.",
                        no_args_is_help=True)
risk_app.add_typer(model_app, name="model")

KeyOpt = Annotated[Path, typer.Option("--key", help="Ed25519 release key (PEM); made if absent")]
CustomersOpt = Annotated[int, typer.Option(help="the simulated world's customers")]
DEFAULT_CUSTOMERS = 3000  # risk_sim.pipeline.CUSTOMERS, without importing numpy here


def _build(seed: int, out: Path, key: Path, version: str, feedback: Path | None,
           parent: str | None, customers: int, decisions: Path | None = None) -> None:
    from ..risk_sim import pipeline, release_key
    from ..services.risk_model import artifact

    private = (release_key.load_private(key) if key.exists()
               else release_key.create_private(key))
    try:
        labels = pipeline.read_feedback(feedback) if feedback else None
        decided = pipeline.read_decisions(decisions) if decisions else None
    except ValueError as exc:
        err.print(f"[red]refused: {exc}[/red]")
        raise typer.Exit(2) from None
    built = pipeline.build(seed, version, customers=customers, feedback=labels,
                           parent=parent, decided=decided)
    sig = artifact.save(built, out, release_key.signer(private))
    print(json.dumps({"model": str(out), "signature": str(sig), "version": version,
                      "metrics": built.metadata["metrics"]["test"]}))


@model_app.command("train")
def train(seed: Annotated[int, typer.Option(help="the simulator's seed")] = 7,
          out: Annotated[Path, typer.Option(help="the model file")] = Path("risk-model.json"),
          key: KeyOpt = Path("risk-model-key.pem"),
          version: Annotated[str, typer.Option(help="the model's version")] = "1",
          customers: CustomersOpt = DEFAULT_CUSTOMERS) -> None:
    """Simulate, train, measure on held-out customers, and write the signed model."""
    _build(seed, out, key, version, None, None, customers)


@model_app.command("retrain")
def retrain(base: Annotated[Path, typer.Argument(help="the current model file")],
            public_key: Annotated[Path, typer.Option(help="the release key's public PEM")],
            out: Annotated[Path, typer.Option(help="the next model file")],
            labels: Annotated[Path | None, typer.Option(
                help="CSV: tx_id,label (fraud|false_positive) over simulated movements")]
            = None,
            decisions: Annotated[Path | None, typer.Option(
                help="`paywarden risk labels export`'s CSV: real decisions' recorded "
                     "features and analysts' labels")] = None,
            key: KeyOpt = Path("risk-model-key.pem")) -> None:
    """Fold analysts' labels into the next version, marked ``for_review``."""
    if labels is None and decisions is None:
        err.print("[red]give --labels, --decisions or both[/red]")
        raise typer.Exit(2)
    current = _verified(base, public_key)
    meta = current.metadata
    _build(int(meta["seed"]), out, key, str(int(current.version) + 1), labels,
           current.version, int(meta["customers"]), decisions)


@model_app.command("verify")
def verify(file: Annotated[Path, typer.Argument(help="the model file")],
           public_key: Annotated[Path, typer.Option(help="the release key's public PEM")]
           ) -> None:
    """Check the signature, version and feature list; print the metadata."""
    found = _verified(file, public_key)
    meta = {k: v for k, v in found.metadata.items() if k != "features"}
    print(json.dumps({"ok": True, **meta}))


def _verified(file: Path, public_key: Path):  # type: ignore[no-untyped-def]
    from ..risk_sim import release_key
    from ..services.risk_model import artifact

    trusted = release_key.trusting(release_key.load_public(public_key))
    try:
        return artifact.load(file, trusted.get)
    except artifact.ModelRefused as exc:
        err.print(f"[red]refused: {exc}[/red]")
        raise typer.Exit(2) from None

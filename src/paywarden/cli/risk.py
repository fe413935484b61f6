"""``paywarden risk …``: risk screening on the server host; ``risk sanctions`` loads a
list and screens a name (services/risk/sanctions.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..domain.errors import DomainError
from ..domain.risk.names import NameKind
from .common import app, open_store, operator_actor, settings_from_env

risk_app = typer.Typer(help="Risk screening.", no_args_is_help=True)
sanctions_app = typer.Typer(help="Sanctions lists and screening.", no_args_is_help=True)
app.add_typer(risk_app, name="risk")
risk_app.add_typer(sanctions_app, name="sanctions")
rules_app = typer.Typer(help="Rule set versions.", no_args_is_help=True)
risk_app.add_typer(rules_app, name="rules")
EXIT_REFUSED = 2


@sanctions_app.command("load")
def load(path: Annotated[Path, typer.Argument(help="a FollowTheMoney entities file, one "
                                              "JSON entity a line")]) -> None:
    """Replace the sanctions list with the file's entities (audited: who, digest, count)."""
    from ..adapters.clock import SystemClock
    from ..services.risk.sanctions import Sanctions

    database = open_store(settings_from_env())
    try:
        list_id, count = Sanctions(database, clock=SystemClock()).load(
            path, actor=operator_actor())
    except DomainError as exc:
        typer.echo(f"refused: {exc.detail}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        database.dispose()
    print(f"loaded {count} entities as {list_id}")


@sanctions_app.command("screen")
def screen(
    name: Annotated[str, typer.Argument(help="the name to screen")],
    kind: Annotated[NameKind, typer.Option(help="person, organization or any")]
    = NameKind.ANY,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Screen one name against the loaded list (read only; exit 0 with or without hits)."""
    from ..adapters.clock import SystemClock
    from ..services.risk.sanctions import Sanctions

    database = open_store(settings_from_env())
    try:
        hits = Sanctions(database, clock=SystemClock()).screen_name(name, kind)
    except DomainError as exc:
        typer.echo(f"refused: {exc.detail}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        database.dispose()
    rows = [{"entity_id": h.entity_id, "schema": h.schema, "matched_name": h.matched_name,
             "score": h.score, "birth_dates": list(h.birth_dates),
             "countries": list(h.countries)} for h in hits]
    if as_json:
        print(json.dumps({"hits": rows}, ensure_ascii=False))
        return
    if not rows:
        print("no hits")
    for r in rows:
        print(f"{r['score']:5.1f}  {r['entity_id']}  {r['schema']}  {r['matched_name']}")


@rules_app.command("backtest")
def backtest(
    version: Annotated[int, typer.Argument(help="the rule set version to back-test")],
    days: Annotated[int, typer.Option(help="how many days of decisions, 1 to 90")] = 30,
) -> None:
    """Run every rule of VERSION, as if active, over the last DAYS days of recorded
    decisions; print the report (JSON) and store it (needed before an approval)."""
    from ..adapters.clock import SystemClock
    from ..services.risk import RuleStore, built_in, catalogue
    from ..services.risk.backtest import Backtests

    settings = settings_from_env()
    database = open_store(settings)
    try:
        providers = built_in(key=b"-", new_origin_s=settings.risk_new_origin_s,
                             floor_minor=settings.risk_amount_floor_minor)
        rules = RuleStore(database, clock=SystemClock(), catalogue=catalogue(providers),
                          cache_s=0)
        done = Backtests(database, clock=SystemClock(), rules=rules).run(
            version, days=days, actor=operator_actor())
    except DomainError as exc:
        typer.echo(f"refused: {exc.detail}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        database.dispose()
    print(json.dumps(done.public(), sort_keys=True))

"""``paywarden alerts list``: the staff alerts, read on the server host (audited)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..domain.timestamps import rfc3339
from ..services.alerts import PAGE_SIZE_MAX
from .common import app, open_store, operator_actor, settings_from_env

alerts_app = typer.Typer(help="Alerts for staff.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("list")
def list_alerts(
    open_only: Annotated[bool, typer.Option("--open", help="only those not acknowledged")]
    = False,
    limit: Annotated[int, typer.Option(min=1, max=PAGE_SIZE_MAX, help="at most this many, "
                                       "newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Alerts for staff, newest first (exit 0 even if none)."""
    from ..adapters.clock import SystemClock
    from ..services.alerts import Alerts

    database = open_store(settings_from_env())
    try:
        page, _ = Alerts(database, clock=SystemClock()).page(
            actor=operator_actor(), limit=limit, open_only=open_only)
    finally:
        database.dispose()
    rows = [{"id": a.id, "kind": a.kind, "severity": str(a.severity), "subject": a.subject,
             "detail": a.detail, "created_at": rfc3339(a.created_at_ns),
             "acknowledged_by": a.acknowledged_by,
             "acknowledged_at": None if a.acknowledged_at_ns is None
             else rfc3339(a.acknowledged_at_ns)} for a in page]
    if as_json:
        print(json.dumps({"data": rows}))
        return
    if not rows:
        print("no alerts")
    for r in rows:
        state = f"acknowledged by {r['acknowledged_by']}" if r["acknowledged_by"] else "OPEN"
        print(f"{r['created_at']}  {r['severity']:<8} {r['id']}  {r['kind']}  {r['subject']}"
              f"  [{state}]")

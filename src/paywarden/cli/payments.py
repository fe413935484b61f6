"""``paywarden payments``: what staff on the server host see of escrow payments.

``parked`` lists the payments whose timer event was refused (e.g. a release to a
suspended merchant): why, since when, how often, and when it is tried again.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import typer

from ..domain.timestamps import rfc3339
from ..services.ledger.currencies import currency
from ..services.payments import ParkedPayment
from ..services.payments.timers import PARKED_PAGE_SIZE_MAX
from .common import app, open_platform, settings_from_env

payments_app = typer.Typer(help="Escrow payments: parked timers.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")


def _shown(p: ParkedPayment) -> str:
    """For people: 100.00 EUR, not 10000 (the JSON keeps integer minor units)."""
    exponent = currency(p.currency).exponent
    return f"{Decimal(p.amount_minor).scaleb(-exponent):.{exponent}f} {p.currency}"


def _row(p: ParkedPayment) -> dict[str, object]:
    return {"id": p.id, "merchant_id": p.merchant_id, "state": p.state,
            "amount": p.amount_minor, "currency": p.currency, "reason": p.reason,
            "parked_at": rfc3339(p.parked_at_ns), "attempts": p.attempts,
            "retry_at": rfc3339(p.retry_at_ns)}


@payments_app.command("parked")
def parked(limit: Annotated[int, typer.Option(min=1, max=PARKED_PAGE_SIZE_MAX,
                                              help="at most this many, longest parked first")]
           = 100,
           as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")]
           = False) -> None:
    """Payments whose timer event was refused, with the reason (exit 0 even if none)."""
    platform = open_platform(settings_from_env())
    try:
        found = platform.payments.parked(limit=limit)
    finally:
        platform.database.dispose()
    rows = [_row(p) for p in found]
    if as_json:
        print(json.dumps({"data": rows}))
        return
    if not rows:
        print("no parked payments")
    for p, r in zip(found, rows, strict=True):
        print(f"{r['id']}  {r['state']:<9} {_shown(p)}  {r['merchant_id']}  "
              f"{r['reason']}  attempts={r['attempts']}  since={r['parked_at']}  "
              f"retry={r['retry_at']}")

"""``paywarden banking interest run`` and ``paywarden banking safeguarding reconcile``.

Both are the scheduled jobs a serving process also runs as chores; here staff run
them by hand, e.g. to catch up after downtime or to check before a report.

    paywarden banking interest run [--date YYYY-MM-DD] [--json]
        accrue every day through DATE (default: the last complete day, UTC) and post
        every month that ended; exit 0, or 2 when DATE has not ended yet.
    paywarden banking safeguarding reconcile [--json]
        compare wallets with the safeguarded amount and the bank's figure; exit 1 on a
        shortfall (staff alerted), 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..domain.errors import DomainError
from ..services.ledger.currencies import currency
from .banking import banking_app
from .common import err, open_platform, operator_actor, settings_from_env

interest_app = typer.Typer(help="Interest on savings.", no_args_is_help=True)
safeguarding_app = typer.Typer(help="E-money safeguarding.", no_args_is_help=True)
banking_app.add_typer(interest_app, name="interest")
banking_app.add_typer(safeguarding_app, name="safeguarding")
SHORTFALL_EXIT = 1
REFUSED_EXIT = 2


def shown(amount_minor: int, code: str) -> str:
    """For people: 100.00 EUR (the JSON keeps integer minor units)."""
    exponent = currency(code).exponent
    return f"{Decimal(amount_minor).scaleb(-exponent):,.{exponent}f} {code}"


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]--date {value!r} is not a date: use YYYY-MM-DD[/red]")
        raise typer.Exit(REFUSED_EXIT) from None


@interest_app.command("run")
def interest_run(
    date: Annotated[str | None, typer.Option("--date", help="accrue through this UTC day, "
                                             "YYYY-MM-DD (default: the last complete day)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Accrue interest on savings for every day through DATE and post each month that
    ended. Idempotent: a day is accrued once; a killed run resumes where it stopped."""
    through = _day(date)
    platform = open_platform(settings_from_env())
    platform.start()
    try:
        with Progress(TextColumn("accruing interest"), BarColumn(),
                      TextColumn("{task.completed:,}/{task.total:,} accounts"),
                      TimeRemainingColumn(), console=err,
                      disable=as_json or not err.is_terminal) as bar:
            task = bar.add_task("interest", total=None)
            report = platform.interest.run(through, progress=lambda done, total: bar.update(
                task, completed=done, total=total))
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(REFUSED_EXIT) from None
    finally:
        platform.stop()
    if as_json:
        print(json.dumps(report.public()))
        return
    made = [p for p in report.postings if p.created]
    err.print(f"through {report.through.isoformat()}: {report.accounts} accounts, "
              f"{report.days_accrued} days accrued, {len(made)} monthly postings made")
    for p in made:
        print(f"{p.movement_id}  {p.account_id}  {p.public()['month']}  "
              f"{shown(p.amount_minor, p.currency)}")
    for r in report.refused:
        err.print(f"[yellow]refused {r['id']} ({r['code']})[/yellow]")


@safeguarding_app.command("reconcile")
def reconcile(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")]
              = False) -> None:
    """Check that the wallets' total never exceeds the safeguarded amount, per currency,
    against the books and the safeguarding bank; exit 1 on a shortfall (staff alerted)."""
    platform = open_platform(settings_from_env())
    try:
        done = platform.safeguarding.reconcile(actor=operator_actor())
    finally:
        platform.database.dispose()
    if as_json:
        print(json.dumps(done.public()))
    else:
        if not done.lines:
            print("no e-money in issue")
        for line in done.lines:
            print(f"{line.currency}  {line.status.upper():<9}  wallets "
                  f"{shown(line.wallets_minor, line.currency)}  safeguarded "
                  f"{shown(line.safeguarded_minor, line.currency)}  bank reports "
                  f"{shown(line.bank_reported_minor, line.currency)}")
            if line.shortfall_minor:
                print(f"     shortfall {shown(line.shortfall_minor, line.currency)}: "
                      "staff alerted")
            elif line.break_minor:
                print(f"     the bank differs from the books by "
                      f"{shown(line.break_minor, line.currency)}: staff alerted")
            if line.surplus_minor:
                print(f"     surplus {shown(line.surplus_minor, line.currency)}: "
                      f"{line.public()['note']}")
        err.print(f"recorded as audit entry {done.audit_index}")
    raise typer.Exit(SHORTFALL_EXIT if done.shortfall else 0)

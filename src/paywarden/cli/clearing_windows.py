"""``paywarden clearing windows`` and ``paywarden clearing window close|settle`` on a hub.

    paywarden clearing windows [--currency EUR]
        JSON: the newest windows first, each with its state, its participants' committed
        net positions (credits − debits) and their sum (zero).
    paywarden clearing window close CURRENCY [--window ID]
        close the open window (its obligations are final) and open the next; with
        --window only that one, and a rerun shows it as it stands; JSON.
    paywarden clearing window settle WINDOW_ID
        settle a closed window's obligations in one linked chain on the hub's ledger,
        once (a second settle exits 2: window_settled); JSON.

Both writes are audited under the host's actor. Settling is not a four-eyes command: the
operator chooses no amount and no party, only when; the amounts are what the committed
transfers fixed, and a window settles once (decision 0057).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from ..adapters.clock import SystemClock
from ..domain.errors import DomainError
from ..services.clearing.windows import NetWindows
from ..services.writepath import GroupWriter
from .clearing import clearing_app
from .common import err, open_store, operator_actor, settings_from_env

window_app = typer.Typer(help="Close or settle a net window (a hub's).", no_args_is_help=True)
clearing_app.add_typer(window_app, name="window")
REFUSED_EXIT = 2
T = TypeVar("T")


def _no_headroom(_bic: str) -> int:
    """This process reserves nothing: the hub's serving process does."""
    return 0


def _with_windows(work: Callable[[NetWindows], T]) -> T:
    database = open_store(settings_from_env())
    clock = SystemClock()
    writer = GroupWriter(database, clock=clock).start()
    try:
        return work(NetWindows(database, writer=writer, clock=clock, caps=_no_headroom))
    except DomainError as exc:
        err.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(REFUSED_EXIT) from None
    finally:
        writer.stop()
        database.dispose()


@clearing_app.command("windows")
def windows(currency: Annotated[str | None, typer.Option(help="only this currency")] = None
            ) -> None:
    """The net windows, newest first, with their positions per participant (JSON)."""
    views = _with_windows(lambda net: net.windows(currency))
    print(json.dumps([v.public() for v in views]))


@window_app.command("close")
def close(currency: Annotated[str, typer.Argument(help="e.g. EUR")],
          window: Annotated[str | None, typer.Option(
              "--window", help="close this window only; once closed it is shown as it "
              "stands (a rerun closes nothing more)")] = None) -> None:
    """Close the currency's open window and open the next."""
    closed = _with_windows(lambda net: net.close(currency, actor=operator_actor(),
                                                 window=window))
    print(json.dumps({"id": closed.id, "currency": closed.currency, "state": str(closed.state),
                      "closed_ns": closed.closed_ns}))


@window_app.command("settle")
def settle(window_id: Annotated[str, typer.Argument(help="e.g. EUR-7")]) -> None:
    """Settle a closed window's net obligations on the hub's ledger, once."""
    done = _with_windows(lambda net: net.settle(window_id, actor=operator_actor()))
    print(json.dumps(done.public()))

"""``paywarden clearing positions | payments | export | reconcile``: reading a node.

    positions --json     a hub: each participant's settlement balance, reserved amount,
                         net position over the unsettled windows and cap; the windows
    payments --json      a bank: its transfers through the network, out and in
    export --dir DIR     every ISO 20022 message sent or received, one file each, named
                         ``<direction>-<msgtype>-<msgid>.xml``
    notices --json       the bookings on this node's settlement accounts that their hub
                         notified (camt.054), newest first; a hub: how many it still owes
    reconcile --json     a bank against its hub's statement and notifications; a hub
                         against each peer hub's: every difference named (exit 1 when
                         there is one)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..services.clearing.bank.directory import parse_hub
from ..services.clearing.reconcile import Reconciler
from ..services.clearing.views import export as export_messages
from ..services.clearing.views import payments as bank_payments
from ..services.clearing.views import positions as hub_positions
from .clearing import clearing_app
from .clearing_nodes import Json, _node
from .common import err

out = Console()
DIFFERENCES_EXIT = 1


@clearing_app.command("positions")
def positions(as_json: Json = False) -> None:
    """A hub's participants: settlement balance, reserved, net position, cap."""
    with _node(started=False) as platform:
        assert platform.clearing is not None
        view = hub_positions(platform.database, platform.clearing.peers)
    if as_json:
        print(json.dumps(view))
        return
    table = Table(title=f"{platform.settings.clearing_bic} positions")
    for column in ("participant", "role", "settlement", "reserved", "net position", "cap"):
        table.add_column(column, justify="left" if column in ("participant", "role")
                         else "right")
    for row in view["participants"]:
        table.add_row(row["bic"], row["role"], f"{row['settlement']:,}",
                      f"{row['reserved']:,}", f"{row['net_position']:,}", f"{row['cap']:,}")
    out.print(table)
    out.print(f"transfers by state: {view['transfers']}; net positions sum "
              f"{view['net_positions_sum']}")


@clearing_app.command("payments")
def payments(as_json: Json = False) -> None:
    """A bank's transfers through the network, out and in."""
    with _node(started=False) as platform:
        view = bank_payments(platform.database)
    if as_json:
        print(json.dumps(view))
        return
    states: dict[str, int] = {}
    for row in view["out"]:
        states[row["state"]] = states.get(row["state"], 0) + 1
    out.print(f"out: {len(view['out'])} {states}; in: {len(view['in'])}; "
              f"waiting to be sent: {view['pending_out']}")


@clearing_app.command("export")
def export(directory: Annotated[Path, typer.Option("--dir", help="where the files go")],
           as_json: Json = False) -> None:
    """Every ISO 20022 message sent or received, one file each."""
    with _node(started=False) as platform:
        written = export_messages(platform.database, directory)
    if as_json:
        print(json.dumps({"dir": str(directory), "messages": written}))
    else:
        err.print(f"{written} messages written to {directory}")


@clearing_app.command("notices")
def notices(limit: Annotated[int, typer.Option(min=1, help="the newest this many")] = 100,
            as_json: Json = False) -> None:
    """The bookings on this node's settlement accounts that their hub notified
    (camt.054), newest first; on a hub, also how many notices it still owes."""
    with _node(started=False) as platform:
        node = platform.clearing
        assert node is not None and node.notices is not None
        got = node.notices.received(limit=limit)
        owed = node.notices.pending() if node.hub is not None else 0
    if as_json:
        print(json.dumps({"notices": got, "owed": owed}))
        return
    table = Table(title=f"{platform.settings.clearing_bic} notified bookings")
    for column in ("hub", "reference", "amount", "booked"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for n in got:
        sign = "" if n["credit"] else "-"
        table.add_row(n["hub"], n["reference"], f"{sign}{n['amount']:,} {n['currency']}",
                      str(n["booked_ns"]))
    out.print(table)
    if node.hub is not None:
        out.print(f"notices still owed to participants: {owed}")


@clearing_app.command("reconcile")
def reconcile(as_json: Json = False) -> None:
    """This node's view against its counterparties' statements; exit 1 on a difference."""
    with _node(started=False) as platform:
        node = platform.clearing
        assert node is not None and node.statements is not None
        reconciler = Reconciler(platform.database, statements=node.statements,
                                peers=node.peers, bic=node.transport.bic)
        if node.hub is not None:
            report = reconciler.hub()
        elif platform.settings.clearing_hub is not None:
            report = reconciler.bank(parse_hub(platform.settings.clearing_hub)[0])
        else:
            err.print("[red]this node has neither a hub nor peers to reconcile with[/red]")
            raise typer.Exit(2)
    data = report.public()
    if as_json:
        print(json.dumps(data))
    else:
        out.print(f"{data['node']}: {data['checked']} transfers checked against "
                  f"{', '.join(data['counterparties']) or 'nobody'}; "
                  f"{len(data['in_flight'])} in flight")
        for d in data["differences"]:
            out.print(f"[red]difference[/red] {d['uetr']} with {d['counterparty']} "
                      f"({d['source']}): ours {d['ours']}, theirs {d['theirs']}")
    if data["differences"]:
        raise typer.Exit(DIFFERENCES_EXIT)

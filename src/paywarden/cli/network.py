"""``paywarden network``: a local clearing network of separate processes on loopback.

`network up --regions 2 --banks 2` plans the nodes (paywarden/network/plan.py), makes a
data directory and SQLite database for each, provisions keys, certificates,
participants and money with each node's own commands, starts them all and serves
until Ctrl+C. `network status` shows every hub's positions and windows.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..network import Network, plan
from ..network.provision import fund, initialise, liquidity, register
from .common import app, err
from .in_process import InProcess

network_app = typer.Typer(help="A local clearing network: hubs and banks on loopback.",
                          no_args_is_help=True)
app.add_typer(network_app, name="network")

PLAN_FILE = "network.json"
out = Console()
Dir = Annotated[Path, typer.Option("--dir", help="where the nodes' data and logs live")]


@network_app.command("up")
def up(regions: Annotated[int, typer.Option(min=1, max=9)] = 2,
       banks: Annotated[int, typer.Option(min=1, max=9)] = 2,
       root: Dir = Path("var/network"),
       base_port: Annotated[int, typer.Option(min=1024, max=65_000)] = 8100,
       cap: Annotated[int, typer.Option(help="net debit cap, minor units")] = 10_000_000_00,
       reserves: Annotated[int, typer.Option(help="each participant's reserves")]
       = 100_000_000_00,
       moved: Annotated[int, typer.Option("--liquidity", help="moved into settlement by "
                                          "pacs.009")] = 50_000_000_00,
       channel: Annotated[str, typer.Option(help="RTGS or MPNS (net)")] = "RTGS",
       ) -> None:
    """Start a local network: REGIONS hubs with BANKS banks each, provisioned."""
    root = root.resolve()
    layout = plan(regions=regions, banks=banks, base_port=base_port, root=root)
    root.mkdir(parents=True, exist_ok=True)
    (root / PLAN_FILE).write_text(json.dumps(layout.public(), indent=2))
    net = Network(layout, commands=InProcess())  # each node's commands, no Python each
    err.print(f"provisioning {len(layout.nodes)} nodes in {root}")
    initialise(net)
    register(net, cap_minor=cap, channel=channel)
    fund(net, reserves_minor=reserves)
    stop = threading.Event()
    try:
        net.start_all(PAYWARDEN_CLEARING_CHANNEL=channel)  # how the banks settle
        liquidity(net, liquidity_minor=moved)
        out.print(_nodes_table(net))
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        err.print("the network is up; Ctrl+C stops every node")
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        net.stop_all()


@network_app.command("status")
def status(root: Dir = Path("var/network"),
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every hub's participants' positions and its net windows."""
    net = _existing(root)
    views = {hub.name: net.command_json(hub, "clearing", "positions", "--json")
             for hub in net.plan.hubs}
    if as_json:
        print(json.dumps(views))
        return
    for name, view in views.items():
        table = Table(title=f"{name} positions")
        for column in ("participant", "settlement", "reserved", "net position", "cap"):
            table.add_column(column, justify="right" if column != "participant" else "left")
        for row in view.get("participants", []):
            table.add_row(row["bic"], str(row["settlement"]), str(row["reserved"]),
                          str(row["net_position"]), str(row["cap"]))
        out.print(table)


def _existing(root: Path) -> Network:
    path = root.resolve() / PLAN_FILE
    if not path.exists():
        err.print(f"[red]no network in {root}[/red]: start one with `paywarden network up`")
        raise typer.Exit(2)
    saved = json.loads(path.read_text())
    hubs = [n for n in saved["nodes"] if n["role"] == "hub"]
    banks = len([n for n in saved["nodes"] if n["role"] == "bank"]) // max(len(hubs), 1)
    first = min(int(n["url"].rsplit(":", 1)[1]) for n in saved["nodes"])
    return Network(plan(regions=len(hubs), banks=banks, base_port=first, root=root.resolve()),
                   commands=InProcess())


def _nodes_table(net: Network) -> Table:
    table = Table(title="PayWarden clearing network")
    for column in ("node", "role", "region", "BIC", "URL", "pid"):
        table.add_column(column)
    for node in net.plan.nodes:
        table.add_row(node.name, node.role, str(node.region), node.bic, node.url,
                      str(net.pid(node) or "-"))
    return table

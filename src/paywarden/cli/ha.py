"""``paywarden ha``: a highly available PostgreSQL cluster on loopback (Patroni and etcd).

`ha up --members 3` starts three PostgreSQL 15 members, each under Patroni, and three
etcd members, with synchronous replication that waits for a replica (decision 0065);
it creates the database and prints the URL to serve PayWarden on. `ha status` shows
the members; `ha down` stops them (data kept; `--purge` removes it). For development
and tests: production runs Patroni with ``docs/ha/patroni.yml``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..ha import Cluster, ClusterFailed, existing, plan
from ..ha.cluster import PLAN_FILE
from .common import app, err

ha_app = typer.Typer(help="A highly available PostgreSQL cluster on loopback: Patroni and etcd.",
                     no_args_is_help=True)
app.add_typer(ha_app, name="ha")

out = Console() if sys.stdout.isatty() else Console(width=120)
Dir = Annotated[Path | None, typer.Option(
    "--dir", help="where the members' data and logs live (default: the data dir's ha/)")]


def _root(root: Path | None) -> Path:
    if root is not None:
        return root.resolve()
    from .common import settings_from_env

    return (settings_from_env().data_dir / "ha").resolve()


@ha_app.command("up")
def up(members: Annotated[int, typer.Option(min=2, max=9, help="PostgreSQL members")] = 3,
       etcd: Annotated[int, typer.Option(min=1, max=9, help="etcd members (odd)")] = 3,
       root: Dir = None,
       base_port: Annotated[int, typer.Option(min=1024, max=64_000)] = 15432,
       as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Start the cluster (or what of it is not running) and wait for a writable leader."""
    where = _root(root)
    try:
        layout = plan(members=members, etcd=etcd, base_port=base_port, root=where)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    cluster = Cluster(layout)
    with err.status(f"starting {members} PostgreSQL members and {etcd} etcd in {where}"):
        try:
            cluster.up()
        except ClusterFailed as exc:
            err.print(f"[red]paywarden: the cluster did not come up: {exc}[/red]")
            err.print(f"the members' logs are in {where}/pg*/; `paywarden ha down` stops "
                      "what started")
            raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({**layout.public(), "members_status": cluster.status()}))
        return
    out.print(_table(cluster))
    print("Serve PayWarden on it with:")
    print(f"  export PAYWARDEN_DATABASE_URL='{layout.database_url()}'")
    print(f"  export PAYWARDEN_PATRONI_URLS='{layout.patroni_urls()}'")
    print(f"  export PAYWARDEN_PITR_DIR='{layout.pitr_dir}'")
    print("  paywarden init && paywarden serve")


@ha_app.command("status")
def status(root: Dir = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The members as Patroni sees them: role, state, timeline and lag."""
    cluster = _existing(_root(root))
    if as_json:
        print(json.dumps({**cluster.plan.public(), "members_status": cluster.status()}))
        return
    out.print(_table(cluster))


@ha_app.command("down")
def down(root: Dir = None,
         purge: Annotated[bool, typer.Option("--purge", help="also remove every member's "
                                             "data")] = False) -> None:
    """Stop every member, then etcd."""
    cluster = _existing(_root(root))
    with err.status("stopping the cluster"):
        if purge:
            cluster.destroy()
        else:
            cluster.down()
    err.print("the cluster is stopped" + (" and its data removed" if purge else ""))


def _existing(root: Path) -> Cluster:
    if not (root / PLAN_FILE).exists():
        err.print(f"[red]paywarden: no cluster in {root}[/red]")
        err.print("start one with `paywarden ha up`")
        raise typer.Exit(2)
    return existing(root)


def _table(cluster: Cluster) -> Table:
    table = Table(title=f"PayWarden PostgreSQL cluster ({cluster.plan.scope})")
    for column in ("member", "address", "role", "state", "timeline", "lag (bytes)"):
        table.add_column(column)
    seen = {row["name"]: row for row in cluster.status()}
    for member in cluster.plan.members:
        row = seen.get(member.name, {})
        table.add_row(member.name, member.address, str(row.get("role", "-")),
                      str(row.get("state", "stopped")), str(row.get("timeline", "-")),
                      str(row.get("lag", "-")))
    return table

"""Service mode: the escrow flow through ``Payments`` in this process, on one database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.progress import Progress

from ...adapters.store import open_database
from ...bootstrap import build
from ...services.ledger.verify import verify_ledger
from ...settings import Settings
from .flows import service_flow
from .load import run_clients, summary
from .parties import buyers_needed, make_shoppers

FLOWS_S_CEILING = 640  # all clients together: 2.5 times the target of 250


def measure_service(url: str, data_dir: Path, *, clients: int, seconds: float,
                    warmup_flows: int, progress: Progress, label: str) -> dict[str, Any]:
    """Flows/s, transitions/s and latencies; then the ledger is verified."""
    database = open_database(url)
    database.migrate()
    platform = build(Settings(database_url=url, data_dir=data_dir), database=database)
    platform.start()
    try:
        shoppers = make_shoppers(platform, clients, buyers_each=buyers_needed(
            seconds=seconds, warmup_flows=warmup_flows, flows_s_max=FLOWS_S_CEILING / clients))
        units = [service_flow(platform, s) for s in shoppers]
        result = run_clients(units, seconds=seconds, warmup_units=warmup_flows,
                             progress=progress, label=label)
        violations = verify_ledger(platform.database)
    finally:
        platform.stop()
    return {**summary(result, unit_name="flows"),
            "verified": not violations, **({"violations": [v.check for v in violations]}
                                           if violations else {})}

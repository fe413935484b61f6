"""Failover under load: ``python bench/ha.py`` (issue 15; decision 0065).

Ledger transfers and escrow payments through two API processes on a three-member
Patroni cluster, the primary's postmaster killed with SIGKILL ``--failovers`` times;
after each, every acknowledged write is looked up and ``paywarden verify`` runs. The
last line of stdout is JSON: ``failovers, acknowledged, lost, duplicated,
write_downtime_s_p50, write_downtime_s_max, tps_before, tps_during, tps_after,
sync_commit_cost`` and the details behind them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .run import Options, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/ha.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--failovers", type=int, default=10)
    parser.add_argument("--writers", type=int, default=6, help="ledger writer clients")
    parser.add_argument("--buyers", type=int, default=2, help="escrow buyer clients")
    parser.add_argument("--window-s", type=float, default=10.0,
                        help="each throughput window")
    parser.add_argument("--between-s", type=float, default=8.0,
                        help="load between a failover's recovery and the next kill")
    parser.add_argument("--base-port", type=int, default=15432)
    parser.add_argument("--dir", type=Path, default=None, help="keep the cluster's files here")
    parser.add_argument("--scenarios", default="replica,etcd-leader,partition",
                        help="also: a replica lost, an etcd member lost, the primary "
                        "cut off from etcd (comma-separated; '' for none)")
    parser.add_argument("--quick", action="store_true",
                        help="3 failovers, short windows, no other scenario")
    args = parser.parse_args(argv)
    options = Options(failovers=args.failovers, writers=args.writers, buyers=args.buyers,
                      window_s=args.window_s, between_s=args.between_s,
                      base_port=args.base_port, root=args.dir,
                      scenarios=tuple(s for s in args.scenarios.split(",") if s))
    if args.quick:
        options = Options(failovers=3, writers=4, buyers=1, window_s=4.0, between_s=2.0,
                          base_port=args.base_port, root=args.dir)
    result = run(options)
    print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 and result["verify_ok"] else 1

"""The run: options, the plan, each site measured in turn, the JSON result."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from ...domain.ledger import BATCH_SIZE_MAX
from .engine_run import measure_engine
from .hordak import measure_hordak
from .limit import measure_limit
from .progress import make_progress
from .provenance import source_state
from .report import emit
from .sites import PostgresSite, SqliteSite, postgres_site
from .workload import AMOUNT_MAX, Workload, engine_rows, make_workload

TRANSFERS_FULL = 1_000_000
TRANSFERS_QUICK = 50_000
ACCOUNTS = 10_000
HORDAK_TRANSFERS_FULL = 2_000
HORDAK_TRANSFERS_QUICK = 300
HORDAK_THREADS = 4
IN_FLIGHT = 2  # the writer always finds the next submission queued
SEED = 20_240_601


@dataclass
class Plan:
    transfers: int
    accounts: int
    batch_size: int
    in_flight: int
    hordak_transfers: int
    hordak_threads: int
    seed: int
    quick: bool
    random: Workload = field(init=False)
    hot: Workload = field(init=False)
    rows: list[list[tuple[Any, ...]]] = field(init=False)


def run_site(site: Any, plan: Plan, progress: Progress, console: Console) -> dict[str, Any]:
    d = site.dialect
    out: dict[str, Any] = {"settings": site.describe()}

    with site.fresh("engine") as url:
        engine = measure_engine(
            url, plan.random, plan.accounts, plan.in_flight, progress, f"{d} engine"
        )
    console.log(
        f"{d} engine: {engine['tps']:,.0f} transfers/s; batch submit-to-result p50 "
        f"{engine['p50_batch_ms']:.0f} ms, p99 {engine['p99_batch_ms']:.0f} ms, "
        f"p100 {engine['p100_batch_ms']:.0f} ms; "
        f"apply+commit p50 {engine['p50_batch_apply_ms']:.0f} ms"
    )
    with site.fresh("hot") as url:
        hot = measure_engine(
            url, plan.hot, plan.accounts, plan.in_flight, progress, f"{d} engine, hot account"
        )
    console.log(f"{d} hot account: {hot['tps']:,.0f} transfers/s")
    with site.fresh("limit") as url:
        limit = measure_limit(url, plan.rows, False, progress, f"{d} limit (plain table)")
    console.log(f"{d} limit: {limit['tps']:,.0f} rows/s")
    with site.fresh("limit_indexed") as url:
        indexed = measure_limit(url, plan.rows, True, progress, f"{d} limit (PK + unique id)")
    console.log(f"{d} limit, indexed: {indexed['tps']:,.0f} rows/s")

    out.update(
        engine_tps=engine["tps"],
        limit_tps=limit["tps"],
        engine_over_limit=engine["tps"] / limit["tps"],
        limit_indexed_tps=indexed["tps"],
        engine_over_limit_indexed=engine["tps"] / indexed["tps"],
        p50_batch_ms=engine["p50_batch_ms"],
        p99_batch_ms=engine["p99_batch_ms"],
        p100_batch_ms=engine["p100_batch_ms"],
        p50_batch_apply_ms=engine["p50_batch_apply_ms"],
        p99_batch_apply_ms=engine["p99_batch_apply_ms"],
        p100_batch_apply_ms=engine["p100_batch_apply_ms"],
        hot_account_tps=hot["tps"],
        hot_p50_batch_ms=hot["p50_batch_ms"],
        hot_p99_batch_ms=hot["p99_batch_ms"],
        hot_p100_batch_ms=hot["p100_batch_ms"],
        hot_over_engine=hot["tps"] / engine["tps"],
        seconds={
            "engine": engine["seconds"],
            "hot": hot["seconds"],
            "limit": limit["seconds"],
            "limit_indexed": indexed["seconds"],
        },
        verified={"engine": engine["verified"], "hot": hot["verified"]},
    )
    return out


def run_hordak(
    site: PostgresSite, plan: Plan, progress: Progress, console: Console, engine_tps: float
) -> dict[str, Any]:
    transfers = [t for batch in plan.random.batches for t in batch][: plan.hordak_transfers]
    try:
        hordak = measure_hordak(site, transfers, plan.hordak_threads, progress)
    except Exception as exc:  # noqa: BLE001 - a failed peer: reported in the JSON
        console.log(f"[red]hordak failed: {type(exc).__name__}: {exc}")
        return {
            "hordak_tps": None,
            "engine_over_hordak": None,
            "hordak_error": f"{type(exc).__name__}: {exc}",
        }
    console.log(
        f"postgresql hordak: {hordak['tps']:,.0f} transfers/s (1 thread)"
        + (
            f", {hordak['concurrent_tps']:,.0f} ({hordak['threads']} threads)"
            if "concurrent_tps" in hordak
            else ""
        )
    )
    out = {"hordak_tps": hordak["tps"], "engine_over_hordak": engine_tps / hordak["tps"]}
    if "concurrent_tps" in hordak:
        out["hordak_concurrent_tps"] = hordak["concurrent_tps"]
        out["engine_over_hordak_concurrent"] = engine_tps / hordak["concurrent_tps"]
    out["hordak"] = {k: v for k, v in hordak.items() if k not in ("tps", "concurrent_tps")}
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="paywarden bench ledger",
        description="Ledger engine throughput against the storage limit and django-hordak. "
        "Progress on stderr; the last line of stdout is a JSON object.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"small run ({TRANSFERS_QUICK:,} transfers, {HORDAK_TRANSFERS_QUICK} "
        "for hordak), under a minute",
    )
    p.add_argument(
        "--transfers",
        type=int,
        default=None,
        help=f"transfers per engine measurement (default {TRANSFERS_FULL:,})",
    )
    p.add_argument(
        "--accounts", type=int, default=ACCOUNTS, help=f"accounts (default {ACCOUNTS:,})"
    )
    p.add_argument(
        "--hordak-transfers",
        type=int,
        default=None,
        help=f"transfers for hordak (default {HORDAK_TRANSFERS_FULL:,}, "
        f"quick {HORDAK_TRANSFERS_QUICK})",
    )
    p.add_argument(
        "--hordak-threads",
        type=int,
        default=HORDAK_THREADS,
        help="threads for hordak's concurrent half (1: sequential only)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE_MAX,
        help=f"transfers per submission (default and max {BATCH_SIZE_MAX})",
    )
    p.add_argument(
        "--in-flight",
        type=int,
        default=IN_FLIGHT,
        help="submissions kept outstanding by the feeder",
    )
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    p.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the SQLite files go (default: a new temp directory)",
    )
    p.add_argument("--out", type=Path, default=None, help="also write the JSON to this file")
    args = p.parse_args(argv)
    if args.transfers is None:
        args.transfers = TRANSFERS_QUICK if args.quick else TRANSFERS_FULL
    if args.hordak_transfers is None:
        args.hordak_transfers = HORDAK_TRANSFERS_QUICK if args.quick else HORDAK_TRANSFERS_FULL
    if args.transfers < 1:
        p.error("--transfers must be at least 1")
    if args.accounts < 2:
        p.error("--accounts must be at least 2")
    if not 1 <= args.batch_size <= BATCH_SIZE_MAX:
        p.error(f"--batch-size must be 1..{BATCH_SIZE_MAX}")
    if args.in_flight < 1 or args.hordak_threads < 1 or args.hordak_transfers < 0:
        p.error(
            "--in-flight and --hordak-threads must be at least 1, --hordak-transfers at least 0"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    plan = Plan(
        transfers=args.transfers,
        accounts=args.accounts,
        batch_size=args.batch_size,
        in_flight=args.in_flight,
        hordak_transfers=min(args.hordak_transfers, args.transfers),
        hordak_threads=args.hordak_threads,
        seed=args.seed,
        quick=args.quick,
    )
    run_started = time.perf_counter()
    source = source_state()
    load_before = os.getloadavg()
    rng = random.Random(plan.seed)
    with console.status("building workloads"):
        plan.random = make_workload(rng, plan.transfers, plan.accounts, plan.batch_size, hot=False)
        plan.hot = make_workload(rng, plan.transfers, plan.accounts, plan.batch_size, hot=True)
        plan.rows = engine_rows(plan.random, plan.accounts)
    result: dict[str, Any] = {}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="paywarden-bench-"))
    own_workdir = args.workdir is None
    try:
        with make_progress(console) as progress:
            if args.skip_sqlite:
                result["sqlite"] = {"skipped": True}
            else:
                result["sqlite"] = run_site(SqliteSite(workdir), plan, progress, console)
            if args.skip_postgres:
                result["postgresql"] = {"skipped": True}
            else:
                with contextlib.ExitStack() as stack:
                    try:
                        site = stack.enter_context(postgres_site())
                    except Exception as exc:  # noqa: BLE001 - no server: reported, SQLite stands
                        console.log(f"[red]postgresql not measured: {type(exc).__name__}: {exc}")
                        result["postgresql"] = {"error": f"{type(exc).__name__}: {exc}"}
                    else:
                        pg = run_site(site, plan, progress, console)
                        if plan.hordak_transfers:
                            pg.update(run_hordak(site, plan, progress, console, pg["engine_tps"]))
                        result["postgresql"] = pg
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    result["config"] = {
        "transfers": plan.transfers,
        "hot_account_transfers": plan.transfers,
        "accounts": plan.accounts,
        "batch_size": plan.batch_size,
        "batches": len(plan.random.batches),
        "in_flight": plan.in_flight,
        "hordak_transfers": plan.hordak_transfers if not args.skip_postgres else 0,
        "hordak_threads": plan.hordak_threads,
        "transfer_ids": "time_ordered",
        "transfer_id_format": "ulid_monotonic",
        "amounts": f"uniform 1..{AMOUNT_MAX} minor units",
        "seed": plan.seed,
        "quick": plan.quick,
        "source": source,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "wall_seconds": time.perf_counter() - run_started,
        # Other work on the machine skews every figure: here is how busy it was.
        "loadavg_1m_start_end": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "latency": "p50/p99/p100_batch_ms: submit to result per submission, including "
        "queueing behind the in-flight submissions; p50/p99/p100_batch_apply_ms: the writer's "
        "own time; p100 is the worst batch of the run",
    }
    emit(console, result, args.out)
    return 0

"""The run: options, each backend measured in turn, the HTTP server, the JSON result."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from ...domain.errors import InvariantViolation
from ..ledger.progress import make_progress
from ..ledger.provenance import source_state
from .http_mode import measure_http
from .limit import measure_commit_limit
from .report import emit
from .service import measure_service
from .sites import FreshDatabases, SqliteSite, postgres_site

CLIENTS = 16
CLIENTS_MAX = 256
SECONDS_FULL = 20.0
SECONDS_QUICK = 2.0
WARMUP_FLOWS = 1
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Plan:
    clients: int
    seconds: float
    warmup_flows: int
    workdir: Path


def run_site(site: SqliteSite | FreshDatabases, plan: Plan, progress: Progress,
             console: Console) -> dict[str, Any]:
    d = site.dialect
    with site.fresh("service") as url:
        service = measure_service(url, plan.workdir / f"{d}-service-data", clients=plan.clients,
                                  seconds=plan.seconds, warmup_flows=plan.warmup_flows,
                                  progress=progress, label=f"{d}: escrow flows")
    console.log(f"{d}: {service['flows_s']:,.1f} flows/s, {service['transitions_s']:,.0f} "
                f"transitions/s, p99 {service['p99_ms'] or 0:,.0f} ms, "
                f"{service['errors']} errors")
    with site.fresh("limit") as url:
        limit = measure_commit_limit(url, clients=plan.clients, seconds=plan.seconds,
                                     progress=progress, label=f"{d}: bare one-row commits")
    console.log(f"{d}: {limit['commit_limit_s']:,.0f} bare commits/s")
    return {**service, **limit,
            "over_commit_limit": service["transitions_s"] / limit["commit_limit_s"],
            "settings": site.describe()}


def run_http(site: SqliteSite | FreshDatabases, plan: Plan, progress: Progress,
             console: Console) -> dict[str, Any]:
    with site.fresh("http") as url:
        out = measure_http(url, plan.workdir / "http-data", clients=plan.clients,
                           seconds=plan.seconds, warmup_flows=plan.warmup_flows,
                           progress=progress, log_path=plan.workdir / "server.log")
    console.log(f"http: {out['flows_s']:,.1f} flows/s; GET /health/live {out['bare_rps']:,.0f}"
                f"/s, signed GET {out['signed_get_rps']:,.0f}/s; serving process "
                f"{out['serving_rss_mb']:,.0f} MB resident")
    return {"backend": site.dialect, **out}


def _guarded(label: str, console: Console,
             measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A failed measurement is reported in the JSON and the others go on."""
    try:
        return measure()
    except InvariantViolation:
        raise
    except Exception as exc:  # noqa: BLE001 - reported, not hidden: the JSON carries it
        console.log(f"[red]{label} not measured: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:2000]}


def measure(args: argparse.Namespace, plan: Plan, console: Console) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with make_progress(console) as progress, contextlib.ExitStack() as stack:
        sites: dict[str, Any] = {}

        def site(backend: str) -> Any:
            if backend not in sites:
                sites[backend] = (SqliteSite(plan.workdir) if backend == "sqlite"
                                  else stack.enter_context(postgres_site()))
            return sites[backend]

        for backend in BACKENDS:
            if backend not in args.backends:
                result[backend] = {"skipped": True}
                continue
            result[backend] = _guarded(backend, console, partial(
                run_site, site(backend), plan, progress, console))
        if args.http_backend == "none":
            result["http"] = {"skipped": True}
        else:
            result["http"] = _guarded("http", console, lambda: run_http(
                site(args.http_backend), plan, progress, console))
    for key in ("serving_rss_mb", "serving_peak_rss_mb"):
        result[key] = result["http"].pop(key, None)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="paywarden bench payments",
        description="The escrow flow (checkout, pay from a wallet, ship, confirm) through the "
        "service layer and over HTTP, against bare durable commits on the same storage. "
        "Progress on stderr; the last line of stdout is a JSON object.")
    p.add_argument("--quick", action="store_true",
                   help=f"{SECONDS_QUICK:g} s per measurement: the whole run in under a minute")
    p.add_argument("--seconds", type=float, default=None,
                   help=f"per measurement (default {SECONDS_FULL:g}, quick {SECONDS_QUICK:g})")
    p.add_argument("--clients", type=int, default=CLIENTS,
                   help=f"concurrent clients, threads (default {CLIENTS})")
    p.add_argument("--backends", default=",".join(BACKENDS),
                   help="service mode and commit limit on these (default: sqlite,postgresql)")
    p.add_argument("--http-backend", choices=[*BACKENDS, "none"], default="sqlite",
                   help="the database of the HTTP server (default sqlite; none: skip)")
    p.add_argument("--warmup-flows", type=int, default=WARMUP_FLOWS,
                   help="uncounted flows per client before each measurement")
    p.add_argument("--workdir", type=Path, default=None,
                   help="SQLite files, keys and the server log (default: a new temp directory)")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON to this file")
    p.add_argument("--json-only", action="store_true", help="nothing on stderr, JSON on stdout")
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := set(args.backends) - set(BACKENDS):
        p.error(f"--backends: unknown {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    if args.seconds is None:
        args.seconds = SECONDS_QUICK if args.quick else SECONDS_FULL
    if not 0 < args.seconds <= 3600:
        p.error("--seconds must be in (0, 3600]")
    if not 1 <= args.clients <= CLIENTS_MAX:
        p.error(f"--clients must be 1..{CLIENTS_MAX}")
    if args.warmup_flows < 0:
        p.error("--warmup-flows must be at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True, quiet=args.json_only)
    started = time.perf_counter()
    load_before = os.getloadavg()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="paywarden-bench-payments-"))
    plan = Plan(clients=args.clients, seconds=args.seconds, warmup_flows=args.warmup_flows,
                workdir=workdir)
    try:
        result = measure(args, plan, console)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    result["config"] = {
        "clients": plan.clients,
        "seconds_per_measurement": plan.seconds,
        "warmup_flows_per_client": plan.warmup_flows,
        "flow": "create checkout, pay from a funded wallet, ship, confirm: 4 transitions",
        "http_flow": "signed merchant requests (RFC 9421); the buyer's passkey step-up "
        "ceremony (timed as steps_ms.step_up, not as a transition) before paying",
        "rate_limits": "raised for the HTTP server (every request still passes the limiter)",
        "latency": "per transition, from the client's call to its answer",
        "quick": args.quick,
        "source": source_state(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "wall_seconds": time.perf_counter() - started,
        # Other work on the machine skews every figure: here is how busy it was.
        "loadavg_1m_start_end": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    emit(console, result, args.out)
    failed = [k for k in (*BACKENDS, "http") if "error" in result.get(k, {})]
    return 1 if failed else 0

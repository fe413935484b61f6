#!/usr/bin/env python3
"""Where a payment transition's CPU goes: ``python bench/payments_profile.py [--seconds S]``.

Runs the payments benchmark's service mode (the escrow flow, 16 clients, SQLite unless
``--database``) with some functions of the write path, the payments service and the risk
engine wrapped in timers of the calling thread's own CPU time (``time.thread_time``).
A sampling profiler misleads here: the process runs Python on one core at a time, and a
call that releases the GIL (a SQLite step, ``os.urandom``) is charged the time other
threads then run; cProfile cannot see the writer thread. Thread CPU time counts only what
the thread itself ran. Timers nest (a function's figure includes those it calls); each is
per transition and per call. On a shared machine compare shares, not absolutes. The last
line of stdout is JSON.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import paywarden  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from rich.console import Console

from paywarden.benchmarks.ledger.progress import make_progress
from paywarden.benchmarks.payments import service

# (module, class or None, function): what a transition runs, callers' side and writer's
TIMED = [
    ("paywarden.services.payments.service", "Payments", "_run"),
    ("paywarden.services.payments.service", "Payments", "create_checkout"),
    ("paywarden.services.payments.service", "Payments", "_screen"),
    ("paywarden.services.payments.service", "Payments", "_prepare"),
    ("paywarden.services.payments.service", "Payments", "_seal"),
    ("paywarden.services.risk.engine", "RiskEngine", "evaluate"),
    ("paywarden.services.risk.reads", "Reads", "rows"),
    ("paywarden.services.risk.coverage", "Coverage", "_refused_before"),
    ("paywarden.services.writepath.writer", "GroupWriter", "_batch"),
    ("paywarden.services.writepath.writer", "GroupWriter", "_one"),
    ("paywarden.services.writepath.batch", "Batch", "load"),
    ("paywarden.services.writepath.batch", "Batch", "flush"),
    ("paywarden.services.writepath.batch", "Batch", "_then"),
    ("paywarden.services.ledger.batch", "LedgerBatch", "flush"),
    ("paywarden.adapters.store.audit_log", None, "append"),
    ("paywarden.adapters.store.audit_log", None, "nodes"),
    ("paywarden.adapters.store.sqlite_file", "GuardedConnection", "commit"),
    ("paywarden.services.receipts", None, "sign"),
    ("paywarden.adapters.crypto", None, "seal"),
]


class Timers:
    def __init__(self) -> None:
        self.on = False
        self.spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        self._lock = threading.Lock()

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return original(*args, **kwargs)
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                with self._lock:
                    entry = self.spent[label]
                    entry[0] += spent
                    entry[1] += 1

        setattr(owner, name, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database", default=None,
                        help="a PostgreSQL URL to use as it is (default: a new SQLite file)")
    args = parser.parse_args()
    timers = Timers()
    for module, owner, name in TIMED:
        found = importlib.import_module(module)
        label = f"{owner or module.rsplit('.', 1)[1]}.{name}"
        timers.wrap(getattr(found, owner) if owner else found, name, label)
    run_clients = service.run_clients
    process: dict[str, float] = {}

    def measured(*a: Any, **k: Any) -> Any:
        timers.on, before, wall = True, os.times(), time.perf_counter()
        try:
            return run_clients(*a, **k)
        finally:
            timers.on, after = False, os.times()
            process.update(wall=time.perf_counter() - wall, user=after.user - before.user,
                           system=after.system - before.system)

    service.run_clients = measured  # type: ignore[assignment]
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database or f"sqlite:///{Path(directory) / 'profile.db'}"
        with make_progress(console) as progress:
            result = service.measure_service(url, Path(directory) / "data", clients=args.clients,
                                             seconds=args.seconds, warmup_flows=1,
                                             progress=progress, label="escrow flows")
    transitions = result["transitions_s"] * result["seconds"]
    cpu = process["user"] + process["system"]
    rows = sorted(({"function": label, "us_per_transition": 1e6 * spent / transitions,
                    "calls": calls, "us_per_call": 1e6 * spent / calls}
                   for label, (spent, calls) in timers.spent.items()),
                  key=lambda r: -float(r["us_per_transition"]))
    for row in rows:
        console.print(f"{row['function']:<38} {row['us_per_transition']:8.0f} µs/transition "
                      f"{row['calls']:8d} calls {row['us_per_call']:9.1f} µs/call")
    out = {"transitions_s": result["transitions_s"], "p99_ms": result["p99_ms"],
           "errors": result["errors"], "cpu_us_per_transition": 1e6 * cpu / transitions,
           "cores_busy": cpu / process["wall"],
           "system_share": process["system"] / cpu if cpu else None, "timers": rows}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

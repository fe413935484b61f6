#!/usr/bin/env python3
"""Where a ledger batch's time goes: ``python bench/ledger_profile.py [--batches N]``.

Drives the engine's batch step on SQLite (WAL, synchronous=FULL) in this thread,
with a few of its calls wrapped in timers (cProfile's per-call overhead would
inflate the pure-Python apply loop, and cannot see the writer thread). Each
phase is reported as a share of the batch's wall time: compare shares, not
absolutes, on a shared machine. The last line of stdout is JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import paywarden  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from paywarden.adapters.clock import SystemClock
from paywarden.adapters.store import open_database
from paywarden.benchmarks.ledger.engine_run import _setup_ledger
from paywarden.benchmarks.ledger.workload import make_workload
from paywarden.domain.ledger import BATCH_SIZE_MAX, Book
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger import engine as engine_module
from paywarden.services.ledger.writer_thread import Job

ACCOUNTS = 10_000


class _TimedConnection:
    """The writer's sqlite3 connection, with ``executemany`` timed by statement."""

    def __init__(self, conn: Any, spent: dict[str, float]) -> None:
        self._conn = conn
        self._spent = spent

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def executemany(self, sql: str, rows: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._conn.executemany(sql, rows)
        finally:
            self._spent["sql " + " ".join(sql.split()[:3]).lower()] += (
                time.perf_counter() - started)


def _timed(spent: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started
    return wrapper


def _gc_timer(spent: dict[str, float]) -> Callable[[str, dict[str, Any]], None]:
    """Time spent in the cycle collector, wherever in the batch it struck."""
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[f"gc (generation {info['generation']})"] += time.perf_counter() - started[0]
    return callback


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    db = open_database(f"sqlite:///{tempfile.mkdtemp()}/profile.db")
    _setup_ledger(db)
    engine = LedgerEngine(db, clock=SystemClock())
    engine._open()
    writer = engine._writer
    assert writer is not None
    new = [NewAccount(i, 978, 1) for i in range(1, ACCOUNTS + 1)]
    for start in range(0, ACCOUNTS, BATCH_SIZE_MAX):
        engine._guarded([Job("accounts", new[start:start + BATCH_SIZE_MAX])],
                        engine._run_single)
    spent: dict[str, float] = defaultdict(float)
    Book.apply = _timed(spent, "book.apply", Book.apply)  # type: ignore[method-assign]
    engine_module.batch_event = _timed(spent, "audit digest", engine_module.batch_event)
    gc.callbacks.append(_gc_timer(spent))
    for name in ("write_book", "commit"):
        setattr(writer, name, _timed(spent, f"writer.{name}", getattr(writer, name)))
    writer.conn = _TimedConnection(writer.conn, spent)
    work = make_workload(random.Random(7), args.batches * BATCH_SIZE_MAX, ACCOUNTS,
                         BATCH_SIZE_MAX, hot=False)
    started = time.perf_counter()
    for batch in work.batches:
        job = Job("transfers", batch)
        job.future.set_running_or_notify_cancel()
        with engine_module._gc_paused():  # as the writer thread's loop does
            engine._guarded([job], engine._run_transfers)
    total = time.perf_counter() - started
    engine._close()
    shares = {name: round(s / total, 3) for name, s in sorted(spent.items(), key=lambda kv:
                                                              -kv[1])}
    shares["writer.write_book (python: parameters)"] = round(
        shares.get("writer.write_book", 0) - sum(v for k, v in shares.items()
                                                 if k.startswith("sql ")), 3)
    shares["engine (ids, accounts, results, metrics)"] = round(
        1 - sum(v for k, v in spent.items() if not k.startswith(("sql ", "gc "))) / total, 3)
    for name, share in shares.items():
        print(f"{name:45s} {share:6.1%}", file=sys.stderr)
    print(json.dumps({"batches": args.batches, "batch_ms": round(total / args.batches * 1000, 1),
                      "transfers_s": round(args.batches * BATCH_SIZE_MAX / total),
                      "share_of_batch": shares}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

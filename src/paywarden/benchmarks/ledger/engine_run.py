"""Measuring the ledger engine: throughput and batch latency, then a balance check."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from rich.progress import Progress

from ...adapters.clock import SystemClock
from ...adapters.store import Database, open_database
from ...domain.ledger import BATCH_SIZE_MAX, TransferResult
from ...services.ledger import LedgerEngine, NewAccount
from .workload import ACCOUNT_CODE, CURRENCY, EXPONENT, LEDGER_ID, Workload

_OK = TransferResult.OK


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100)
    return sorted_values[int(rank) - 1]


def _setup_ledger(db: Database) -> None:
    db.migrate()
    with db.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO ledgers (id, currency, exponent, created_at) "
            f"VALUES ({LEDGER_ID}, '{CURRENCY}', {EXPONENT}, 0)"
        )


def _create_accounts(engine: LedgerEngine, accounts: int) -> None:
    ids = range(1, accounts + 1)
    for start in range(0, accounts, BATCH_SIZE_MAX):
        chunk = ids[start : start + BATCH_SIZE_MAX]
        results = engine.create_accounts(
            [NewAccount(id=i, ledger=LEDGER_ID, code=ACCOUNT_CODE) for i in chunk]
        ).result()
        bad = [r for r in results if r != "ok"]
        if bad:
            raise AssertionError(f"account creation failed: {sorted(set(bad))}")


def _verify_engine_run(db: Database, workload: Workload) -> dict[str, Any]:
    with db.engine.connect() as c:
        count, amount = c.exec_driver_sql(
            "SELECT count(*), COALESCE(SUM(amount), 0) FROM transfers"
        ).one()
        dp, dpo, cp, cpo = c.exec_driver_sql(
            "SELECT COALESCE(SUM(debits_pending), 0), COALESCE(SUM(debits_posted), 0), "
            "COALESCE(SUM(credits_pending), 0), COALESCE(SUM(credits_posted), 0) FROM accounts"
        ).one()
    problems = []
    if int(count) != workload.count:
        problems.append(f"{count} transfers stored, {workload.count} submitted")
    if int(dpo) != int(cpo):
        problems.append(f"posted debits {dpo} != posted credits {cpo}")
    if int(dp) or int(cp):
        problems.append(f"pending balances left: debits {dp}, credits {cp}")
    if int(dpo) != workload.total_amount or int(amount) != workload.total_amount:
        problems.append(
            f"amounts: submitted {workload.total_amount}, transfers {amount}, debits {dpo}"
        )
    if problems:
        raise AssertionError("engine run failed verification: " + "; ".join(problems))
    return {"transfers": int(count), "debits": int(dpo), "credits": int(cpo)}


def measure_engine(
    url: str, workload: Workload, accounts: int, in_flight: int, progress: Progress, label: str
) -> dict[str, Any]:
    db = open_database(url)
    try:
        _setup_ledger(db)
        engine = LedgerEngine(db, clock=SystemClock()).start()
        try:
            _create_accounts(engine, accounts)
            task = progress.add_task(label, total=workload.count)
            submitted: list[float] = [0.0] * len(workload.batches)
            finished: list[float] = [0.0] * len(workload.batches)
            outstanding: deque[Any] = deque()
            not_ok = 0

            def settle() -> None:
                nonlocal not_ok
                results = outstanding.popleft().result()
                not_ok += len(results) - results.count(_OK)
                progress.advance(task, len(results))

            def on_done(i: int) -> Callable[[Any], None]:
                def done(_future: Any) -> None:
                    finished[i] = time.perf_counter()

                return done

            started = time.perf_counter()
            for i, batch in enumerate(workload.batches):
                while len(outstanding) >= in_flight:
                    settle()
                submitted[i] = time.perf_counter()
                future = engine.submit(batch)
                future.add_done_callback(on_done(i))
                outstanding.append(future)
            while outstanding:
                settle()
            elapsed = time.perf_counter() - started
            progress.update(task, completed=workload.count)
            progress.stop_task(task)
        finally:
            engine.stop()
        if not_ok:
            raise AssertionError(f"{label}: {not_ok} transfers were not ok")
        checked = _verify_engine_run(db, workload)
    finally:
        db.dispose()
    latencies = sorted((f - s) * 1000 for s, f in zip(submitted, finished, strict=True))
    # Each submission is one writer batch (a full one cannot coalesce with another), so
    # the writer's time for batch i runs from when it could start (submitted, and the
    # previous batch done) to its result: apply + write + commit, without queueing.
    applies = sorted(
        (finished[i] - max(submitted[i], finished[i - 1] if i else 0.0)) * 1000
        for i in range(len(finished))
    )
    return {
        "tps": workload.count / elapsed,
        "seconds": elapsed,
        "p50_batch_ms": _percentile(latencies, 50),
        "p99_batch_ms": _percentile(latencies, 99),
        "p100_batch_ms": latencies[-1],  # the worst batch: a tail p99 can hide
        "p50_batch_apply_ms": _percentile(applies, 50),
        "p99_batch_apply_ms": _percentile(applies, 99),
        "p100_batch_apply_ms": applies[-1],
        "batches": len(latencies),
        "verified": checked,
    }

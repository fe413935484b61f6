"""Prometheus metrics of the ledger engine."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

TRANSFERS = Counter("paywarden_ledger_transfers_total", "Transfer events by result", ["result"])
BATCH_SECONDS = Histogram(
    "paywarden_ledger_batch_seconds",
    "Time to apply and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
BATCH_ROWS = Histogram(
    "paywarden_ledger_batch_rows",
    "Transfers written per committed batch",
    buckets=(1, 8, 64, 512, 2048, 4096, 8190),
)
EXPIRED = Counter("paywarden_ledger_pending_expired_total", "Pending transfers timed out")
OVERLOADED = Counter("paywarden_ledger_overloaded_total", "Submissions refused: queue full")


def observe_batch(seconds: float, rows: int, expired: int) -> None:
    if seconds:
        BATCH_SECONDS.observe(seconds)
    BATCH_ROWS.observe(rows)
    if expired:
        EXPIRED.inc(expired)


def count_results(results: Iterable[str]) -> None:
    for result, n in Tally(results).items():
        TRANSFERS.labels(result=result).inc(n)
ID_LOOKUP_RETRIES = Counter(
    "paywarden_ledger_id_lookup_retries_total",
    "Batches redone with id lookups because a submitted id existed already",
)

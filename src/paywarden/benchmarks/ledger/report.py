"""The result: rounded, summarised as a table on stderr, one JSON line on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if value < 100 else round(value, 1)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _summary(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="ledger benchmark", title_justify="left")
    table.add_column("figure")
    backends = [
        b
        for b in ("sqlite", "postgresql")
        if isinstance(result.get(b), dict) and "engine_tps" in result[b]
    ]
    for b in backends:
        table.add_column(b, justify="right")
    rows = [
        ("engine transfers/s", "engine_tps", "{:,.0f}"),
        ("limit rows/s (plain executemany)", "limit_tps", "{:,.0f}"),
        ("engine / limit", "engine_over_limit", "{:.2f}"),
        ("limit rows/s (PK + unique id)", "limit_indexed_tps", "{:,.0f}"),
        ("engine / limit indexed", "engine_over_limit_indexed", "{:.2f}"),
        ("batch p50 ms (submit to result)", "p50_batch_ms", "{:.1f}"),
        ("batch p99 ms", "p99_batch_ms", "{:.1f}"),
        ("batch p100 ms (worst)", "p100_batch_ms", "{:.1f}"),
        ("batch apply+commit p50 ms", "p50_batch_apply_ms", "{:.1f}"),
        ("batch apply+commit p99 ms", "p99_batch_apply_ms", "{:.1f}"),
        ("batch apply+commit p100 ms", "p100_batch_apply_ms", "{:.1f}"),
        ("hot account transfers/s", "hot_account_tps", "{:,.0f}"),
        ("hordak transfers/s (1 thread)", "hordak_tps", "{:,.0f}"),
        ("hordak transfers/s (threads)", "hordak_concurrent_tps", "{:,.0f}"),
        ("engine / hordak", "engine_over_hordak", "{:,.0f}"),
    ]
    for title, key, fmt in rows:
        cells = []
        for b in backends:
            v = result[b].get(key)
            cells.append("-" if v is None else fmt.format(v))
        if any(c != "-" for c in cells):
            table.add_row(title, *cells)
    console.print(table)


def emit(console: Console, result: dict[str, Any], out: Path | None) -> None:
    """Print the summary table, then ``result`` as the last line of stdout (and to ``out``)."""
    result = _round(result)
    _summary(console, result)
    text = json.dumps(result, separators=(", ", ": "))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(text + "\n")
    sys.stdout.flush()

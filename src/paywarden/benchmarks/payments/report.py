"""The result: rounded, summarised as a table on stderr, one JSON line on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

COLUMNS = ("sqlite", "postgresql", "http")
ROWS = (
    ("escrow flows/s", "flows_s", "{:,.1f}"),
    ("transitions/s", "transitions_s", "{:,.0f}"),
    ("transition p50 ms", "p50_ms", "{:,.1f}"),
    ("transition p99 ms", "p99_ms", "{:,.1f}"),
    ("transition p100 ms", "p100_ms", "{:,.1f}"),
    ("errors", "errors", "{:,}"),
    ("bare one-row commits/s", "commit_limit_s", "{:,.0f}"),
    ("transitions / bare commits", "over_commit_limit", "{:.3f}"),
    ("GET /health/live /s", "bare_rps", "{:,.0f}"),
    ("signed GET /v1/merchants/me /s", "signed_get_rps", "{:,.0f}"),
    ("signed / bare", "signed_over_bare", "{:.2f}"),
)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if abs(value) < 100 else round(value, 1)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def _summary(console: Console, result: dict[str, Any]) -> None:
    measured = [c for c in COLUMNS if "flows_s" in result.get(c, {})]
    table = Table(title=f"payments benchmark, {result['config']['clients']} clients",
                  title_justify="left")
    table.add_column("figure")
    for column in measured:
        table.add_column(column, justify="right")
    for title, key, fmt in ROWS:
        cells = [fmt.format(v) if (v := result[c].get(key)) is not None else "-"
                 for c in measured]
        if any(cell != "-" for cell in cells):
            table.add_row(title, *cells)
    console.print(table)
    if result.get("serving_rss_mb") is not None:
        console.print(f"serving process after the payments load: {result['serving_rss_mb']:,.0f}"
                      f" MB resident, peak {result['serving_peak_rss_mb']:,.0f} MB")


def emit(console: Console, result: dict[str, Any], out: Path | None) -> None:
    """Print the summary table, then ``result`` as the last line of stdout (and to ``out``)."""
    result = _round(result)
    _summary(console, result)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(json.dumps(result, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()

"""The payments benchmark, run end to end in a tiny mode: it prints every figure the issue
asks for, for each backend and for a real serving process. Its shape, never its speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paywarden.benchmarks.payments import main

SERVICE = {"flows_s", "transitions_s", "p50_ms", "p99_ms", "p100_ms", "commit_limit_s",
           "over_commit_limit", "clients"}
HTTP = {"flows_s", "transitions_s", "p50_ms", "p99_ms", "p100_ms", "bare_rps", "signed_get_rps",
        "signed_over_bare", "clients"}


def test_the_payments_benchmark_prints_every_figure_as_json(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    backends = ["sqlite", "postgresql"] if os.environ.get("PAYWARDEN_TEST_PG_URL") else ["sqlite"]
    code = main(["--clients", "2", "--seconds", "0.5", "--backends", ",".join(backends),
                 "--json-only", "--workdir", str(tmp_path)])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, result
    for backend in backends:
        figures = result[backend]
        assert SERVICE <= figures.keys(), figures
        assert figures["clients"] == 2 and figures["flows_s"] > 0 and figures["verified"]
        assert figures["errors"] == 0, figures.get("errors_by_kind")
        assert figures["commit_limit_s"] > 0 and figures["over_commit_limit"] > 0
    assert HTTP <= result["http"].keys(), result["http"]
    assert result["http"]["bare_rps"] > 0 and result["http"]["signed_get_rps"] > 0
    assert result["http"]["verified"] and result["http"]["errors"] == 0, result["http"]
    assert result["serving_rss_mb"] > 0 and result["serving_peak_rss_mb"] >= 0


def test_the_payments_profile_times_the_write_path_and_the_callers() -> None:
    """``bench/payments_profile.py`` wraps functions by name: a renamed one fails it here."""
    script = Path(__file__).resolve().parents[2] / "bench" / "payments_profile.py"
    done = subprocess.run([sys.executable, str(script), "--seconds", "0.5", "--clients", "2"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["transitions_s"] > 0 and result["errors"] == 0, result
    assert result["cpu_us_per_transition"] > 0
    calls = {row["function"]: row["calls"] for row in result["timers"]}
    for timed in ("GroupWriter._batch", "Payments._run", "Payments._screen",
                  "RiskEngine.evaluate", "audit_log.append"):
        assert calls.get(timed, 0) > 0, (timed, sorted(calls))

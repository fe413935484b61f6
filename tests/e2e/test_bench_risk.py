"""The risk benchmark in a tiny mode: it prints the issue's interface keys as JSON, every
screening the engine's own (no fallback passing for a fast answer). Its shape, never its
speed; the quality fields come from training on a small simulated world."""

from __future__ import annotations

import json

import pytest

from paywarden.benchmarks.risk import main

INTERFACE = {"screen_p50_ms", "screen_p99_ms", "screen_p100_ms", "screens_s", "precision",
             "recall", "auc", "false_positive_rate", "dataset"}


def test_the_risk_benchmark_prints_the_interface_figures_as_json(
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("lightgbm")
    code = main(["--screens", "120", "--customers", "20", "--callers", "2", "--history", "3",
                 "--quality-customers", "400"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and INTERFACE <= result.keys(), result
    assert result["screens"] == 120 and result["screens_s"] > 0
    assert set(result["engines"]) <= {"allow/ok", "step_up/ok", "review/ok", "decline/ok"}
    assert 0 < result["screen_p50_ms"] <= result["screen_p99_ms"] <= result["screen_p100_ms"]
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert 0.5 < result["auc"] <= 1 and "held out" in result["dataset"]

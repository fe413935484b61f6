"""The sharding model (bench/shards.py, decision 0066): its arithmetic, so that the
published figures follow from the stated assumptions."""

from __future__ import annotations

import pytest

from paywarden.benchmarks.shards import Inputs, capacity, hot_account_tps, latencies_ms, model


def test_one_shard_carries_what_was_measured_and_cross_traffic_costs_four_units() -> None:
    inputs = Inputs(shard_tps=1_000, cross=0.10)
    assert capacity(1, inputs) == pytest.approx(1_000)  # nothing is cross-shard alone
    assert capacity(2, inputs) == pytest.approx(2 * 1_000 / 1.3)
    assert capacity(16, Inputs(shard_tps=1_000, cross=0.0)) == pytest.approx(16_000)
    assert capacity(16, Inputs(shard_tps=1_000, cross=1.0)) == pytest.approx(4_000)


def test_a_cross_shard_transfer_takes_two_parallel_commits_twice() -> None:
    inputs = Inputs(commit_ms=4, commit_p99_ms=4.0001, rtt_ms=1)
    found = latencies_ms(4, inputs)
    assert found["local_p50_ms"] == pytest.approx(4, abs=0.1)
    assert found["cross_p50_ms"] == pytest.approx(2 * 4 + 2, abs=0.2)


def test_a_split_hot_account_takes_its_sub_accounts_less_the_sweeps() -> None:
    split = hot_account_tps(Inputs(account_tps=400, sub_accounts=16, sweep_s=1.0))
    assert split["split_tps"] == 16 * 400 - 16


def test_the_model_states_its_assumptions_with_its_figures() -> None:
    out = model(Inputs(), [1, 2, 4])
    assert out["assumptions"]["cross"] == Inputs().cross
    assert [row["shards"] for row in out["shards"]] == [1, 2, 4]  # type: ignore[index]

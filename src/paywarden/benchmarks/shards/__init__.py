"""Sharding on paper: ``python bench/shards.py`` (issue 15; decision 0066).

A model, not a measurement: what 1 to 16 ledger shards (one Patroni cluster each, a
ledger per currency or region) would carry and how long a cross-shard transfer would
take, computed from figures measured on one shard. Every assumption is a named input
and is printed with the result.

Assumptions (each a flag):

- A shard carries ``shard_tps`` local transfers a second at full load (its measured
  throughput) with a commit latency of ``commit_ms`` at low load (p50) and
  ``commit_p99_ms``. ``--from-ha FILE`` takes all three from a ``bench/ha.py`` run: its
  synchronous throughput and its transfers' latency, through the API, on a
  three-member cluster.
- A transfer stays in its shard with probability ``1 - cross``; otherwise its other side
  is on another shard, chosen uniformly. (With one shard nothing is cross-shard.)
- A cross-shard transfer is the settlement issue's two-phase protocol: a pending
  transfer on each shard (in parallel), then a post on each (in parallel), driven by
  the payer's shard, with one network round trip of ``rtt_ms`` per phase. It costs each
  of its two shards two commits where a local transfer costs one: ``4`` units of shard
  work against ``1``.
- A hot account (a merchant's settlement account that every payment credits) is split
  into ``sub_accounts`` sub-accounts swept into it every ``sweep_s``; one account takes
  at most ``account_tps`` updates a second (they serialise on its row).
- Each shard runs at the load its latency was measured at: a cross-shard transfer meets
  the same commit latency on both shards (no queueing model on top of the measurement).

Latency percentiles come from sampling: a commit's latency is log-normal through the
given p50 and p99, and a cross-shard transfer takes the slower of two parallel commits,
twice, plus two round trips.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import asdict, dataclass

CROSS_SHARD_WORK = 4.0  # two commits on each of two shards, against one commit
SAMPLES = 20_000
Z99 = 2.326  # the standard normal's 99th percentile


@dataclass(frozen=True)
class Inputs:
    shard_tps: float = 2_500.0
    commit_ms: float = 4.0
    commit_p99_ms: float = 15.0
    cross: float = 0.10
    rtt_ms: float = 1.0
    account_tps: float = 400.0
    sub_accounts: int = 16
    sweep_s: float = 1.0
    seed: int = 15


def capacity(n: int, inputs: Inputs) -> float:
    """Transfers a second that ``n`` shards carry together at full load: each shard does
    ``shard_tps`` units of work a second; a local transfer is one unit, a cross-shard
    one ``CROSS_SHARD_WORK`` (spread over its two shards)."""
    cross = inputs.cross if n > 1 else 0.0
    units = (1 - cross) + cross * CROSS_SHARD_WORK
    return n * inputs.shard_tps / units


def _lognormal(rng: random.Random, p50: float, p99: float) -> float:
    sigma = max(math.log(p99 / p50) / Z99, 1e-9)
    return p50 * math.exp(rng.gauss(0, sigma))


def latencies_ms(n: int, inputs: Inputs) -> dict[str, float]:
    """p50 and p99 of a local and a cross-shard transfer."""
    rng = random.Random(inputs.seed + n)
    p50, p99 = inputs.commit_ms, inputs.commit_p99_ms
    local = sorted(_lognormal(rng, p50, p99) for _ in range(SAMPLES))
    cross = sorted(
        sum(max(_lognormal(rng, p50, p99), _lognormal(rng, p50, p99)) for _ in range(2))
        + 2 * inputs.rtt_ms for _ in range(SAMPLES))
    return {"local_p50_ms": round(_at(local, 0.5), 1), "local_p99_ms": round(_at(local, 0.99), 1),
            "cross_p50_ms": round(_at(cross, 0.5), 1), "cross_p99_ms": round(_at(cross, 0.99), 1)}


def _at(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hot_account_tps(inputs: Inputs) -> dict[str, float]:
    """What one account takes alone, and split into sub-accounts with a sweep (the sweep
    is one more transfer per sub-account every ``sweep_s``)."""
    split = inputs.sub_accounts * inputs.account_tps - inputs.sub_accounts / inputs.sweep_s
    return {"one_account_tps": inputs.account_tps, "split_tps": round(split, 1),
            "sub_accounts": inputs.sub_accounts, "balance_lag_s": inputs.sweep_s}


def model(inputs: Inputs, shards: list[int]) -> dict[str, object]:
    rows = []
    for n in shards:
        total = capacity(n, inputs)
        rows.append({"shards": n, "capacity_tps": round(total),
                     "per_shard_tps": round(total / n),
                     "scaling": round(total / inputs.shard_tps, 2),
                     "cross_fraction": inputs.cross if n > 1 else 0.0,
                     **latencies_ms(n, inputs)})
    return {"assumptions": asdict(inputs), "shards": rows,
            "hot_account": hot_account_tps(inputs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/shards.py",
                                     description=__doc__.split("\n\n")[0])
    defaults = Inputs()
    for name, value in asdict(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--max-shards", type=int, default=16)
    parser.add_argument("--from-ha", type=argparse.FileType(), default=None, help=(
        "the output of bench/ha.py: one shard's throughput (tps_before) and transfer "
        "latency (transfer_ms_p50, transfer_ms_p99) as measured there"))
    args = vars(parser.parse_args(argv))
    top = args.pop("max_shards")
    measured = args.pop("from_ha")
    if measured is not None:
        ha = json.loads(measured.read().strip().splitlines()[-1])
        args.update(shard_tps=float(ha["tps_before"]), commit_ms=float(ha["transfer_ms_p50"]),
                    commit_p99_ms=float(ha["transfer_ms_p99"]))
    inputs = Inputs(**args)
    shards = [n for n in (1, 2, 4, 8, 16) if n <= top]
    print(json.dumps(model(inputs, shards)))
    return 0

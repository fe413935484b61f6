"""The whole simulation: a world, its ordinary month, and the injected fraud, in time
order. The same arguments give the same list, byte for byte."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .events import Txn
from .patterns import INJECTIONS
from .world import make_world, normal_activity


@dataclass(frozen=True)
class Simulation:
    txns: list[Txn]  # every movement and dispute notice, in time order, ids set
    opened_s: dict[int, float]  # when each customer's account was opened (s, negative)


def simulate(seed: int, *, customers: int = 2000, merchants: int = 150,
             days: int = 30) -> Simulation:
    """``days`` days of a world of ``customers`` customers, with injected fraud."""
    rng = np.random.default_rng(seed)
    world = make_world(rng, customers, merchants, days)
    txns = normal_activity(world)
    for _pattern, make, per_thousand in INJECTIONS:
        txns += make(world, max(1, math.ceil(per_thousand * customers / 1000)))
    horizon_s = days * 86_400.0
    txns = sorted((t for t in txns if 0.0 <= t.ts_s < horizon_s),
                  key=lambda t: (t.ts_s, t.customer, t.op))
    return Simulation([replace(t, tx_id=i) for i, t in enumerate(txns)],
                      {c.cid: c.opened_s for c in world.customers})

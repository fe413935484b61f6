"""Normal customers, merchants and staff, and their ordinary habits.

Ordinary life is made to look like fraud now and then, so the model cannot learn that
"new" means "fraud": customers change phones, travel, pay a new payee a large sum (a car,
a deposit), share a household device, pay the same utility companies as thousands of
others; some merchants refund a lot (clothing); staff key in corrections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .events import CARD, DISPUTE, REFUND, STAFF, TRANSFER, Txn

DAY_S = 86_400.0
HOUR_S = 3_600.0
BINS = 40
UTILITIES = 25  # payees shared by many customers: energy, phone, tax


@dataclass
class Customer:
    cid: int
    opened_s: float  # negative: opened before the simulation starts
    mu: float  # ln of a typical amount (minor units)
    sigma: float
    rate_per_day: float
    peak_hour: float
    devices: list[str]
    addresses: list[str]
    card: str
    payees: list[str]
    merchants: list[int]
    bin: int = 0


@dataclass
class World:
    rng: np.random.Generator
    days: int
    customers: list[Customer] = field(default_factory=list)
    merchant_refund_p: list[float] = field(default_factory=list)
    merchant_scale: list[float] = field(default_factory=list)
    staff: int = 15

    def hour_ts(self, day: int, peak: float, spread_h: float = 2.5) -> float:
        hour = (peak + float(self.rng.normal(0.0, spread_h))) % 24.0
        return day * DAY_S + hour * HOUR_S

    def amount(self, c: Customer, scale: float = 1.0) -> int:
        return max(50, int(math.exp(float(self.rng.normal(c.mu, c.sigma))) * scale))


def make_world(rng: np.random.Generator, customers: int, merchants: int, days: int) -> World:
    world = World(rng=rng, days=days)
    popularity = 1.0 / np.arange(1, merchants + 1) ** 0.8
    popularity /= popularity.sum()
    for m in range(merchants):
        high = rng.random() < 0.15  # clothing and the like: many honest refunds
        world.merchant_refund_p.append(float(rng.uniform(0.08, 0.2) if high
                                             else rng.uniform(0.005, 0.04)))
        world.merchant_scale.append(float(rng.lognormal(0.0, 0.5)))
    for cid in range(customers):
        young = rng.random() < 0.1
        opened = -float(rng.uniform(1, 30) if young else rng.uniform(30, 3000)) * DAY_S
        devices = [f"d{cid}.0"] + ([f"d{cid}.1"] if rng.random() < 0.3 else [])
        payees = [f"p{cid}.{k}" for k in range(int(rng.integers(2, 7)))]
        payees += [f"util{int(u)}" for u in rng.choice(UTILITIES, size=2, replace=False)]
        world.customers.append(Customer(
            cid=cid, opened_s=opened, mu=float(rng.normal(math.log(3000), 0.7)),
            sigma=float(rng.uniform(0.3, 0.9)), rate_per_day=float(rng.gamma(2.0, 0.6)),
            peak_hour=float(rng.uniform(8, 22)), devices=devices, addresses=[f"a{cid}"],
            card="", payees=payees,
            merchants=[int(m) for m in rng.choice(merchants, size=int(rng.integers(4, 15)),
                                                  p=popularity)],
            bin=int(rng.integers(0, BINS))))
        world.customers[-1].card = f"4{world.customers[-1].bin:05d}-{cid}"
    for household in range(customers // 12):  # a shared home: one address, one tablet
        a, b = (world.customers[int(i)] for i in rng.choice(customers, size=2, replace=False))
        b.addresses.append(a.addresses[0])
        b.devices.append(a.devices[0])
    return world


def normal_activity(world: World) -> list[Txn]:
    rng, out = world.rng, []
    for c in world.customers:
        count = int(rng.poisson(c.rate_per_day * world.days))
        moved_on = float(rng.uniform(0, world.days)) if rng.random() < 0.06 else None
        trip = float(rng.uniform(0, world.days - 3)) if rng.random() < 0.06 else None
        for _ in range(count):
            day = int(rng.integers(0, world.days))
            ts = world.hour_ts(day, c.peak_hour)
            device = c.devices[int(rng.integers(0, len(c.devices)))]
            if moved_on is not None and ts >= moved_on * DAY_S:
                device = f"d{c.cid}.new"  # a new phone, used from then on
            address = c.addresses[int(rng.integers(0, len(c.addresses)))]
            if trip is not None and trip * DAY_S <= ts < (trip + 3) * DAY_S:
                address = f"trip{c.cid}"
            roll = rng.random()
            if roll < 0.72:
                m = c.merchants[int(rng.integers(0, len(c.merchants)))]
                amount = world.amount(c, world.merchant_scale[m])
                declined = bool(rng.random() < 0.02)
                out.append(Txn(ts, CARD, c.cid, amount, device, address, card=c.card,
                               merchant=m, declined=declined))
                if not declined:
                    out.extend(_aftermath(world, c, m, ts, amount, device, address))
            else:
                payee = c.payees[int(rng.integers(0, len(c.payees)))]
                out.append(Txn(ts, TRANSFER, c.cid, world.amount(c, 2.5), device, address,
                               payee=payee))
        if rng.random() < 0.04:  # a large payment to a new payee: a car, a deposit
            ts = world.hour_ts(int(rng.integers(0, world.days)), c.peak_hour)
            out.append(Txn(ts, TRANSFER, c.cid, world.amount(c, float(rng.uniform(8, 30))),
                           c.devices[0], c.addresses[0], payee=f"big{c.cid}"))
        if rng.random() < 0.05:  # a staff correction, in office hours, to a known payee
            ts = world.hour_ts(int(rng.integers(0, world.days)), 13.0, 2.0)
            out.append(Txn(ts, STAFF, c.cid, world.amount(c, float(rng.uniform(0.5, 4))),
                           "staff-console", "office", payee=c.payees[0],
                           staff=int(rng.integers(0, world.staff))))
    return out


def _aftermath(world: World, c: Customer, m: int, ts: float, amount: int, device: str,
               address: str) -> list[Txn]:
    """An honest refund or, rarely, an honest dispute some days after a purchase."""
    rng = world.rng
    if rng.random() < world.merchant_refund_p[m]:
        return [Txn(ts + float(rng.uniform(1, 10)) * DAY_S, REFUND, c.cid,
                    int(amount * float(rng.uniform(0.3, 1.0))), "merchant", "merchant",
                    card=c.card, merchant=m)]
    if rng.random() < 0.003:
        return [Txn(ts + float(rng.uniform(5, 20)) * DAY_S, DISPUTE, c.cid, amount, "", "",
                    merchant=m)]
    return []

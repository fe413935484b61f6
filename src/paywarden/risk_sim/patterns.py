"""The injected fraud patterns. Each returns its labelled movements (and the disputes its
card fraud later causes). Counts scale with the number of customers."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from .events import (
    ACCOUNT_TAKEOVER,
    CARD,
    CARD_TESTING,
    DISPUTE,
    INSIDER,
    MULE_CHAIN,
    REFUND,
    REFUND_ABUSE,
    STAFF,
    TRANSFER,
    TRIANGULATION,
    Txn,
)
from .world import DAY_S, HOUR_S, World


def _start(world: World) -> float:
    return float(world.rng.uniform(1, world.days - 1)) * DAY_S


def _victim(world: World) -> int:
    return int(world.rng.integers(0, len(world.customers)))


def _dispute(world: World, txn: Txn) -> Txn:
    return Txn(txn.ts_s + float(world.rng.uniform(3, 20)) * DAY_S, DISPUTE, txn.customer,
               txn.amount_minor, "", "", merchant=txn.merchant)


def account_takeover(world: World, n: int) -> list[Txn]:
    """Phished credentials: a new device (or, for a trojan, the customer's own), a new payee
    owned by the ring, then one to three large transfers within the hour."""
    rng, out = world.rng, []
    ring_payees = [f"mule-ext{k}" for k in range(max(2, n // 6))]
    for i in range(n):
        c = world.customers[_victim(world)]
        ts = _start(world)
        trojan = rng.random() < 0.15
        device = c.devices[0] if trojan else f"ato-dev{i % max(1, n // 3)}"
        address = c.addresses[0] if trojan else f"ato-ip{i % max(1, n // 4)}"
        payee = ring_payees[int(rng.integers(0, len(ring_payees)))]
        for _ in range(int(rng.integers(1, 4))):
            ts += float(rng.uniform(60, 1200))
            out.append(Txn(ts, TRANSFER, c.cid, world.amount(c, float(rng.uniform(5, 40))),
                           device, address, payee=payee, fraud=True, pattern=ACCOUNT_TAKEOVER))
    return out


def card_testing(world: World, n: int) -> list[Txn]:
    """A stolen card tried with many small amounts, mostly declined, then a large payment."""
    rng, out = world.rng, []
    merchants = len(world.merchant_scale)
    for i in range(n):
        c = world.customers[_victim(world)]
        ts = _start(world)
        device, address = f"ct-dev{i % max(1, n // 2)}", f"ct-ip{i % max(1, n // 3)}"
        shops = [int(m) for m in rng.integers(0, merchants, size=3)]
        for _ in range(int(rng.integers(6, 25))):
            ts += float(rng.uniform(5, 120))
            out.append(Txn(ts, CARD, c.cid, int(rng.integers(100, 600)), device, address,
                           card=c.card, merchant=shops[int(rng.integers(0, 3))],
                           declined=bool(rng.random() < 0.7), fraud=True,
                           pattern=CARD_TESTING))
        for _ in range(int(rng.integers(1, 3))):
            ts += float(rng.uniform(60, 1800))
            big = Txn(ts, CARD, c.cid, world.amount(c, float(rng.uniform(5, 30))), device,
                      address, card=c.card, merchant=shops[0], fraud=True,
                      pattern=CARD_TESTING)
            out += [big, _dispute(world, big)]
    return out


def mule_chains(world: World, n: int) -> list[Txn]:
    """Money in and straight out again through 3-5 recruited accounts (young ones mostly),
    minutes apart, a little skimmed at each hop, then cashed out."""
    rng, out = world.rng, []
    for i in range(n):
        hops = int(rng.integers(3, 6))
        young = [c.cid for c in world.customers if c.opened_s > -90 * DAY_S]
        pool = young if len(young) >= hops + 1 and rng.random() < 0.7 else list(
            range(len(world.customers)))
        chain = [int(x) for x in rng.choice(pool, size=hops + 1, replace=False)]
        ts, amount = _start(world), world.amount(world.customers[chain[0]], 15.0)
        for a, b in pairwise(chain):
            ca = world.customers[a]
            ts += float(rng.uniform(300, 3600))
            out.append(Txn(ts, TRANSFER, a, amount, ca.devices[0], ca.addresses[0],
                           payee=f"c{b}", fraud=True, pattern=MULE_CHAIN))
            amount = int(amount * float(rng.uniform(0.9, 0.98)))
        last = world.customers[chain[-1]]
        out.append(Txn(ts + float(rng.uniform(300, 3600)), TRANSFER, last.cid, amount,
                       last.devices[0], last.addresses[0], payee=f"cashout{i % 5}",
                       fraud=True, pattern=MULE_CHAIN))
    return out


def refund_abuse(world: World, n: int) -> list[Txn]:
    """A purchase, then refunds adding up to more than was paid, over a few days."""
    rng, out = world.rng, []
    for _ in range(n):
        c = world.customers[_victim(world)]
        m = c.merchants[0]
        ts = _start(world)
        amount = world.amount(c)
        out.append(Txn(ts, CARD, c.cid, amount, c.devices[0], c.addresses[0], card=c.card,
                       merchant=m))
        for _ in range(int(rng.integers(3, 9))):
            ts += float(rng.uniform(0.1, 1.5)) * DAY_S
            out.append(Txn(ts, REFUND, c.cid, int(amount * float(rng.uniform(0.6, 1.2))),
                           "merchant", "merchant", card=c.card, merchant=m, fraud=True,
                           pattern=REFUND_ABUSE))
    return out


def triangulation(world: World, n: int) -> list[Txn]:
    """A fake storefront buys its customers' goods from real merchants with stolen cards:
    ordinary amounts, but one device and shipping address across many victims' cards."""
    rng, out = world.rng, []
    rings = max(1, n // 8)
    for i in range(n):
        ring = i % rings
        c = world.customers[_victim(world)]
        ts = _start(world)
        for _ in range(int(rng.integers(1, 3))):
            ts += float(rng.uniform(600, 7200))
            m = int(rng.integers(0, min(20, len(world.merchant_scale))))  # big shops
            buy = Txn(ts, CARD, c.cid, world.amount(c, float(rng.uniform(1, 4))),
                      f"tri-dev{ring}", f"tri-ship{ring}", card=c.card, merchant=m,
                      fraud=True, pattern=TRIANGULATION)
            out += [buy, _dispute(world, buy)]
    return out


def insider(world: World, n: int) -> list[Txn]:
    """A compromised staff account moves money out of customers' accounts to new payees,
    out of hours, several in a row."""
    rng, out = world.rng, []
    staff = world.staff + 1  # not one of the honest ids
    ts = _start(world)
    for i in range(n):
        if i % 6 == 0:
            staff, ts = staff + 1, _start(world)
            ts = ts - (ts % DAY_S) + float(rng.uniform(19, 27)) * HOUR_S
        c = world.customers[_victim(world)]
        ts += float(rng.uniform(120, 1800))
        out.append(Txn(ts, STAFF, c.cid, world.amount(c, float(rng.uniform(3, 25))),
                       "staff-console", f"staff-vpn{staff}", payee=f"ins-payee{i // 3}",
                       staff=staff, fraud=True, pattern=INSIDER))
    return out


# pattern, its maker, and how many per 1,000 customers
INJECTIONS: tuple[tuple[str, Callable[[World, int], list[Txn]], float], ...] = (
    (ACCOUNT_TAKEOVER, account_takeover, 25.0),
    (CARD_TESTING, card_testing, 6.0),
    (MULE_CHAIN, mule_chains, 10.0),
    (REFUND_ABUSE, refund_abuse, 10.0),
    (TRIANGULATION, triangulation, 30.0),
    (INSIDER, insider, 12.0),
)

__all__ = ["INJECTIONS", "REFUND", "STAFF"]

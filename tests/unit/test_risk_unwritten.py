"""A batch's unwritten screenings, indexed (services/risk/features.Unwritten): the counts
each later screening of a payment file adds are those of reading every earlier one."""

from __future__ import annotations

import random

from paywarden.services.risk.features import _KEY_PARAMS, Earlier, Unwritten, Velocity

NS = 1_000_000_000


def counted_one_by_one(entries: list[Earlier], key: str, since: int) -> int:
    return sum(1 for e in entries if key in e.keys and e.at >= since)


def test_counts_and_amounts_are_those_of_reading_each_earlier_screening() -> None:
    rng = random.Random(7)
    keys = ["customer:u1", "account:a1", "payee:p1", "payee:p2"]
    entries = [Earlier(tuple(rng.sample(keys, rng.randint(0, 3))),
                       rng.choice(["a1", "a2", None]), rng.randint(1, 900),
                       rng.randint(0, 7200) * NS) for _ in range(300)]
    index = Unwritten()
    for n, entry in enumerate(entries, start=1):
        index.add(entry)
        seen = entries[:n]
        for key in [*keys, "device:never"]:
            for since in (0, 60 * NS, 3600 * NS, 7201 * NS):
                assert index.count(key, since) == counted_one_by_one(seen, key, since)
        assert index.amounts("a1") == [(e.amount_minor, e.at) for e in seen
                                       if e.account_id == "a1"]
    assert index.size == len(entries)
    assert Unwritten(entries).count("payee:p1", 0) == index.count("payee:p1", 0)


def test_the_amounts_given_are_a_copy() -> None:
    index = Unwritten([Earlier(("customer:u1",), "a1", 5, 0)])
    index.amounts("a1").append((9, 9))
    assert index.amounts("a1") == [(5, 0)]


class CountingReads:
    """Reads that answer from a fixed table of rows per statement, and count the reads."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, dict[str, object]]] = []

    def rows(self, statement: object, params: dict[str, object]) -> list[tuple[object, ...]]:
        self.calls.append((statement, dict(params)))
        if statement is Velocity.COUNTS:
            return [(params[p], 1, 2, 3) for p in _KEY_PARAMS if params[p] is not None]
        return [(5, 0)]  # a created_at; a payee's (created_at, cooling_until); an amount


def test_a_batch_reads_each_customers_history_once_and_a_new_payee_once() -> None:
    """A payment file's payments from one account to two payees: the customer's and the
    account's counts and history are read at its first payment; each payee's counts at its
    own first payment; a screening outside a batch reads as it always did."""
    from paywarden.services.risk.features import (
        AmountHistory,
        Basics,
        Context,
        Payee,
        Subject,
    )

    reads = CountingReads()
    batch = Unwritten()
    providers = [Basics(), Velocity(key=b"k" * 32), Payee(), AmountHistory(floor_minor=100)]
    for n, payee in enumerate(["NL01", "NL02", "NL01", "NL02", "NL01"]):
        subject = Subject("bank.external", f"m{n}", "external", "u1", 700, "EUR", "a1",
                          payee)
        ctx = Context(reads, subject, 1_000 * NS + n, earlier=batch)  # type: ignore[arg-type]
        counted = {}
        for p in providers:
            counted.update(p.compute(ctx))
        before = ["NL01", "NL02", "NL01", "NL02", "NL01"][:n]
        assert counted["velocity_customer_24h"] == 3 + n  # the read, and the batch's own
        assert counted["velocity_payee_1h"] == 2 + before.count(payee)
        batch.add(Earlier(tuple(ctx.keys), "a1", 700, ctx.now_ns))
    velocity = [p for s, p in reads.calls if s is Velocity.COUNTS]
    asked = [sorted(v for k, v in p.items() if k in _KEY_PARAMS and v) for p in velocity]
    assert [len(a) for a in asked] == [3, 1]  # customer, account, payee 1; then payee 2
    assert len(reads.calls) == 2 + 1 + 2 + 1  # velocity 2, created 1, payees 2, amounts 1
    alone = CountingReads()  # outside a batch: one read of each, every time
    for n in range(2):
        ctx = Context(alone, Subject("bank.external", f"s{n}", "external", "u1", 700, "EUR",
                                     "a1", "NL01"), 1_000 * NS)  # type: ignore[arg-type]
        for p in providers:
            p.compute(ctx)
    assert len(alone.calls) == 2 * 4

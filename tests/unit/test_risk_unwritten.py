"""A batch's unwritten screenings, indexed (services/risk/features.Unwritten): the counts
each later screening of a payment file adds are those of reading every earlier one."""

from __future__ import annotations

import random

from paywarden.services.risk.features import Earlier, Unwritten

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

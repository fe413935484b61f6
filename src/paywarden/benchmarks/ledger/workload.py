"""The benchmark's workload: accounts, transfers with time-ordered ids, engine rows."""

from __future__ import annotations

import base64
import random
import time
from dataclasses import dataclass
from typing import Any

from ...domain.ledger import Account, Book, Transfer, TransferResult

LEDGER_ID = 978  # ISO 4217 numeric code of EUR
CURRENCY = "EUR"
EXPONENT = 2
ACCOUNT_CODE = 1
TRANSFER_CODE = 1
AMOUNT_MAX = 100_000  # minor units: up to 1,000.00 EUR
HOT_ACCOUNT_ID = 1

_OK = TransferResult.OK

# RFC 4648 base32 mapped onto Crockford's alphabet, which sorts like the numbers.
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ")


class MonotonicUlid:
    """ULIDs (48-bit ms time + 80 random bits, 26 Crockford base32 characters).

    Monotonic within a millisecond (the random part is incremented), so ids
    sort in the order they were made: the time-ordered ids our SDK generates.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._ms = -1
        self._random = 0

    def __call__(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms > self._ms:
            self._ms = ms
            self._random = self._rng.getrandbits(79)  # headroom for increments
        else:
            self._random += 1
        value = (self._ms << 80) | self._random
        # 26 base32 digits are 130 bits: put them at the top of 160 bits.
        encoded = base64.b32encode((value << 30).to_bytes(20, "big"))[:26]
        return encoded.decode("ascii").translate(_CROCKFORD)


@dataclass
class Workload:
    batches: list[list[Transfer]]
    count: int
    total_amount: int


def make_workload(
    rng: random.Random, count: int, accounts: int, batch_size: int, *, hot: bool
) -> Workload:
    """``count`` transfers between distinct accounts ``1..accounts``.

    Random pairs, or (``hot``) every transfer debiting ``HOT_ACCOUNT_ID``.
    """
    # Ids draw from their own stream: how often they do depends on the clock, and the
    # accounts and amounts must not (the same seed gives the same workload).
    new_id = MonotonicUlid(random.Random(rng.getrandbits(64)))
    randrange = rng.randrange
    batches: list[list[Transfer]] = []
    total = 0
    for start in range(0, count, batch_size):
        batch: list[Transfer] = []
        for _ in range(min(batch_size, count - start)):
            if hot:
                debit = HOT_ACCOUNT_ID
                credit = randrange(2, accounts + 1)
            else:
                debit = randrange(1, accounts + 1)
                credit = randrange(1, accounts)
                if credit >= debit:
                    credit += 1
            amount = randrange(1, AMOUNT_MAX + 1)
            total += amount
            batch.append(Transfer(new_id(), debit, credit, amount, LEDGER_ID, TRANSFER_CODE))
        batches.append(batch)
    return Workload(batches, count, total)


def engine_rows(workload: Workload, accounts: int) -> list[list[tuple[Any, ...]]]:
    """The row tuples the engine writes for ``workload``, built by the same ``Book``."""
    book_accounts = {
        i: Account(i, LEDGER_ID, ACCOUNT_CODE, 0, None, i) for i in range(1, accounts + 1)
    }
    ts = time.time_ns()
    out: list[list[tuple[Any, ...]]] = []
    for batch in workload.batches:
        book = Book(book_accounts, {}, {})
        results = book.apply(batch, ts)
        if results.count(_OK) != len(results):
            raise AssertionError(f"the domain refused a benchmark transfer: {set(results)}")
        ts += len(batch)
        out.append(book.rows)
    return out

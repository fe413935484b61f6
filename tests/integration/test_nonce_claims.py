"""Replay nonces claimed by group commit: a (key, nonce) is accepted once, whatever the batch,
the process or a restart; a claim that cannot be recorded is never an acceptance."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.adapters.store.schema import request_nonces
from paywarden.services.merchants import ClaimUnavailable, Merchants, Nonces
from paywarden.services.merchants.nonces import (
    CLOCK_SKEW_S_MAX,
    PURGE_INTERVAL_S,
    Verdict,
)
from tests.support.merchants import new_key

NS = 10**9
LIVE_S = 300
CHILD_TIMEOUT_S = 120


@pytest.fixture
def merchants(database: Database, clock: FakeClock) -> Merchants:
    return Merchants(database, clock=clock)


@pytest.fixture
def key_id(merchants: Merchants) -> str:
    raw = new_key().public_key().public_bytes_raw()
    return merchants.create(name="Shop", public_key=raw, actor="cli:test").key_id


@pytest.fixture
def nonces(database: Database, clock: FakeClock) -> Nonces:
    return Nonces(database, clock=clock)


def _expiry(clock: FakeClock) -> int:
    return clock.now_ns() + LIVE_S * NS


def _nonce(i: int) -> str:
    return f"nonce-{i:024d}"


def _rows(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(request_nonces)).scalar_one())


@contextmanager
def _held_first_batch(nonces: Nonces) -> Iterator[tuple[threading.Event, list[int]]]:
    """The writer's first batch waits for ``release``; every batch's size is recorded.

    On leaving, every batch is written before the test goes on (and its database goes).
    """
    release, sizes, written = threading.Event(), [], []
    write: Callable[[Sequence[Any]], Any] = nonces._write

    def held(batch: Sequence[Any]) -> Any:
        sizes.append(len(batch))
        if len(sizes) == 1:
            release.wait(30)
        try:
            return write(batch)
        finally:
            written.append(len(batch))

    nonces._write = held  # type: ignore[method-assign]
    try:
        yield release, sizes
    finally:
        release.set()
        _wait_for(lambda: not nonces._waiting and len(written) == len(sizes))
        nonces._write = write  # type: ignore[method-assign]


def _claim_in_thread(nonces: Nonces, key_id: str, nonce: str, expires_at_ns: int,
                     into: list[Any]) -> threading.Thread:
    def run() -> None:
        try:
            into.append(nonces.claim(key_id, nonce, expires_at_ns=expires_at_ns).verdict)
        except ClaimUnavailable as exc:
            into.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(3000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError("the condition never held")


def test_a_new_nonce_is_claimed_and_the_same_nonce_again_is_a_replay(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database) -> None:
    assert nonces.claim(key_id, _nonce(1), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.CLAIMED
    assert nonces.claim(key_id, _nonce(1), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.REPLAYED
    assert nonces.claim(key_id, _nonce(2), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.CLAIMED
    assert _rows(database) == 2


def test_a_nonce_sent_twice_within_one_batch_is_claimed_once(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database) -> None:
    verdicts: list[Any] = []
    with _held_first_batch(nonces) as (release, sizes):
        first = _claim_in_thread(nonces, key_id, _nonce(0), _expiry(clock), verdicts)
        _wait_for(lambda: sizes == [1])
        twins = [_claim_in_thread(nonces, key_id, _nonce(7), _expiry(clock), verdicts)
                 for _ in range(2)]
        _wait_for(lambda: len(nonces._waiting) == 2)
        release.set()
        for thread in (first, *twins):
            thread.join(30)
    assert sizes == [1, 2]  # the twins were written in one batch
    assert Counter(verdicts) == {Verdict.CLAIMED: 2, Verdict.REPLAYED: 1}
    assert _rows(database) == 2


def test_claims_from_coroutines_share_batches_and_each_nonce_is_claimed_once(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database) -> None:
    async def claims() -> list[Verdict]:
        answers = await asyncio.gather(*(
            nonces.claim_async(key_id, _nonce(i % 20), expires_at_ns=_expiry(clock))
            for i in range(100)))
        return [answer.verdict for answer in answers]

    assert Counter(asyncio.run(claims())) == {Verdict.CLAIMED: 20, Verdict.REPLAYED: 80}
    assert _rows(database) == 20


def test_many_threads_claiming_distinct_and_duplicate_nonces_claim_each_exactly_once(
        database: Database, clock: FakeClock, key_id: str, merchants: Merchants) -> None:
    other_key = merchants.add_key(
        merchants.signing_key(key_id).key.merchant_id,  # type: ignore[union-attr]
        new_key().public_key().public_bytes_raw(), actor="cli:test").id
    # Two claimers on one database stand for two processes.
    claimers = [Nonces(database, clock=clock, batch_size_max=8), Nonces(database, clock=clock)]
    outcomes: Counter[tuple[str, str, Verdict]] = Counter()
    lock = threading.Lock()

    def run(worker: int) -> None:
        for i in range(40):
            key = (key_id, other_key)[i % 2]
            nonce = _nonce(i % 30) if worker % 2 else _nonce(1000 + worker * 100 + i)
            verdict = claimers[worker % 2].claim(key, nonce, expires_at_ns=_expiry(clock)).verdict
            with lock:
                outcomes[(key, nonce, verdict)] += 1

    threads = [threading.Thread(target=run, args=(worker,)) for worker in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    claimed = [(k, n) for (k, n, verdict), count in outcomes.items()
               if verdict is Verdict.CLAIMED for _ in range(count)]
    pairs = {(k, n) for k, n, _ in outcomes}
    assert len(claimed) == len(set(claimed)) == len(pairs)  # each pair claimed exactly once
    assert sum(outcomes.values()) == 24 * 40
    assert _rows(database) == len(pairs)


def test_a_nonce_claimed_in_one_process_is_a_replay_in_another(
        database: Database, key_id: str, clock: FakeClock) -> None:
    script = (
        "import json, sys\n"
        "from paywarden.adapters.clock import FakeClock\n"
        "from paywarden.adapters.store import open_database\n"
        "from paywarden.services.merchants import Nonces\n"
        "db = open_database(sys.argv[1])\n"
        "clock = FakeClock(int(sys.argv[2]))\n"
        "n = Nonces(db, clock=clock)\n"
        "print(json.dumps([n.claim(sys.argv[3], x, expires_at_ns=int(sys.argv[2]) + 300 * 10**9)"
        ".verdict.value for x in sys.argv[4:]]))\n"
        "db.dispose()\n")
    assert Nonces(database, clock=clock).claim(
        key_id, _nonce(1), expires_at_ns=_expiry(clock)).verdict is Verdict.CLAIMED
    child = subprocess.run([sys.executable, "-c", script, database.url, str(clock.now_ns()),
                            key_id, _nonce(1), _nonce(2)], capture_output=True, text=True,
                           timeout=CHILD_TIMEOUT_S, check=False)
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == ["replayed", "claimed"]
    assert Nonces(database, clock=clock).claim(
        key_id, _nonce(2), expires_at_ns=_expiry(clock)).verdict is Verdict.REPLAYED


def test_a_nonce_claimed_before_a_restart_is_a_replay_after_it(
        database: Database, key_id: str, clock: FakeClock) -> None:
    before = open_database(database.url)
    assert Nonces(before, clock=clock).claim(
        key_id, _nonce(1), expires_at_ns=_expiry(clock)).verdict is Verdict.CLAIMED
    before.dispose()
    after = open_database(database.url)
    try:
        assert Nonces(after, clock=clock).claim(
            key_id, _nonce(1), expires_at_ns=_expiry(clock)).verdict is Verdict.REPLAYED
    finally:
        after.dispose()


def test_a_batch_that_cannot_be_written_refuses_every_claim_in_it(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE request_nonces RENAME TO request_nonces_away"))
    answers: list[Any] = []
    threads = [_claim_in_thread(nonces, key_id, _nonce(i), _expiry(clock), answers)
               for i in range(6)]
    for thread in threads:
        thread.join(30)
    assert len(answers) == 6 and all(isinstance(a, ClaimUnavailable) for a in answers)
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE request_nonces_away RENAME TO request_nonces"))
    assert nonces.claim(key_id, _nonce(0), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.CLAIMED  # nothing was recorded, and the claimer recovers


def test_a_claim_not_recorded_within_its_wait_is_refused(
        database: Database, key_id: str, clock: FakeClock) -> None:
    nonces = Nonces(database, clock=clock, wait_s=0.2)
    with _held_first_batch(nonces):
        with pytest.raises(ClaimUnavailable):
            nonces.claim(key_id, _nonce(1), expires_at_ns=_expiry(clock))

        async def from_a_coroutine() -> None:
            await nonces.claim_async(key_id, _nonce(2), expires_at_ns=_expiry(clock))

        with pytest.raises(ClaimUnavailable):
            asyncio.run(from_a_coroutine())


def test_a_revoked_key_or_an_inactive_merchant_takes_no_nonce_row(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database,
        merchants: Merchants) -> None:
    merchant_id = merchants.signing_key(key_id).key.merchant_id  # type: ignore[union-attr]
    merchants.set_status(merchant_id, "suspended", actor="cli:test")
    answer = nonces.claim(key_id, _nonce(1), expires_at_ns=_expiry(clock))
    assert (answer.verdict, answer.merchant_status) == (Verdict.MERCHANT_INACTIVE, "suspended")
    merchants.set_status(merchant_id, "active", actor="cli:test")
    merchants.add_key(merchant_id, new_key().public_key().public_bytes_raw(), actor="cli:test")
    merchants.revoke_key(merchant_id, key_id, actor="cli:test")
    assert nonces.claim(key_id, _nonce(2), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.KEY_REVOKED
    assert nonces.claim("key_" + "0" * 24, _nonce(3), expires_at_ns=_expiry(clock)).verdict \
        is Verdict.KEY_UNKNOWN
    assert _rows(database) == 0


def test_an_expired_row_not_yet_purged_blocks_nothing_and_is_purged_after_the_skew_margin(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database) -> None:
    first_expiry = _expiry(clock)
    assert nonces.claim(key_id, _nonce(1), expires_at_ns=first_expiry).verdict is \
        Verdict.CLAIMED
    clock.advance(LIVE_S)
    # Its signature is refused as expired by now; a new signature may use the nonce again.
    assert nonces.claim(key_id, _nonce(1), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.CLAIMED
    assert nonces.claim(key_id, _nonce(2), expires_at_ns=_expiry(clock)).verdict is \
        Verdict.CLAIMED
    clock.advance(LIVE_S + CLOCK_SKEW_S_MAX - 1)
    assert nonces.purge_expired() == 0  # expired, but within the clock-skew margin
    clock.advance(1)
    assert nonces.purge_expired() == 2


def test_the_writer_purges_expired_rows_as_it_goes(
        nonces: Nonces, key_id: str, clock: FakeClock, database: Database) -> None:
    for i in range(3):
        nonces.claim(key_id, _nonce(i), expires_at_ns=_expiry(clock))
    clock.advance(LIVE_S + CLOCK_SKEW_S_MAX + PURGE_INTERVAL_S)
    nonces.claim(key_id, _nonce(9), expires_at_ns=_expiry(clock))
    with database.engine.connect() as conn:
        assert conn.execute(select(request_nonces.c.nonce)).scalars().all() == [_nonce(9)]


def test_the_claimer_bounds_are_checked(database: Database, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="batch_size_max"):
        Nonces(database, clock=clock, batch_size_max=0)
    with pytest.raises(ValueError, match="wait_s"):
        Nonces(database, clock=clock, wait_s=0)

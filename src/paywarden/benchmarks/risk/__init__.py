"""Risk screening benchmark: ``python bench/risk.py [--quick] [--database URL]``.

A screening is what the banking hook adds to a money movement: ``RiskEngine.evaluate`` on
the caller's thread — every feature provider, the rule set, the score, the decision's row
and audit entry made ready — whose record then rides in the movement's own group-commit
unit. Here ``--callers`` threads (a serving process answers many requests at a time) each
evaluate and then submit the record to the write path, with up to ``--in-flight`` records
waiting for their commit, as movements wait in their batches (a record alone in a batch
would charge the screening the whole commit that the movement pays for anyway); the database is seeded with customers, their sign-in
origins, payees and 90 days of history.

Prints one JSON object (the last line of stdout): ``screen_p50_ms``, ``screen_p99_ms``,
``screen_p100_ms`` (the evaluation: what a movement waits for before its unit is
submitted), ``recorded_p99_ms`` (from the call to the commit of the decision),
``screens_s`` (screenings committed per second of wall time), ``cpu_ms_per_screen``
(process CPU, every thread, the writer's included, divided by the screenings: the figure
to compare on a loaded machine), ``engines`` (decisions by ``decision/engine``: a
fallback is not a fast screening) and the learned model's quality on held-out data
(``precision``, ``recall``, ``auc``, ``false_positive_rate``, ``dataset``: from
bench/risk_quality.py's method). That model is trained first, signed with a throwaway
release key and loaded, so every screening is scored by it (``model_version``);
``--no-quality`` screens without a model.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import Future
from functools import cache
from pathlib import Path
from typing import Any

from schwifty import IBAN
from sqlalchemy import insert

from ...adapters.clock import FakeClock
from ...adapters.store import Database, open_database
from ...adapters.store.schema import bank_payees, bank_transfers, sign_in_origins, users
from ...bootstrap import build
from ...services.risk import Subject
from ...services.writepath import Records
from ...settings import Settings

NS = 1_000_000_000
DAY_NS = 86_400 * NS
START_NS = 1_800_000_000 * NS
KINDS = ("internal", "external", "own", "withdrawal", "top_up")


@cache
def _iban(customer: int, payee: int) -> str:
    """A valid IBAN for the customer's ``payee``-th payee (invalid ones are not screened
    as IBANs: the registry skips them, which would flatter the figure)."""
    return str(IBAN.generate("NL", bank_code="PAYW", account_code=f"{payee}{customer:09d}"))


def _seed(database: Database, customers: int, history: int, rng: random.Random) -> None:
    now = START_NS
    with database.engine.begin() as conn:
        for c in range(customers):
            user, account = f"usr_b{c:015d}", f"acc_b{c:015d}"
            conn.execute(insert(users).values(
                id=user, kind="customer", username_index=f"bench{c:059d}", roles="customer",
                status="active", failed_signins=0,
                created_at=now - rng.randint(2, 900) * DAY_NS))
            conn.execute(insert(sign_in_origins), [
                {"user_id": user, "kind": kind, "digest": f"{kind[0]}{c:063d}",
                 "first_seen_at": now - 30 * DAY_NS, "last_seen_at": now - DAY_NS}
                for kind in ("device", "address")])
            conn.execute(insert(bank_payees), [
                {"id": f"pye_b{c:011d}{p}", "user_id": user, "name": "Payee",
                 "iban": _iban(c, p), "cop": "match", "evidence_id": "evd_b",
                 "cooling_until": now - 20 * DAY_NS, "created_at": now - 21 * DAY_NS}
                for p in range(3)])
            conn.execute(insert(bank_transfers), [
                {"id": f"bt-{c}-{h}", "kind": "internal", "user_id": user,
                 "from_account": account, "to_account": None, "counterparty_iban": None,
                 "counterparty_name": None, "amount": rng.randint(5_00, 200_00),
                 "currency": "EUR", "reference": "", "state": "posted", "reason": None,
                 "created_at": now - rng.randint(1, 89) * DAY_NS,
                 "updated_at": now} for h in range(history)])


def _subject(i: int, customers: int, rng: random.Random) -> Subject:
    c = rng.randrange(customers)
    kind = KINDS[i % len(KINDS)]
    return Subject(f"bank.{kind}", f"bench-{i}", kind, f"usr_b{c:015d}",
                   rng.randint(1_00, 2_000_00), "EUR", account_id=f"acc_b{c:015d}",
                   counterparty=_iban(c, rng.randrange(4)))


def run(url: str | None, *, screens: int, customers: int, history: int, callers: int,
        in_flight: int, data_dir: Path, model: tuple[Path, Path] | None = None
        ) -> dict[str, Any]:
    url = url or f"sqlite:///{data_dir / 'risk.db'}"
    database = open_database(url)
    database.migrate()
    clock = FakeClock(START_NS)
    scoring: dict[str, Any] = ({"risk_model_path": model[0],
                                "risk_model_public_key_path": model[1]} if model else {})
    platform = build(Settings(database_url=url, data_dir=data_dir, **scoring), clock=clock,
                     database=database)
    rng = random.Random(12)
    _seed(database, customers, history, rng)
    platform.start()
    risk = platform.risk
    writer = platform.payments.writer
    decisions: dict[str, int] = {}
    times_ns: list[int] = []
    lock = threading.Lock()

    recorded_ns: list[int] = []

    def caller(n: int, seed: int) -> None:
        mine = random.Random(seed)
        took: list[int] = []
        committed: list[int] = []
        made: list[str] = []
        waiting: deque[tuple[int, Future[Any]]] = deque()

        def settle() -> None:
            t0, future = waiting.popleft()
            future.result()
            committed.append(time.perf_counter_ns() - t0)

        for i in range(n):
            clock.advance(ns=50_000_000)  # 20 screenings a simulated second: habits, not a flood
            t0 = time.perf_counter_ns()
            pending = risk.evaluate(_subject(seed * 1_000_000 + i, customers, mine))
            took.append(time.perf_counter_ns() - t0)
            waiting.append((t0, writer.submit(Records(pending.write))))
            made.append(f"{pending.recorded.verdict.decision}/{pending.recorded.engine}")
            if len(waiting) >= in_flight:
                settle()
        while waiting:
            settle()
        with lock:
            times_ns.extend(took)
            recorded_ns.extend(committed)
            for d in made:
                decisions[d] = decisions.get(d, 0) + 1

    try:
        for i in range(min(200, screens)):  # warm: the rule set, prepared statements
            risk.decide(_subject(-i - 1, customers, rng))
        threads = [threading.Thread(target=caller, args=(screens // callers, c + 1))
                   for c in range(callers)]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    finally:
        platform.stop()
    screens = len(times_ns)
    recorded_ns.sort()
    times_ns.sort()

    def pct(p: float) -> float:
        return round(times_ns[min(len(times_ns) - 1, int(p * len(times_ns)))] / 1e6, 3)

    return {"screen_p50_ms": pct(0.50), "screen_p99_ms": pct(0.99),
            "screen_p100_ms": round(times_ns[-1] / 1e6, 3),
            "screens_s": round(screens / wall, 1),
            "cpu_ms_per_screen": round(cpu * 1000 / screens, 3),
            "screen_mean_ms": round(statistics.fmean(times_ns) / 1e6, 3),
            "recorded_p50_ms": round(recorded_ns[len(recorded_ns) // 2] / 1e6, 3),
            "recorded_p99_ms": round(recorded_ns[int(0.99 * len(recorded_ns))] / 1e6, 3),
            "screens": screens, "callers": callers, "in_flight": in_flight,
            "customers": customers, "engines": decisions, "database": url.split(":", 1)[0],
            "model_version": platform.risk.scorer.version}


def quality(seed: int, customers: int, data_dir: Path) -> tuple[dict[str, Any],
                                                                 tuple[Path, Path]]:
    """The learned model's figures on held-out data: trained on the simulator's world
    (risk_sim) and graded at its operating point on the 30 % of customers it never saw
    (decision 0033; bench/risk_quality.py adds the external data set). The model is also
    signed with a throwaway release key and saved, so the screenings score with it."""
    from ...risk_sim import pipeline, release_key
    from ...services.risk_model import artifact

    built = pipeline.build(seed, "bench", customers=customers)
    key = data_dir / "release-key.pem"
    private = release_key.create_private(key)
    artifact.save(built, data_dir / "model.json", release_key.signer(private))
    test = built.metadata["metrics"]["test"]
    return ({"precision": test["precision"], "recall": test["recall"], "auc": test["auc"],
             "false_positive_rate": test["false_positive_rate"],
             "operating_point": built.metadata["operating_point"],
             "dataset": f"paywarden risk_sim(seed={seed}, customers={customers}, days=30), "
                        "30% of customers held out"},
            (data_dir / "model.json", key.with_name(key.name + ".pub")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/risk.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 screenings")
    parser.add_argument("--screens", type=int, default=5_000)
    parser.add_argument("--customers", type=int, default=5_000, help="seeded customers; "
                        "each screens about once a run, as a day of real traffic would (500 made "
                        "every customer move money ten times in four minutes: the model rightly "
                        "flagged it)")
    parser.add_argument("--history", type=int, default=20)
    parser.add_argument("--callers", type=int, default=4, help="threads screening at once")
    parser.add_argument("--in-flight", type=int, default=16, help="records each caller has "
                        "waiting for their commit (a movement's requests in flight)")
    parser.add_argument("--no-quality", action="store_true", help="skip training the model "
                        "(the quality fields are then null, and screenings run unscored)")
    parser.add_argument("--seed", type=int, default=7, help="the simulated world's seed")
    parser.add_argument("--quality-customers", type=int, default=None, help="customers in "
                        "the simulated world (default 3,000; --quick 1,000)")
    parser.add_argument("--database", default=None, help="a database URL (default: a "
                        "fresh SQLite file); PostgreSQL: a database of your own")
    args = parser.parse_args(argv)
    screens = 500 if args.quick else args.screens
    world = args.quality_customers or (1_000 if args.quick else 3_000)
    with tempfile.TemporaryDirectory(prefix="paywarden-risk-bench-") as tmp:
        graded: dict[str, Any] = dict.fromkeys(
            ("precision", "recall", "auc", "false_positive_rate", "dataset"))
        model = None
        if not args.no_quality:
            graded, model = quality(args.seed, world, Path(tmp))
        result = run(args.database, screens=screens, customers=args.customers,
                     history=args.history, callers=args.callers,
                     in_flight=args.in_flight, data_dir=Path(tmp), model=model)
    result.update(graded)
    print(json.dumps(result, sort_keys=True))
    return 0

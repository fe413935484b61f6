"""The ledger benchmark: engine throughput against the storage limit and a peer.

One run measures, on SQLite and on PostgreSQL, each in a fresh database:

``engine``
    N transfers between random distinct accounts, submitted in batches of
    8,190 by a feeder that keeps a few submissions in flight, so the writer
    thread is never idle. Transfers/s and the latency of each submitted batch
    (submit to result).
``hot``
    The same, but every transfer debits one single account.
``limit``
    The rate of a bare ``executemany`` of the very row tuples the engine
    writes (21 columns, built by the same domain code) into a plain table (no
    keys, no indexes, no constraints) in batches of 8,190 rows per
    transaction, with the same durability: SQLite through the same
    ``open_database`` connection (WAL, ``synchronous=FULL``), PostgreSQL with
    psycopg's ``cursor.executemany`` and default ``synchronous_commit``.
``limit_indexed``
    The same into a table with the primary key and unique index of the real
    ``transfers`` table (foreign keys left out).
``hordak`` (PostgreSQL only)
    django-hordak 2.x, the peer: a smaller run of the same random transfers,
    each one ``Account.transfer_to`` (one ``Transaction`` and two ``Leg`` rows
    in ``transaction.atomic()``), in its own database on the same server.

After every engine run all results must be ``ok`` and the debits must equal the
credits (sums over ``accounts``) and the transfers' amounts.

Progress goes to stderr; the last line of stdout is one JSON object. Run it as
``python bench/ledger.py [--quick]`` or ``paywarden bench ledger``.

PostgreSQL comes from ``PAYWARDEN_BENCH_PG_URL`` (its ``public`` schema is
dropped and recreated for each measurement, so point it at a scratch
database) or else from a throwaway server started with ``scripts/pgtemp.py``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import json
import os
import platform
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from ..adapters.clock import SystemClock
from ..adapters.store import Database, open_database
from ..domain.ledger import (
    BATCH_SIZE_MAX,
    TRANSFER_COLUMNS,
    Account,
    Book,
    Transfer,
    TransferResult,
)
from ..services.ledger import LedgerEngine, NewAccount

PG_URL_ENV = "PAYWARDEN_BENCH_PG_URL"

TRANSFERS_FULL = 1_000_000
TRANSFERS_QUICK = 50_000
ACCOUNTS = 10_000
HORDAK_TRANSFERS_FULL = 2_000
HORDAK_TRANSFERS_QUICK = 300
HORDAK_THREADS = 4
IN_FLIGHT = 2  # the writer always finds the next submission queued
SEED = 20_240_601

LEDGER_ID = 978  # ISO 4217 numeric code of EUR
CURRENCY = "EUR"
EXPONENT = 2
ACCOUNT_CODE = 1
TRANSFER_CODE = 1
AMOUNT_MAX = 100_000  # minor units: up to 1,000.00 EUR
HOT_ACCOUNT_ID = 1

_OK = TransferResult.OK


# -- workload ------------------------------------------------------------------


# RFC 4648 base32 mapped onto Crockford's alphabet, which sorts like the numbers.
_CROCKFORD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


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
    name: str
    batches: list[list[Transfer]]
    count: int
    total_amount: int


def make_workload(
    name: str, rng: random.Random, count: int, accounts: int, batch_size: int, *, hot: bool
) -> Workload:
    """``count`` transfers between distinct accounts ``1..accounts``.

    Random pairs, or (``hot``) every transfer debiting ``HOT_ACCOUNT_ID``.
    """
    new_id = MonotonicUlid(rng)
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
    return Workload(name, batches, count, total)


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


# -- progress ------------------------------------------------------------------


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return Text("", style="progress.data.speed")
        return Text(f"{task.completed / elapsed:>10,.0f}/s", style="progress.data.speed")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<33}"),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        refresh_per_second=4,
    )


# -- measurements --------------------------------------------------------------


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100)
    return sorted_values[int(rank) - 1]


def _setup_ledger(db: Database) -> None:
    db.migrate()
    with db.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO ledgers (id, currency, exponent, created_at) "
            f"VALUES ({LEDGER_ID}, '{CURRENCY}', {EXPONENT}, 0)"
        )


def _create_accounts(engine: LedgerEngine, accounts: int) -> None:
    ids = range(1, accounts + 1)
    for start in range(0, accounts, BATCH_SIZE_MAX):
        chunk = ids[start : start + BATCH_SIZE_MAX]
        results = engine.create_accounts(
            [NewAccount(id=i, ledger=LEDGER_ID, code=ACCOUNT_CODE) for i in chunk]
        ).result()
        bad = [r for r in results if r != "ok"]
        if bad:
            raise AssertionError(f"account creation failed: {sorted(set(bad))}")


def _verify_engine_run(db: Database, workload: Workload) -> dict[str, Any]:
    with db.engine.connect() as c:
        count, amount = c.exec_driver_sql(
            "SELECT count(*), COALESCE(SUM(amount), 0) FROM transfers"
        ).one()
        dp, dpo, cp, cpo = c.exec_driver_sql(
            "SELECT COALESCE(SUM(debits_pending), 0), COALESCE(SUM(debits_posted), 0), "
            "COALESCE(SUM(credits_pending), 0), COALESCE(SUM(credits_posted), 0) FROM accounts"
        ).one()
    problems = []
    if int(count) != workload.count:
        problems.append(f"{count} transfers stored, {workload.count} submitted")
    if int(dpo) != int(cpo):
        problems.append(f"posted debits {dpo} != posted credits {cpo}")
    if int(dp) or int(cp):
        problems.append(f"pending balances left: debits {dp}, credits {cp}")
    if int(dpo) != workload.total_amount or int(amount) != workload.total_amount:
        problems.append(
            f"amounts: submitted {workload.total_amount}, transfers {amount}, debits {dpo}"
        )
    if problems:
        raise AssertionError("engine run failed verification: " + "; ".join(problems))
    return {"transfers": int(count), "debits": int(dpo), "credits": int(cpo)}


def measure_engine(
    url: str, workload: Workload, accounts: int, in_flight: int, progress: Progress, label: str
) -> dict[str, Any]:
    db = open_database(url)
    try:
        _setup_ledger(db)
        engine = LedgerEngine(db, clock=SystemClock()).start()
        try:
            _create_accounts(engine, accounts)
            task = progress.add_task(label, total=workload.count)
            submitted: list[float] = [0.0] * len(workload.batches)
            finished: list[float] = [0.0] * len(workload.batches)
            outstanding: deque[tuple[int, Any]] = deque()
            not_ok = 0

            def settle() -> None:
                nonlocal not_ok
                i, future = outstanding.popleft()
                results = future.result()
                not_ok += len(results) - results.count(_OK)
                progress.advance(task, len(results))

            def on_done(i: int) -> Callable[[Any], None]:
                def done(_future: Any) -> None:
                    finished[i] = time.perf_counter()

                return done

            started = time.perf_counter()
            for i, batch in enumerate(workload.batches):
                while len(outstanding) >= in_flight:
                    settle()
                submitted[i] = time.perf_counter()
                future = engine.submit(batch)
                future.add_done_callback(on_done(i))
                outstanding.append((i, future))
            while outstanding:
                settle()
            elapsed = time.perf_counter() - started
            progress.update(task, completed=workload.count)
            progress.stop_task(task)
        finally:
            engine.stop()
        if not_ok:
            raise AssertionError(f"{label}: {not_ok} transfers were not ok")
        checked = _verify_engine_run(db, workload)
    finally:
        db.dispose()
    latencies = sorted((f - s) * 1000 for s, f in zip(submitted, finished, strict=True))
    # Each submission is one writer batch (a full one cannot coalesce with another), so
    # the writer's time for batch i runs from when it could start (submitted, and the
    # previous batch done) to its result: apply + write + commit, without queueing.
    applies = sorted(
        (finished[i] - max(submitted[i], finished[i - 1] if i else 0.0)) * 1000
        for i in range(len(finished))
    )
    return {
        "tps": workload.count / elapsed,
        "seconds": elapsed,
        "p50_batch_ms": _percentile(latencies, 50),
        "p99_batch_ms": _percentile(latencies, 99),
        "max_batch_ms": latencies[-1],
        "p50_batch_apply_ms": _percentile(applies, 50),
        "p99_batch_apply_ms": _percentile(applies, 99),
        "batches": len(latencies),
        "verified": checked,
    }


def _limit_table(name: str, indexed: bool) -> Any:
    """A table with the columns of ``transfers``; with its PK and unique index if ``indexed``."""
    from sqlalchemy import Column, MetaData, Table, UniqueConstraint

    from ..adapters.store.schema import transfers

    columns = []
    for c in transfers.columns:
        if indexed:
            columns.append(Column(c.name, c.type, primary_key=c.primary_key,
                                  nullable=c.nullable, autoincrement=False))
        else:
            columns.append(Column(c.name, c.type))
    extra = [UniqueConstraint("id", name=f"uq_{name}_id")] if indexed else []
    if [c.name for c in transfers.columns] != list(TRANSFER_COLUMNS):
        raise AssertionError("schema.transfers and TRANSFER_COLUMNS disagree")
    return Table(name, MetaData(), *columns, *extra)


def measure_limit(
    url: str, rows: list[list[tuple[Any, ...]]], indexed: bool, progress: Progress, label: str
) -> dict[str, Any]:
    db = open_database(url)
    total = sum(len(b) for b in rows)
    name = "limit_indexed" if indexed else "limit_plain"
    try:
        table = _limit_table(name, indexed)
        table.metadata.create_all(db.engine)
        proxy = db.raw_connection()
        try:
            conn = proxy.driver_connection
            columns = ", ".join(TRANSFER_COLUMNS)
            task = progress.add_task(label, total=total)
            if db.dialect == "sqlite":
                marks = ",".join("?" * len(TRANSFER_COLUMNS))
                sql = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
                started = time.perf_counter()
                for batch in rows:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(sql, batch)
                    conn.execute("COMMIT")
                    progress.advance(task, len(batch))
                elapsed = time.perf_counter() - started
            else:
                marks = ", ".join(["%s"] * len(TRANSFER_COLUMNS))
                sql = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
                conn.rollback()  # start from a clean transaction state
                started = time.perf_counter()
                with conn.cursor() as cur:
                    for batch in rows:
                        cur.executemany(sql, batch)
                        conn.commit()
                        progress.advance(task, len(batch))
                elapsed = time.perf_counter() - started
            progress.stop_task(task)
            cur = conn.cursor()
            cur.execute(f"SELECT count(*) FROM {name}")
            (count,) = cur.fetchone()
            cur.close()
            if db.dialect != "sqlite":
                conn.rollback()
        finally:
            proxy.close()
        if int(count) != total:
            raise AssertionError(f"{label}: {count} rows stored, {total} inserted")
    finally:
        db.dispose()
    return {"tps": total / elapsed, "seconds": elapsed}


# -- databases -----------------------------------------------------------------


class SqliteSite:
    dialect = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._n = 0

    @contextlib.contextmanager
    def fresh(self, name: str) -> Iterator[str]:
        self._n += 1
        directory = self.workdir / f"{self._n:02d}-{name}"
        directory.mkdir(parents=True)
        try:
            yield f"sqlite:///{directory / 'bench.db'}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        import sqlite3

        with self.fresh("describe") as url:
            db = open_database(url)
            try:
                proxy = db.raw_connection()
                conn = proxy.driver_connection
                settings = {
                    "sqlite_version": sqlite3.sqlite_version,
                    "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                    "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
                        conn.execute("PRAGMA synchronous").fetchone()[0]
                    ),
                    "foreign_keys": bool(conn.execute("PRAGMA foreign_keys").fetchone()[0]),
                    "directory": str(self.workdir),
                }
                proxy.close()
            finally:
                db.dispose()
        return settings


def _conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresSite:
    """Fresh databases on one PostgreSQL server.

    With a throwaway server (``own_server``) each measurement gets its own
    ``CREATE DATABASE``; with a given URL the ``public`` schema is dropped and
    recreated instead (the role may not be allowed to create databases).
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, own_server: bool) -> None:
        self.url = url
        self.own_server = own_server
        self._n = 0

    def _admin(self, sql: str, url: str | None = None) -> None:
        import psycopg

        with psycopg.connect(_conninfo(url or self.url), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def _database_url(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    @contextlib.contextmanager
    def fresh(self, name: str) -> Iterator[str]:
        self._n += 1
        if not self.own_server:
            self._admin("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
            yield self.url
            return
        database = f"bench_{self._n:02d}_{name}"
        self._admin(f'CREATE DATABASE "{database}"')
        try:
            yield self._database_url(database)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    @contextlib.contextmanager
    def separate_database(self, name: str) -> Iterator[tuple[str, str | None]]:
        """A database of its own (for hordak): (url, schema or None).

        Falls back to a schema of its own when the role cannot create databases.
        """
        import psycopg

        database = f"paywarden_bench_{name}"
        try:
            self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{database}"')
        except psycopg.Error:
            if self.own_server:
                raise
            schema = f"bench_{name}"
            self._admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
            try:
                yield self.url, schema
            finally:
                self._admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            return
        try:
            yield self._database_url(database), None
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def describe(self) -> dict[str, Any]:
        import psycopg

        names = ("server_version", "fsync", "synchronous_commit", "full_page_writes",
                 "wal_sync_method", "shared_buffers", "wal_level", "commit_delay")
        with psycopg.connect(_conninfo(self.url)) as conn:
            settings: dict[str, Any] = {}
            for n in names:
                row = conn.execute(f"SHOW {n}").fetchone()  # type: ignore[arg-type]
                settings[n] = row[0] if row else None
        settings["server"] = "scripts/pgtemp.py (throwaway)" if self.own_server else PG_URL_ENV
        return settings


def _load_pgtemp() -> Any:
    candidates = [Path(__file__).resolve().parents[3] / "scripts" / "pgtemp.py",
                  Path.cwd() / "scripts" / "pgtemp.py"]
    for path in candidates:
        if path.is_file():
            spec = importlib.util.spec_from_file_location("paywarden_bench_pgtemp", path)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError(
        f"scripts/pgtemp.py not found (looked in {', '.join(str(p) for p in candidates)}); "
        f"set {PG_URL_ENV} or pass --skip-postgres"
    )


@contextlib.contextmanager
def postgres_site() -> Iterator[PostgresSite]:
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield PostgresSite(url, own_server=False)
        return
    with _load_pgtemp().temporary_postgres() as url:
        yield PostgresSite(url, own_server=True)


# -- hordak --------------------------------------------------------------------


def _django_setup(url: str, schema: str | None) -> None:
    import django
    from django.conf import settings
    from sqlalchemy.engine import make_url

    if settings.configured:
        raise RuntimeError("Django is already configured in this process; run the benchmark "
                           "in a fresh process to measure hordak")
    u = make_url(url)
    options: dict[str, Any] = {}
    if schema:
        options["options"] = f"-c search_path={schema}"
    settings.configure(
        DEBUG=False,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": u.database,
                "USER": u.username or "",
                "PASSWORD": u.password or "",
                "HOST": u.host or "",
                "PORT": str(u.port or ""),
                "OPTIONS": options,
                "CONN_MAX_AGE": None,
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "mptt",
            "djmoney",
            "hordak",
        ],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DEFAULT_CURRENCY=CURRENCY,
        CURRENCIES=[CURRENCY],
        HORDAK_DECIMAL_PLACES=EXPONENT,
        LOGGING_CONFIG=None,
        SECRET_KEY=secrets.token_urlsafe(32),  # required by Django, unused here
    )
    django.setup()


def measure_hordak(
    site: PostgresSite, transfers: list[Transfer], threads: int, progress: Progress
) -> dict[str, Any]:
    from decimal import Decimal

    with site.separate_database("hordak") as (url, schema):
        _django_setup(url, schema)
        from django.core.management import call_command
        from django.db import connections, transaction
        from djmoney.money import Money
        from hordak.models import Account as HAccount
        from hordak.models import AccountType, Leg
        from hordak.models import Transaction as HTransaction

        try:
            task = progress.add_task("postgresql hordak migrate", total=None)
            call_command("migrate", verbosity=0, interactive=False)
            progress.update(task, total=1, completed=1)
            progress.stop_task(task)

            wanted = sorted({t.debit_account_id for t in transfers}
                            | {t.credit_account_id for t in transfers})
            accounts: dict[int, Any] = {}
            task = progress.add_task("postgresql hordak accounts", total=len(wanted))
            with transaction.atomic():
                # Ascending zero-padded codes: each new root tree goes last in MPTT order.
                for i in wanted:
                    accounts[i] = HAccount.objects.create(
                        name=f"account {i}", code=f"{i:06d}", type=AccountType.asset,
                        currencies=[CURRENCY],
                    )
                    progress.advance(task)
            progress.stop_task(task)
            scale = Decimal(1).scaleb(-EXPONENT)

            def run(chunk: Sequence[Transfer], task: Any) -> None:
                # Account instances are only read (their pk): safe to share across threads,
                # each of which uses its own Django connection.
                try:
                    for t in chunk:
                        # transfer_to credits self and debits the other account.
                        accounts[t.credit_account_id].transfer_to(
                            accounts[t.debit_account_id],
                            Money(Decimal(t.amount) * scale, CURRENCY),
                            description=t.id,
                        )
                        progress.advance(task)
                finally:
                    if threading.current_thread() is not threading.main_thread():
                        connections.close_all()

            out: dict[str, Any] = {"transfers": len(transfers), "accounts": len(wanted)}
            half = len(transfers) // 2 if threads > 1 else len(transfers)
            sequential, concurrent = transfers[:half], transfers[half:]

            task = progress.add_task("postgresql hordak 1 thread", total=len(sequential))
            started = time.perf_counter()
            run(sequential, task)
            elapsed = time.perf_counter() - started
            progress.stop_task(task)
            out["tps"] = len(sequential) / elapsed
            out["sequential_transfers"] = len(sequential)

            if concurrent:
                task = progress.add_task(f"postgresql hordak {threads} threads",
                                         total=len(concurrent))
                chunks = [concurrent[k::threads] for k in range(threads)]
                errors: list[BaseException] = []

                def worker(chunk: Sequence[Transfer]) -> None:
                    try:
                        run(chunk, task)
                    except BaseException as exc:  # reported below
                        errors.append(exc)

                workers = [threading.Thread(target=worker, args=(c,)) for c in chunks]
                started = time.perf_counter()
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                elapsed = time.perf_counter() - started
                progress.stop_task(task)
                if errors:
                    raise errors[0]
                out["concurrent_tps"] = len(concurrent) / elapsed
                out["concurrent_transfers"] = len(concurrent)
                out["threads"] = threads

            total = sum(t.amount for t in transfers)
            debit_sum, credit_sum = Leg.objects.sum_to_debit_and_credit()
            count = HTransaction.objects.count()
            legs = Leg.objects.count()
            d = debit_sum.monies()[0].amount if debit_sum.monies() else Decimal(0)
            c = credit_sum.monies()[0].amount if credit_sum.monies() else Decimal(0)
            if count != len(transfers) or legs != 2 * len(transfers) or d != c \
                    or d != Decimal(total) * scale:
                raise AssertionError(
                    f"hordak verification failed: {count} transactions, {legs} legs, "
                    f"debits {d}, credits {c}, expected {Decimal(total) * scale}"
                )
            out["verified"] = {"transactions": count, "legs": legs, "debits": str(d),
                               "credits": str(c)}
            out["versions"] = {"django": _dist_version("django"),
                               "django_hordak": _dist_version("django-hordak")}
            return out
        finally:
            connections.close_all()


def _source_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    import subprocess

    root = Path(__file__).resolve().parents[3]
    state: dict[str, Any] = {"paywarden": _dist_version("paywarden")}
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src",
             ":!src/paywarden/benchmarks"],
            capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return state
    state["git_commit"] = head.stdout.strip()
    # Uncommitted changes to the code under test (the benchmark itself excluded).
    state["src_modified"] = sorted(line[3:] for line in dirty.stdout.splitlines())
    return state


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# -- the run ---------------------------------------------------------------------


@dataclass
class Plan:
    transfers: int
    accounts: int
    batch_size: int
    in_flight: int
    hordak_transfers: int
    hordak_threads: int
    seed: int
    quick: bool
    random: Workload = field(init=False)
    hot: Workload = field(init=False)
    rows: list[list[tuple[Any, ...]]] = field(init=False)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if value < 100 else round(value, 1)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def run_site(site: Any, plan: Plan, progress: Progress, console: Console) -> dict[str, Any]:
    d = site.dialect
    out: dict[str, Any] = {"settings": site.describe()}

    with site.fresh("engine") as url:
        engine = measure_engine(url, plan.random, plan.accounts, plan.in_flight, progress,
                                f"{d} engine")
    console.log(f"{d} engine: {engine['tps']:,.0f} transfers/s; batch submit-to-result p50 "
                f"{engine['p50_batch_ms']:.0f} ms, p99 {engine['p99_batch_ms']:.0f} ms; "
                f"apply+commit p50 {engine['p50_batch_apply_ms']:.0f} ms")
    with site.fresh("hot") as url:
        hot = measure_engine(url, plan.hot, plan.accounts, plan.in_flight, progress,
                             f"{d} engine, hot account")
    console.log(f"{d} hot account: {hot['tps']:,.0f} transfers/s")
    with site.fresh("limit") as url:
        limit = measure_limit(url, plan.rows, False, progress, f"{d} limit (plain table)")
    console.log(f"{d} limit: {limit['tps']:,.0f} rows/s")
    with site.fresh("limit_indexed") as url:
        indexed = measure_limit(url, plan.rows, True, progress, f"{d} limit (PK + unique id)")
    console.log(f"{d} limit, indexed: {indexed['tps']:,.0f} rows/s")

    out.update(
        engine_tps=engine["tps"],
        limit_tps=limit["tps"],
        engine_over_limit=engine["tps"] / limit["tps"],
        limit_indexed_tps=indexed["tps"],
        engine_over_limit_indexed=engine["tps"] / indexed["tps"],
        p50_batch_ms=engine["p50_batch_ms"],
        p99_batch_ms=engine["p99_batch_ms"],
        max_batch_ms=engine["max_batch_ms"],
        p50_batch_apply_ms=engine["p50_batch_apply_ms"],
        p99_batch_apply_ms=engine["p99_batch_apply_ms"],
        hot_account_tps=hot["tps"],
        hot_p50_batch_ms=hot["p50_batch_ms"],
        hot_p99_batch_ms=hot["p99_batch_ms"],
        hot_over_engine=hot["tps"] / engine["tps"],
        seconds={"engine": engine["seconds"], "hot": hot["seconds"],
                 "limit": limit["seconds"], "limit_indexed": indexed["seconds"]},
        verified={"engine": engine["verified"], "hot": hot["verified"]},
    )
    return out


def run_hordak(site: PostgresSite, plan: Plan, progress: Progress,
               console: Console, engine_tps: float) -> dict[str, Any]:
    transfers = [t for batch in plan.random.batches for t in batch][: plan.hordak_transfers]
    try:
        hordak = measure_hordak(site, transfers, plan.hordak_threads, progress)
    except Exception as exc:  # reported in the JSON, the rest of the run stands
        console.log(f"[red]hordak failed: {type(exc).__name__}: {exc}")
        return {"hordak_tps": None, "engine_over_hordak": None,
                "hordak_error": f"{type(exc).__name__}: {exc}"}
    console.log(f"postgresql hordak: {hordak['tps']:,.0f} transfers/s (1 thread)"
                + (f", {hordak['concurrent_tps']:,.0f} ({hordak['threads']} threads)"
                   if "concurrent_tps" in hordak else ""))
    out = {"hordak_tps": hordak["tps"], "engine_over_hordak": engine_tps / hordak["tps"]}
    if "concurrent_tps" in hordak:
        out["hordak_concurrent_tps"] = hordak["concurrent_tps"]
        out["engine_over_hordak_concurrent"] = engine_tps / hordak["concurrent_tps"]
    out["hordak"] = {k: v for k, v in hordak.items() if k not in ("tps", "concurrent_tps")}
    return out


def _summary(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="ledger benchmark", title_justify="left")
    table.add_column("figure")
    backends = [b for b in ("sqlite", "postgresql") if isinstance(result.get(b), dict)
                and "engine_tps" in result[b]]
    for b in backends:
        table.add_column(b, justify="right")
    rows = [
        ("engine transfers/s", "engine_tps", "{:,.0f}"),
        ("limit rows/s (plain executemany)", "limit_tps", "{:,.0f}"),
        ("engine / limit", "engine_over_limit", "{:.2f}"),
        ("limit rows/s (PK + unique id)", "limit_indexed_tps", "{:,.0f}"),
        ("engine / limit indexed", "engine_over_limit_indexed", "{:.2f}"),
        ("batch p50 ms (submit to result)", "p50_batch_ms", "{:.1f}"),
        ("batch p99 ms", "p99_batch_ms", "{:.1f}"),
        ("batch apply+commit p50 ms", "p50_batch_apply_ms", "{:.1f}"),
        ("hot account transfers/s", "hot_account_tps", "{:,.0f}"),
        ("hordak transfers/s (1 thread)", "hordak_tps", "{:,.0f}"),
        ("hordak transfers/s (threads)", "hordak_concurrent_tps", "{:,.0f}"),
        ("engine / hordak", "engine_over_hordak", "{:,.0f}"),
    ]
    for title, key, fmt in rows:
        cells = []
        for b in backends:
            v = result[b].get(key)
            cells.append("-" if v is None else fmt.format(v))
        if any(c != "-" for c in cells):
            table.add_row(title, *cells)
    console.print(table)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="paywarden bench ledger",
        description="Ledger engine throughput against the storage limit and django-hordak. "
        "Progress on stderr; the last line of stdout is a JSON object.",
    )
    p.add_argument("--quick", action="store_true",
                   help=f"small run ({TRANSFERS_QUICK:,} transfers, {HORDAK_TRANSFERS_QUICK} "
                   "for hordak), under a minute")
    p.add_argument("--transfers", type=int, default=None,
                   help=f"transfers per engine measurement (default {TRANSFERS_FULL:,})")
    p.add_argument("--accounts", type=int, default=ACCOUNTS,
                   help=f"accounts (default {ACCOUNTS:,})")
    p.add_argument("--hordak-transfers", type=int, default=None,
                   help=f"transfers for hordak (default {HORDAK_TRANSFERS_FULL:,}, "
                   f"quick {HORDAK_TRANSFERS_QUICK})")
    p.add_argument("--hordak-threads", type=int, default=HORDAK_THREADS,
                   help="threads for hordak's concurrent half (1: sequential only)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE_MAX,
                   help=f"transfers per submission (default and max {BATCH_SIZE_MAX})")
    p.add_argument("--in-flight", type=int, default=IN_FLIGHT,
                   help="submissions kept outstanding by the feeder")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    p.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where the SQLite files go (default: a new temp directory)")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON to this file")
    args = p.parse_args(argv)
    if args.transfers is None:
        args.transfers = TRANSFERS_QUICK if args.quick else TRANSFERS_FULL
    if args.hordak_transfers is None:
        args.hordak_transfers = HORDAK_TRANSFERS_QUICK if args.quick else HORDAK_TRANSFERS_FULL
    if args.transfers < 1:
        p.error("--transfers must be at least 1")
    if args.accounts < 2:
        p.error("--accounts must be at least 2")
    if not 1 <= args.batch_size <= BATCH_SIZE_MAX:
        p.error(f"--batch-size must be 1..{BATCH_SIZE_MAX}")
    if args.in_flight < 1 or args.hordak_threads < 1 or args.hordak_transfers < 0:
        p.error("--in-flight and --hordak-threads must be at least 1, "
                "--hordak-transfers at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    plan = Plan(
        transfers=args.transfers,
        accounts=args.accounts,
        batch_size=args.batch_size,
        in_flight=args.in_flight,
        hordak_transfers=min(args.hordak_transfers, args.transfers),
        hordak_threads=args.hordak_threads,
        seed=args.seed,
        quick=args.quick,
    )
    run_started = time.perf_counter()
    source = _source_state()
    load_before = os.getloadavg()
    rng = random.Random(plan.seed)
    with console.status("building workloads"):
        plan.random = make_workload("random", rng, plan.transfers, plan.accounts,
                                    plan.batch_size, hot=False)
        plan.hot = make_workload("hot", rng, plan.transfers, plan.accounts,
                                 plan.batch_size, hot=True)
        plan.rows = engine_rows(plan.random, plan.accounts)
    result: dict[str, Any] = {}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="paywarden-bench-"))
    own_workdir = args.workdir is None
    try:
        with _progress(console) as progress:
            if args.skip_sqlite:
                result["sqlite"] = {"skipped": True}
            else:
                result["sqlite"] = run_site(SqliteSite(workdir), plan, progress, console)
            if args.skip_postgres:
                result["postgresql"] = {"skipped": True}
            else:
                with contextlib.ExitStack() as stack:
                    try:
                        site = stack.enter_context(postgres_site())
                    except Exception as exc:  # no server: reported, SQLite figures stand
                        console.log(f"[red]postgresql not measured: {type(exc).__name__}: {exc}")
                        result["postgresql"] = {"error": f"{type(exc).__name__}: {exc}"}
                    else:
                        pg = run_site(site, plan, progress, console)
                        if plan.hordak_transfers:
                            pg.update(run_hordak(site, plan, progress, console,
                                                 pg["engine_tps"]))
                        result["postgresql"] = pg
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    result["config"] = {
        "transfers": plan.transfers,
        "hot_account_transfers": plan.transfers,
        "accounts": plan.accounts,
        "batch_size": plan.batch_size,
        "batches": len(plan.random.batches),
        "in_flight": plan.in_flight,
        "hordak_transfers": plan.hordak_transfers if not args.skip_postgres else 0,
        "hordak_threads": plan.hordak_threads,
        "transfer_ids": "time_ordered",
        "transfer_id_format": "ulid_monotonic",
        "amounts": f"uniform 1..{AMOUNT_MAX} minor units",
        "seed": plan.seed,
        "quick": plan.quick,
        "source": source,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "wall_seconds": time.perf_counter() - run_started,
        # Other work on the machine skews every figure: here is how busy it was.
        "loadavg_1m_start_end": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "latency": "p50/p99_batch_ms: submit to result per submission, including queueing "
        "behind the in-flight submissions; p50/p99_batch_apply_ms: the writer's own time",
    }
    result = _round(result)
    _summary(console, result)
    text = json.dumps(result, separators=(", ", ": "))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

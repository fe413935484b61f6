"""The interest run is resumable: `paywarden banking interest run`, SIGKILLed as a real
process at every kind of step (after an accrual, before a posting, after a posting, and at
a random moment from outside) and run again, leaves exactly the accruals and postings of
a job that ran punctually every night, uninterrupted, on a twin database."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.adapters.store.schema import interest_accruals
from paywarden.services.ledger.verify import verify_ledger

from ..conftest import _drop_pg_database, _fresh_pg_database
from ..support.interest import accruals, postings, schedule
from ..support.merchants import platform_for

START = dt.date(2026, 1, 1)
LAST = dt.date(2026, 3, 10)  # two month ends, then ten days earning on posted interest
ACCOUNTS_N = 5
CRASH_POINTS = ("interest.accrued:7", "interest.posting:2", "interest.posted:3",
                "interest.accrued:150")
RUN_TIMEOUT_S = 300


@pytest.fixture
def twin(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A second, empty database on the same kind of store."""
    if database_url.startswith("sqlite"):
        url, name = f"sqlite:///{tmp_path}/twin.db", None
    else:
        url, name = _fresh_pg_database()
    db = open_database(url)
    db.migrate()
    yield db
    db.dispose()
    if name is not None:
        _drop_pg_database(name)


def _run(env: dict[str, str], crash_at: str | None = None) -> subprocess.Popen[str]:
    child_env = {**env, **({"PAYWARDEN_CRASH_AT": crash_at} if crash_at else {})}
    return subprocess.Popen([sys.executable, "-m", "paywarden", "banking", "interest", "run",
                             "--date", LAST.isoformat(), "--json"], env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(interest_accruals))
                   .scalar_one())


def test_an_interest_run_killed_anywhere_and_rerun_posts_exactly_what_a_punctual_run_does(
        database: Database, database_url: str, twin: Database, tmp_path: Path) -> None:
    twin_clock, live_clock = FakeClock(), FakeClock()
    punctual = platform_for(twin, twin_clock, tmp_path / "twin")
    punctual.start()
    try:  # the job every night at 00:10 UTC, never interrupted
        schedule(punctual, twin_clock, START, LAST, ACCOUNTS_N, each_day=punctual.interest.run)
    finally:
        punctual.stop()
    live = platform_for(database, live_clock, tmp_path / "live")
    live.start()
    try:  # the same money, and no job until the killed runs catch up with it all
        schedule(live, live_clock, START, LAST, ACCOUNTS_N)
    finally:
        live.stop()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path / "live"), "PAYWARDEN_LOG_JSON": "true"}
    for point in CRASH_POINTS:
        child = _run(env, point)
        child.communicate(timeout=RUN_TIMEOUT_S)
        assert child.returncode == -signal.SIGKILL, point
        assert verify_ledger(database) == [], point
    before = _rows(database)
    child = _run(env)  # killed from outside, at a moment of the scheduler's choosing
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while _rows(database) < before + 20 and child.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(random.Random(2026).uniform(0.0, 0.05))
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=RUN_TIMEOUT_S)
    finished = _run(env)
    out, errors = finished.communicate(timeout=RUN_TIMEOUT_S)
    assert finished.returncode == 0, errors
    again = _run(env)
    out, errors = again.communicate(timeout=RUN_TIMEOUT_S)
    assert again.returncode == 0, errors
    rerun = json.loads(out)
    assert rerun["days_accrued"] == 0 and not any(p["created"] for p in rerun["postings"])
    assert len(accruals(database)) == ACCOUNTS_N
    assert accruals(database) == accruals(twin)
    assert postings(database) == postings(twin)
    assert all(len(months) == 2 for months in postings(database).values())
    assert verify_ledger(database) == []


"""Shared fixtures: every storage test runs on SQLite and on a real PostgreSQL.

``make test`` starts a throwaway PostgreSQL and sets PAYWARDEN_TEST_PG_URL, and a
throwaway Redis for the shared rate limits (PAYWARDEN_TEST_REDIS_URL). Run pytest
by hand without them and those tests are skipped — except in CI, where a missing
server is a failure, not a skip.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.services.ledger import LedgerEngine

PG_URL = os.environ.get("PAYWARDEN_TEST_PG_URL")
REDIS_URL = os.environ.get("PAYWARDEN_TEST_REDIS_URL")
BACKENDS = ["sqlite", "postgresql"]
# The risk engine's deadline (1 s by default) measures the machine as much as the code:
# on a loaded CI runner (xdist workers, Chromium, PostgreSQL on two cores) a screening
# can pass it, and a pay would fail closed for a reason no test is about. Every platform
# the suite builds, in this process or a server it starts, gets 5 s; the tests of the
# deadline itself pass their own (tests/integration/test_risk_engine.py, ..._coverage.py).
os.environ.setdefault("PAYWARDEN_RISK_DEADLINE_MS", "5000")
# The fake clock starts at midnight, outside anyone's working hours: every staff action in
# the suite would raise an insider alert no test is about. The tests of insider analytics
# set their own hours (tests/integration/test_lookup_and_insider.py).
os.environ.setdefault("PAYWARDEN_INSIDER_WORKING_HOURS", "00-24 mon-sun")
# The servers the suite starts run this checkout's code, unsigned, and CI runs as root:
# development, as `paywarden run` is. The tests of those refusals clear these
# (tests/e2e/test_integrity.py).
os.environ.setdefault("PAYWARDEN_ALLOW_UNSIGNED", "true")
os.environ.setdefault("PAYWARDEN_ALLOW_ROOT", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: xdist hands out items in this order, so the longest ones
    (the clearing network's, minutes each) start at once beside the rest of the suite
    instead of being the tail of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _fresh_pg_database() -> tuple[str, str]:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("PAYWARDEN_TEST_PG_URL is not set: CI must test on PostgreSQL")
        pytest.skip("no PostgreSQL: run the suite through `make test`")
    name = "pw_" + secrets.token_hex(6)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_URL or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/paywarden.db"
        return
    url, name = _fresh_pg_database()
    yield url
    _drop_pg_database(name)


@pytest.fixture
def redis_url() -> str:
    """The throwaway Redis of scripts/redistemp.py; tests share it, so keys must be unique."""
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("PAYWARDEN_TEST_REDIS_URL is not set: CI must test the shared limits")
        pytest.skip("no Redis: run the suite through `make test`")
    return REDIS_URL


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(database: Database, clock: FakeClock) -> Iterator[LedgerEngine]:
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO ledgers (id, currency, exponent, created_at) VALUES "
                          "(978, 'EUR', 2, 0), (840, 'USD', 2, 0)"))
    eng = LedgerEngine(database, clock=clock, expiry_interval_s=0.05).start()
    yield eng
    eng.stop()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A command run in-process points the root logger at its runner's stream, which
    closes afterwards; put the handlers back so later tests do not log into it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


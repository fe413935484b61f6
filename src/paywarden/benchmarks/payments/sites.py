"""The databases measured: fresh SQLite files (the ledger benchmark's), fresh PostgreSQL
databases on one server.

The server is ``PAYWARDEN_BENCH_PG_URL``'s, else ``PAYWARDEN_TEST_PG_URL``'s, else a
throwaway one from ``scripts/pgtemp.py``. Each measurement gets a database of its
own, named uniquely (the server may be shared) and dropped afterwards. Only on
``PAYWARDEN_BENCH_PG_URL``, a scratch database by that variable's contract, a role
that may not create databases falls back to recreating the ``public`` schema.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import Any

from ..ledger.sites import PG_URL_ENV, PostgresSite, SqliteSite
from ..ledger.sites import postgres_site as throwaway_server

TEST_PG_URL_ENV = "PAYWARDEN_TEST_PG_URL"

__all__ = ["FreshDatabases", "SqliteSite", "postgres_site"]


class FreshDatabases(PostgresSite):
    def __init__(self, url: str, *, source: str, scratch: bool) -> None:
        super().__init__(url, own_server=False)
        self.source = source
        self.scratch = scratch
        self._run = secrets.token_hex(3)

    @contextlib.contextmanager
    def fresh(self, name: str) -> Iterator[str]:
        import psycopg

        self._n += 1
        database = f"pwbench_{self._run}_{self._n:02d}_{name}"
        try:
            self._admin(f'CREATE DATABASE "{database}" TEMPLATE template0')
        except psycopg.errors.InsufficientPrivilege:
            if not self.scratch:
                raise
            with super().fresh(name) as url:  # drops and recreates the public schema
                yield url
            return
        try:
            yield self._database_url(database)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "server": self.source}


@contextlib.contextmanager
def postgres_site() -> Iterator[FreshDatabases]:
    for env in (PG_URL_ENV, TEST_PG_URL_ENV):
        url = os.environ.get(env)
        if url:
            yield FreshDatabases(url, source=env, scratch=env == PG_URL_ENV)
            return
    with throwaway_server() as server:  # neither is set: pgtemp's
        yield FreshDatabases(server.url, source="scripts/pgtemp.py (throwaway)", scratch=True)

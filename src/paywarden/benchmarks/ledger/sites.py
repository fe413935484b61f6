"""The databases measured: fresh SQLite files, fresh PostgreSQL databases on one server."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...adapters.store import open_database
from .provenance import REPO_ROOT

PG_URL_ENV = "PAYWARDEN_BENCH_PG_URL"


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
            conn.execute(sql)

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

        names = (
            "server_version",
            "fsync",
            "synchronous_commit",
            "full_page_writes",
            "wal_sync_method",
            "shared_buffers",
            "wal_level",
            "commit_delay",
        )
        with psycopg.connect(_conninfo(self.url)) as conn:
            settings: dict[str, Any] = {}
            for n in names:
                row = conn.execute(f"SHOW {n}").fetchone()
                settings[n] = row[0] if row else None
        settings["server"] = "scripts/pgtemp.py (throwaway)" if self.own_server else PG_URL_ENV
        return settings


def _load_pgtemp() -> Any:
    candidates = [REPO_ROOT / "scripts" / "pgtemp.py", Path.cwd() / "scripts" / "pgtemp.py"]
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

"""One PayWarden server per storage backend for a module of bank page tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import _drop_pg_database, _fresh_pg_database

from .server import free_port, paywarden, serving

Site = tuple[str, dict[str, str]]


@contextmanager
def bank_site(backend: str, data: Path, **settings: str) -> Iterator[Site]:
    """A served, initialised platform on ``backend`` ("sqlite" or "postgresql") with its
    data in ``data`` and extra ``PAYWARDEN_*`` settings; (base URL, environment)."""
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{data}/paywarden.db"
    else:
        url, pg_name = _fresh_pg_database()
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": url,
           "PAYWARDEN_DATA_DIR": str(data), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://localhost:{port}",
           "PAYWARDEN_WEBAUTHN_RP_ID": "localhost",
           **{f"PAYWARDEN_{k.upper()}": v for k, v in settings.items()}}
    try:
        paywarden(env, "init")
        with serving(env, port, data / "server.log"):
            yield f"http://localhost:{port}", env
    finally:
        if pg_name is not None:
            _drop_pg_database(pg_name)

"""``paywarden registry``: the shared key installed, a feed exported to a file and
imported by a second instance that trusts the first; a replay exits 2 with its code."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.cli import app
from paywarden.cli.common import open_platform, settings_from_env
from paywarden.domain.registry import Action

from ..support.merchants import platform_for
from ..support.registry import applied, entry_made

SHARED = os.urandom(32)


@pytest.fixture
def cli(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("PAYWARDEN_DATABASE_URL", database.url)
    monkeypatch.setenv("PAYWARDEN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("PAYWARDEN_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("PAYWARDEN_PUBLIC_URL", "https://bank-a.example")
    monkeypatch.setenv("PAYWARDEN_LOG_JSON", "true")
    return database


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["registry", *args])


def test_a_feed_exported_by_one_instance_is_imported_once_by_another(
        cli: Database, tmp_path: Path, clock: FakeClock) -> None:
    key = tmp_path / "shared.key"
    key.write_bytes(base64.b64encode(SHARED))
    installed = run("key", "install", str(key))
    assert installed.exit_code == 0, installed.output
    assert json.loads(run("key", "id").stdout)["key_id"] == json.loads(
        installed.stdout)["key_id"]
    # The second instance: its own store, the same shared key; it trusts bank A.
    other_db = open_database(f"sqlite:///{tmp_path}/b.db")
    other_db.migrate()
    bank_b = platform_for(other_db, clock, tmp_path / "b")
    bank_b.registry.install_shared_key(SHARED, actor="cli:ops")
    # Bank A's entry and feed, written through the CLI's own platform settings.
    bank_a = open_platform(settings_from_env())
    entry_made(bank_a.registry, [("email", "Mule@Example.com")], now_ns=bank_a.clock.now_ns())
    bank_a.keys.ensure({"registry"})
    jwks = bank_a.keys.jwks()
    bank_a.database.dispose()
    feed = tmp_path / "feed.jws"
    exported = run("feed", "export", "-o", str(feed))
    assert exported.exit_code == 0, exported.output
    applied(bank_b.registry, Action.TRUST_SOURCE, {"issuer": "https://bank-a.example",
                                                   "jwks": jwks})
    done = bank_b.registry.import_feed(feed.read_text().strip(), actor="cli:ops")
    assert (done.sequence, done.added) == (1, 1)
    assert bank_b.registry.hits({"email": "mule@example.com"})[0].source == \
        "https://bank-a.example"
    # Bank A imports its own feed: it does not trust itself, so it is refused with a code.
    refused = run("feed", "import", str(feed))
    assert refused.exit_code == 2 and "registry_feed_unknown_issuer" in refused.output
    other_db.dispose()

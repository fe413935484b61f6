"""``paywarden merchants users invite``: the host invites a merchant's first owner with a
one-time link; the e-mail never reaches the audit log (decision 0051)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, merchant_invitations
from paywarden.cli import app

from ..support.merchants import new_key, public_pem


@pytest.fixture
def cli(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAYWARDEN_DATABASE_URL", database.url)
    monkeypatch.setenv("PAYWARDEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAYWARDEN_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("PAYWARDEN_LOG_JSON", "true")
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem(new_key()))
    return pem


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["merchants", *args])


def last_json(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_host_invites_a_first_owner_with_a_one_time_link_stored_hashed(
        cli: Path, database: Database) -> None:
    merchant_id = str(last_json(run("create", "--name", "Shop", "--public-key", str(cli),
                                    "--json"))["merchant_id"])
    made = last_json(run("users", "invite", merchant_id, "--email", "olga@shop.example",
                         "--role", "owner", "--json"))
    url = str(made["url"])
    assert "/merchant/join#pwi_" in url and made["role"] == "owner"
    token = url.partition("#")[2]
    with database.engine.connect() as conn:
        rows = conn.execute(select(merchant_invitations)).mappings().all()
        logged = conn.execute(select(audit_entries)).mappings().all()
    assert len(rows) == 1 and token not in str(dict(rows[0]))
    assert "olga@shop.example" not in str(logged) and token not in str(logged)


def test_an_unknown_role_is_refused(cli: Path) -> None:
    merchant_id = str(last_json(run("create", "--name", "Shop", "--public-key", str(cli),
                                    "--json"))["merchant_id"])
    refused = run("users", "invite", merchant_id, "--email", "x@shop.example", "--role", "boss")
    assert refused.exit_code == 2 and "merchant_role_invalid" in refused.output

"""``paywarden keys``: list, rotate, rewrap — audited as the operator, never a secret."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import approvals, audit_entries, key_versions
from paywarden.cli import app

MASTER = os.urandom(32)


@pytest.fixture
def cli(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("PAYWARDEN_DATABASE_URL", database.url)
    monkeypatch.setenv("PAYWARDEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAYWARDEN_MASTER_KEY", base64.b64encode(MASTER).decode())
    monkeypatch.setenv("PAYWARDEN_LOG_JSON", "true")
    return database


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["keys", *args])


def last_json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_rotate_then_list_shows_versions_and_states_without_secrets(cli: Database) -> None:
    first = last_json(run("rotate", "receipts", "--json"))
    assert isinstance(first, list) and first[0]["version"] == 2
    listed = last_json(run("list", "--json"))
    assert isinstance(listed, list)
    assert [(k["purpose"], k["version"], k["state"]) for k in listed] == [
        ("receipts", 1, "retired"), ("receipts", 2, "active")]
    with cli.engine.connect() as conn:
        wrapped = [bytes(w) for w in conn.execute(select(key_versions.c.wrapped_secret))
                   .scalars()]
        actors = conn.execute(select(audit_entries.c.actor).where(
            audit_entries.c.action.in_(["key.rotate", "key.retire"]))).scalars().all()
    output = run("list").output + json.dumps(listed)
    assert all(base64.b64encode(w).decode() not in output and w.hex() not in output
               for w in wrapped)
    assert MASTER.hex() not in output
    assert actors and all(a.startswith("cli:") for a in actors)


def test_blind_index_rotation_is_refused_with_its_code(cli: Database) -> None:
    result = run("rotate", "blind_index")
    assert result.exit_code == 2
    assert "key_rotation_refused" in result.output


def test_rewrap_reports_what_it_moved(cli: Database) -> None:
    assert last_json(run("rewrap", "--json")) == {"scanned": 0, "moved": 0, "destroyed": [],
                                                  "destruction_approvals": []}


def test_destroy_submits_an_approval_and_destroys_nothing(cli: Database) -> None:
    run("rotate", "receipts")
    retired = [k for k in last_json(run("list", "--json"))  # type: ignore[attr-defined]
               if k["state"] == "retired"]
    result = run("destroy", "--", retired[0]["kid"])
    assert result.exit_code == 0, result.output
    approval_id = result.stdout.strip().splitlines()[-1]
    assert approval_id.startswith("apr_")
    states = {k["kid"]: k["state"] for k in last_json(run("list", "--json"))}  # type: ignore[attr-defined]
    assert states[retired[0]["kid"]] == "retired"
    with cli.engine.connect() as conn:
        row = conn.execute(select(approvals.c.kind, approvals.c.state, approvals.c.submitted_by)
                           .where(approvals.c.id == approval_id)).one()
    assert (row.kind, row.state) == ("key_destruction", "pending")
    assert row.submitted_by.startswith("cli:")


def test_a_kid_that_looks_like_an_option_is_taken_after_the_separator(cli: Database) -> None:
    # A JWK thumbprint is base64url, so one kid in 64 begins with "-".
    result = run("destroy", "--", "-not-a-kid")
    assert result.exit_code == 2 and "-not-a-kid" in result.output and "Usage" not in result.output


def test_destroying_the_active_version_is_refused_with_its_code(cli: Database) -> None:
    run("rotate", "receipts")
    active = [k for k in last_json(run("list", "--json"))  # type: ignore[attr-defined]
              if k["state"] == "active"]
    result = run("destroy", "--", active[0]["kid"])
    assert result.exit_code == 2 and "key_not_usable" in result.output

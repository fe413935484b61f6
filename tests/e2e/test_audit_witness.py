"""A real server, a supervisor token from the CLI, and the witness watching over HTTP: the
server signs tree heads on its own while there is activity, `paywarden audit watch --once`
accepts the growing log, and `paywarden verify` / `audit verify` exit 0 only while the
database is sound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from .server import free_port, paywarden, serving


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paywarden", *args], check=False, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_witness_follows_a_live_server_and_verify_catches_an_edit(
        database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_AUDIT_SIGN_INTERVAL_S": "0.5"}
    paywarden(env, "init")
    paywarden(env, "demo")  # accounts and transfers: ledger batches in the log
    token = json.loads(paywarden(env, "tokens", "issue", "--role", "supervisor",
                                 "--json").stdout)["token"]
    state = tmp_path / "witness.json"
    watch = ("audit", "watch", "--once", "--json", "--state", str(state), "--token", token)
    with serving(env, port, tmp_path / "server.log") as base:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "audit.tree_head_signed" not in (
                tmp_path / "server.log").read_text():
            time.sleep(0.2)  # the server signs the grown tree by itself
        assert "audit.tree_head_signed" in (tmp_path / "server.log").read_text()
        first = _run(env, *watch[:2], base, *watch[2:])
        assert first.returncode == 0, first.stderr
        size = json.loads(first.stdout)["tree_size"]
        operator = json.loads(paywarden(env, "tokens", "issue", "--role", "operator",
                                        "--json").stdout)["token"]
        r = httpx.post(f"{base}/v1/ledgers", json={"currency": "CHF"},
                       headers={"Authorization": f"Bearer {operator}"})
        assert r.status_code == 201, r.text
        second = _run(env, *watch[:2], base, *watch[2:])
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["tree_size"] > size
    assert _run(env, "audit", "verify").returncode == 0
    assert _run(env, "verify").returncode == 0
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE transfers SET amount = amount + 1 WHERE timestamp = "
                          "(SELECT min(timestamp) FROM transfers)"))
    engine.dispose()
    audit = _run(env, "audit", "verify", "--json")
    assert audit.returncode == 1
    assert "ledger_batch_digest_mismatch" in {p["code"] for p in json.loads(audit.stdout)["problems"]}
    assert _run(env, "verify").returncode == 1

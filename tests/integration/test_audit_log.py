"""The audit log is a Merkle tree an auditor can check without trusting the operator:
proofs over HTTP verify against signed heads, the tables refuse changes, and every
change made behind the platform's back — to the ledger, to an entry, to the whole
history — is detected and named (issue 4)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, audit_log
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.cli import app as cli
from paywarden.client.witness import Witness
from paywarden.domain.audit import leaves, merkle
from paywarden.domain.audit.leaves import TreeHead
from paywarden.services.audit.verify import verify_audit
from paywarden.settings import Settings
from tests.support.platform import bearer, service_token, staff_token

APPEND_ONLY = ("audit_entries", "audit_nodes", "audit_tree_heads")


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = build(Settings(database_url=database.url, data_dir=tmp_path), clock=clock,
                     database=database)
    with TestClient(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def platform(api: TestClient) -> Platform:
    return api.app.state.platform  # type: ignore[attr-defined,no-any-return]


def supervisor(api: TestClient) -> dict[str, str]:
    return bearer(staff_token(platform(api), "supervisor"))


def move_money(api: TestClient, n: int, *, prefix: str = "t") -> None:
    ops = bearer(service_token(platform(api)))
    if not api.get("/v1/ledgers", headers=ops).json():
        assert api.post("/v1/ledgers", json={"currency": "EUR"}, headers=ops).status_code == 201
    ids = []
    for name in ("bank", "alice"):
        r = api.post("/v1/accounts", json={"ledger": "EUR", "code": 1, "user_data": name},
                     headers=ops)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = api.post("/v1/transfers", headers=ops, json={"transfers": [
        {"id": f"{prefix}{i}", "debit_account_id": ids[0], "credit_account_id": ids[1],
         "amount": 100 + i, "ledger": "EUR", "code": 1} for i in range(n)]})
    assert r.status_code == 200, r.text
    assert {x["result"] for x in r.json()["results"]} == {"ok"}


def sth(api: TestClient) -> TreeHead:
    r = api.get("/v1/audit/sth", headers=supervisor(api))
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"tree_size", "root_hash", "timestamp", "key_id", "signature"}
    return TreeHead.from_json(r.json())


def codes(database: Database) -> set[str]:
    return {p.code for p in verify_audit(database)}


def insider(database: Database, *statements: str) -> None:
    """A database superuser: switch the append-only triggers off, then edit."""
    with database.engine.begin() as conn:
        for table in APPEND_ONLY:
            if database.dialect == "postgresql":
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                for verb in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
        for statement in statements:
            conn.execute(text(statement))


def rebuild_tree(database: Database) -> None:
    """An insider's full rewrite: recompute every node from the (edited) leaves."""
    with database.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, leaf FROM audit_entries ORDER BY seq")).all()
        conn.execute(text("DELETE FROM audit_nodes"))
        nodes = merkle.append(0, [merkle.leaf_hash(bytes(r.leaf)) for r in rows], {})
        conn.execute(text("INSERT INTO audit_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                     [{"l": lv, "i": i, "h": h} for lv, i, h in nodes])


def rewrite_leaf(database: Database, seq: int, **changes: Any) -> None:
    with database.engine.connect() as conn:
        leaf = json.loads(bytes(conn.execute(text(
            "SELECT leaf FROM audit_entries WHERE seq = :s"), {"s": seq}).scalar_one()))
    leaf.update(changes)
    insider(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET leaf = :leaf, actor = :actor WHERE seq = :s"),
                     {"leaf": leaves.canonical(leaf), "actor": leaf["actor"], "s": seq})


# -- what an auditor sees -------------------------------------------------------------


def test_proofs_from_the_api_verify_against_signed_heads(api: TestClient) -> None:
    move_money(api, 5)
    first = sth(api)
    key = platform(api).keys.public_key(first.key_id)
    assert key is not None
    key.verify(first.signature, first.message())  # raises if not signed by the platform
    move_money(api, 3, prefix="u")
    second = sth(api)
    assert second.tree_size > first.tree_size
    entries = api.get("/v1/audit/entries", headers=supervisor(api),
                      params={"start": 0, "end": second.tree_size - 1}).json()["data"]
    assert [e["index"] for e in entries] == list(range(second.tree_size))
    for e in entries:
        leaf = base64.b64decode(e["leaf"])
        assert json.loads(leaf)["seq"] == e["index"]
        proof = api.get("/v1/audit/proofs/inclusion", headers=supervisor(api),
                        params={"index": e["index"], "tree_size": second.tree_size}).json()
        path = [base64.b64decode(h) for h in proof["hashes"]]
        assert merkle.verify_inclusion(merkle.leaf_hash(leaf), e["index"], second.tree_size,
                                       path, second.root_hash)
    cons = api.get("/v1/audit/proofs/consistency", headers=supervisor(api),
                   params={"first": first.tree_size, "second": second.tree_size}).json()
    assert merkle.verify_consistency(first.tree_size, second.tree_size, first.root_hash,
                                     second.root_hash, [base64.b64decode(h) for h in cons["hashes"]])
    actions = [json.loads(base64.b64decode(e["leaf"]))["action"] for e in entries]
    assert "ledger.batch" in actions and "token.issue" in actions


def test_only_supervisors_read_the_log_and_bad_ranges_are_refused(api: TestClient) -> None:
    move_money(api, 1)
    for role in ("operator", "security_admin", "support"):
        r = api.get("/v1/audit/sth", headers=bearer(staff_token(platform(api), role)))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert api.get("/v1/audit/sth").status_code == 401
    size = sth(api).tree_size
    for path, params in (("/v1/audit/proofs/inclusion", {"index": size, "tree_size": size}),
                         ("/v1/audit/proofs/inclusion", {"index": 0, "tree_size": size + 5}),
                         ("/v1/audit/proofs/consistency", {"first": 0, "second": size}),
                         ("/v1/audit/proofs/consistency", {"first": size, "second": size - 1}),
                         ("/v1/audit/entries", {"start": size + 100, "end": size + 104})):
        r = api.get(path, params=params, headers=supervisor(api))
        assert r.status_code == 400 and r.json()["code"] == "audit_range_invalid", (path, params)
    r = api.get("/v1/audit/entries", params={"start": -1, "end": 2}, headers=supervisor(api))
    assert r.status_code == 422  # a malformed parameter: the API's validation problem


def test_the_audit_tables_refuse_update_and_delete(api: TestClient, database: Database) -> None:
    move_money(api, 1)
    sth(api)
    for statement in ("UPDATE audit_entries SET actor = 'someone else'",
                      "DELETE FROM audit_entries WHERE seq = 0",
                      "UPDATE audit_nodes SET hash = hash",
                      "DELETE FROM audit_tree_heads",
                      *(["TRUNCATE audit_entries"] if database.dialect == "postgresql" else [])):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))
    assert codes(database) == set()


# -- tampering, each detected and named ---------------------------------------------------


def test_an_amount_changed_in_the_database_is_detected(api: TestClient, database: Database,
                                                       tmp_path: Path) -> None:
    move_money(api, 4)
    assert codes(database) == set()
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE transfers SET amount = amount + 1000 WHERE id = 't2'"))
    assert "ledger_batch_digest_mismatch" in codes(database)
    result = CliRunner().invoke(cli, ["verify", "--json"],
                                env={"PAYWARDEN_DATABASE_URL": database.url,
                                     "PAYWARDEN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    found = {v["check"] for v in json.loads(result.stdout)["violations"]}
    assert "ledger_batch_digest_mismatch" in found


def test_a_transfer_inserted_behind_the_engine_is_detected(api: TestClient,
                                                           database: Database) -> None:
    move_money(api, 2)
    with database.engine.begin() as conn:
        cols = ", ".join(conn.execute(text("SELECT * FROM transfers")).keys())
        conn.execute(text(f"INSERT INTO transfers ({cols}) SELECT timestamp + 1000000, "
                          f"'forged', {cols.split(', ', 2)[2]} FROM transfers WHERE id = 't1'"))
    assert "transfers_not_audited" in codes(database)


def test_a_deleted_entry_is_detected(api: TestClient, database: Database) -> None:
    move_money(api, 2)
    sth(api)
    insider(database, "DELETE FROM audit_entries WHERE seq = 1")
    assert "audit_entry_missing" in codes(database)


def test_a_rewritten_entry_is_detected(api: TestClient, database: Database) -> None:
    move_money(api, 2)
    sth(api)
    insider(database, "UPDATE audit_entries SET actor = 'cli:nobody' WHERE seq = 1")
    assert codes(database) == {"audit_entry_mismatch"}
    rewrite_leaf(database, 1, actor="cli:nobody")  # now the leaf agrees; the tree does not
    assert {"audit_node_mismatch", "tree_head_root_mismatch"} <= codes(database)


def test_a_history_rebuilt_with_a_new_root_is_detected(api: TestClient,
                                                       database: Database) -> None:
    move_money(api, 3)
    head = sth(api)
    rewrite_leaf(database, 2, actor="cli:nobody")
    rebuild_tree(database)  # every node consistent with the new leaves
    found = codes(database)
    assert found == {"tree_head_root_mismatch"}, found
    with database.engine.connect() as conn:
        assert audit_log.root(audit_log.driver(conn), head.tree_size) != head.root_hash


def test_a_forged_head_signature_is_detected(api: TestClient, database: Database) -> None:
    move_money(api, 1)
    head = sth(api)
    insider(database, f"UPDATE audit_tree_heads SET timestamp = timestamp + 1 "
                      f"WHERE tree_size = {head.tree_size}")
    assert codes(database) == {"tree_head_signature_invalid"}


# -- the witness -------------------------------------------------------------------------------


def witness(api: TestClient, tmp_path: Path) -> Witness:
    token = staff_token(platform(api), "supervisor")
    return Witness("http://testserver", token, tmp_path / "witness.json", http=api)


def test_the_witness_accepts_a_growing_log(api: TestClient, tmp_path: Path) -> None:
    move_money(api, 2)
    w = witness(api, tmp_path)
    assert w.observe()[1] == []
    move_money(api, 2, prefix="u")
    head, alarms = witness(api, tmp_path).observe()  # state reloaded from its file
    assert alarms == [] and head is not None
    assert len(json.loads((tmp_path / "witness.json").read_text())["heads"]) == 2


def test_the_witness_alarms_on_a_rewritten_and_re_signed_history(
        api: TestClient, database: Database, tmp_path: Path) -> None:
    move_money(api, 3)
    assert witness(api, tmp_path).observe()[1] == []
    # The insider rewrites an old entry, rebuilds the tree, drops the signed heads, and
    # has the platform sign the forged tree: the database alone now looks sound.
    rewrite_leaf(database, 1, actor="cli:nobody")
    rebuild_tree(database)
    insider(database, "DELETE FROM audit_tree_heads")
    move_money(api, 1, prefix="u")
    platform(api).tree_heads.sign_now()
    assert codes(database) == set()
    _, alarms = witness(api, tmp_path).observe()
    assert [a.kind for a in alarms] == ["inconsistent"]


def test_the_witness_alarms_on_a_fork_and_a_rollback(api: TestClient, database: Database,
                                                      tmp_path: Path) -> None:
    move_money(api, 2)
    w = witness(api, tmp_path)
    head, _ = w.observe()
    assert head is not None
    signer = platform(api).keys.signer("tree_heads")

    def signed(size: int, root: bytes, timestamp: int) -> TreeHead:
        message = leaves.tree_head_message(tree_size=size, root_hash=root, timestamp=timestamp,
                                           key_id=signer.key_id)
        return TreeHead(size, root, timestamp, signer.key_id, signer.sign(message))

    assert head.tree_size > 1
    assert [a.kind for a in w.check(signed(head.tree_size, b"\x01" * 32, head.timestamp))] == [
        "fork"]
    assert [a.kind for a in w.check(signed(1, b"\x02" * 32, head.timestamp))] == ["rollback"]
    unsigned = TreeHead(head.tree_size + 1, head.root_hash, head.timestamp, head.key_id,
                        b"\x00" * 64)
    assert [a.kind for a in w.check(unsigned)] == ["bad_signature"]


def test_audit_watch_once_exits_0_when_consistent(api: TestClient, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    move_money(api, 1)
    import httpx

    monkeypatch.setattr(httpx, "Client", lambda **_: api)
    result = CliRunner().invoke(cli, ["audit", "watch", "http://testserver", "--once", "--json",
                                      "--state", str(tmp_path / "w.json"),
                                      "--token", staff_token(platform(api), "supervisor")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["ok"] is True


def test_an_entry_carries_digests_of_the_state_before_and_after(api: TestClient,
                                                                 database: Database) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    made = platform(api).merchants.create(name="Shop", public_key=raw, actor="cli:test")
    index = sth(api).tree_size
    platform(api).merchants.set_status(made.merchant.id, "suspended", actor="cli:test")
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT leaf FROM audit_entries WHERE seq >= :i"),
                            {"i": index}).all()
    leaf = next(json.loads(bytes(r.leaf)) for r in rows
                if json.loads(bytes(r.leaf))["action"] == "merchant.suspend")
    assert leaf["after"] == leaves.state_digest({"id": made.merchant.id, "status": "suspended"})
    assert leaf["object"] == made.merchant.id

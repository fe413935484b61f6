"""Merchants and their keys: the CLI, the merchant's own API, staff administration, isolation."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, merchant_keys, metadata
from paywarden.client import AuthenticationFailed, Conflict, NotFound, PayWardenClient
from tests.support.merchants import (
    PUBLIC_URL,
    Creds,
    api_client,
    code_of,
    make_merchant,
    new_key,
    platform_of,
    private_pem,
    public_pem,
    signed,
    staff_token,
)

ME = "/v1/merchants/me"


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


@pytest.fixture
def shop(api: TestClient) -> Creds:
    return make_merchant(platform_of(api), "Shop")


def _sdk(api: TestClient, creds: Creds) -> PayWardenClient:
    clock = platform_of(api).clock
    return PayWardenClient(PUBLIC_URL, creds.key_id, private_pem(creds.key), http_client=api,
                           retries_max=0, now_s=lambda: clock.now_ns() / 1e9)


def _staff(api: TestClient, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(platform_of(api), role)}",
            "Idempotency-Key": os.urandom(8).hex()}


def _audit(api: TestClient, action: str) -> list[dict[str, str]]:
    with platform_of(api).database.engine.connect() as conn:
        rows = conn.execute(select(audit_entries).where(audit_entries.c.action == action))
        return [dict(r._mapping) for r in rows]


def test_the_cli_creates_a_merchant_and_prints_its_ids_as_json(database_url: str,
                                                               tmp_path: Path) -> None:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path)}
    run = [sys.executable, "-m", "paywarden"]
    assert subprocess.run([*run, "init"], env=env, check=False, capture_output=True,
                          timeout=120).returncode == 0
    pem, second = tmp_path / "shop.pem", tmp_path / "second.pem"
    pem.write_bytes(public_pem(new_key()))
    second.write_bytes(public_pem(new_key()))
    out = subprocess.run([*run, "merchants", "create", "--name", "Shop", "--public-key",
                          str(pem), "--json"], env=env, check=False, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ids = json.loads(out.stdout)
    assert set(ids) == {"merchant_id", "key_id"}
    assert ids["merchant_id"].startswith("mer_") and ids["key_id"].startswith("key_")
    shown = subprocess.run([*run, "merchants", "show", ids["merchant_id"]], env=env,
                           check=False, capture_output=True, text=True, timeout=120)
    assert json.loads(shown.stdout)["keys"][0]["id"] == ids["key_id"]
    suspended = subprocess.run([*run, "merchants", "suspend", ids["merchant_id"]], env=env,
                               check=False, capture_output=True, text=True, timeout=120)
    assert suspended.returncode == 0, suspended.stderr
    for command in (["activate", ids["merchant_id"]],  # four-eyes commands (decision 0044)
                    ["keys", "add", ids["merchant_id"], "--public-key", str(second)]):
        asked = subprocess.run([*run, "merchants", *command], env=env, check=False,
                               capture_output=True, text=True, timeout=120)
        assert asked.returncode == 0, asked.stderr
        assert asked.stdout.strip().startswith("apr_") and "approve" in asked.stderr
    shown = subprocess.run([*run, "merchants", "show", ids["merchant_id"]], env=env,
                           check=False, capture_output=True, text=True, timeout=120)
    assert json.loads(shown.stdout)["status"] == "suspended"  # until a second person approves
    assert len(json.loads(shown.stdout)["keys"]) == 1


def _rsa_pem() -> bytes:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() \
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize(("pem", "says"), [
    (_rsa_pem(), "only Ed25519"),
    (ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
     "only Ed25519"),
    (private_pem(new_key()), "private key"),
    (b"not a key", "not a PEM-encoded public key"),
])
def test_the_cli_refuses_anything_but_an_ed25519_public_key(database_url: str, tmp_path: Path,
                                                            pem: bytes, says: str) -> None:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    run = [sys.executable, "-m", "paywarden"]
    assert subprocess.run([*run, "init"], env=env, check=False, capture_output=True,
                          timeout=120).returncode == 0
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    out = subprocess.run([*run, "merchants", "create", "--name", "Shop", "--public-key",
                          str(path), "--json"], env=env, check=False, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2 and says in out.stderr and out.stdout == ""


def test_creating_a_merchant_is_recorded_with_who_did_it(api: TestClient, shop: Creds) -> None:
    [event] = _audit(api, "merchant.create")
    assert event["actor"] == "cli:test" and event["object"] == shop.merchant_id


def test_the_database_holds_no_private_key(api: TestClient, shop: Creds) -> None:
    sdk = _sdk(api, shop)
    rotated = new_key()
    sdk.add_key(public_pem(rotated))
    secrets_ = []
    for key in (shop.key, rotated):
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        secrets_ += [raw, raw.hex().encode(), base64.b64encode(raw)[:40],
                     base64.urlsafe_b64encode(raw)[:40], private_pem(key)[30:70]]
    with platform_of(api).database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                dump = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
                assert not any(secret in dump for secret in secrets_), table.name
        stored = conn.execute(select(merchant_keys.c.public_key)).scalars().all()
    assert sorted(len(k) for k in stored) == [32, 32]
    database_file = Path(platform_of(api).database.url.removeprefix("sqlite:///"))
    if database_file.exists():
        data = database_file.read_bytes() + Path(f"{database_file}-wal").read_bytes() \
            if Path(f"{database_file}-wal").exists() else database_file.read_bytes()
        assert not any(secret in data for secret in secrets_)


def test_a_merchant_rotates_its_key_through_the_sdk(api: TestClient, shop: Creds) -> None:
    sdk = _sdk(api, shop)
    rotated = new_key()
    added = sdk.add_key(public_pem(rotated), label="2026")
    assert added["status"] == "active" and added["label"] == "2026"
    new_creds = Creds(shop.merchant_id, added["id"], rotated)
    new_sdk = _sdk(api, new_creds)
    assert new_sdk.revoke_key(shop.key_id)["status"] == "revoked"
    with pytest.raises(AuthenticationFailed) as refused:
        sdk.me()
    assert refused.value.code == "key_revoked"
    me = new_sdk.me()
    assert {k["id"]: k["status"] for k in me["keys"]} == {
        shop.key_id: "revoked", added["id"]: "active"}
    [event] = _audit(api, "merchant.key.revoke")
    assert event["actor"] == f"{shop.merchant_id}/{added['id']}"


def test_a_merchant_cannot_revoke_the_last_key_it_signs_with(api: TestClient,
                                                             shop: Creds) -> None:
    with pytest.raises(Conflict) as refused:
        _sdk(api, shop).revoke_key(shop.key_id)
    assert refused.value.code == "key_last_active"
    assert _sdk(api, shop).me()["keys"][0]["status"] == "active"


def test_a_key_registered_twice_is_refused(api: TestClient, shop: Creds) -> None:
    with pytest.raises(Conflict) as refused:
        _sdk(api, shop).add_key(public_pem(shop.key))
    assert refused.value.code == "public_key_registered"


def test_a_merchant_cannot_register_a_private_key(api: TestClient, shop: Creds) -> None:
    r = signed(api, shop, "POST", f"{ME}/keys",
               json.dumps({"public_key": private_pem(new_key()).decode()}).encode())
    assert r.status_code == 422 and code_of(r) == "public_key_invalid"
    assert "private key" in r.json()["detail"] and "PRIVATE" not in r.json()["detail"]


def test_a_merchant_cannot_reach_another_merchants_objects(api: TestClient,
                                                           shop: Creds) -> None:
    other = make_merchant(platform_of(api), "Other")
    sdk = _sdk(api, shop)
    for method, path in (("GET", f"/v1/merchants/{other.merchant_id}"),
                         ("POST", f"/v1/merchants/{other.merchant_id}/keys/{other.key_id}/revoke"),
                         ("POST", f"{ME}/keys/{other.key_id}/revoke")):
        with pytest.raises(NotFound):
            sdk.request(method, path)
    with pytest.raises(NotFound):
        sdk.request("POST", f"/v1/merchants/{other.merchant_id}/keys",
                    json={"public_key": public_pem(new_key()).decode()})
    assert _sdk(api, other).me()["keys"][0]["status"] == "active"
    assert len(_audit(api, "access.denied")) == 3  # the 4th is refused by the key lookup


def test_a_merchant_cannot_suspend_itself(api: TestClient, shop: Creds) -> None:
    r = signed(api, shop, "POST", f"/v1/merchants/{shop.merchant_id}/suspend")
    assert r.status_code == 403 and code_of(r) == "forbidden"


def test_a_merchant_admin_manages_merchants_over_the_api(api: TestClient) -> None:
    admin = _staff(api, "merchant_admin")
    key = new_key()
    r = api.post("/v1/merchants", headers=admin,
                 json={"name": "Bakery", "public_key": public_pem(key).decode()})
    assert r.status_code == 201, r.text
    merchant_id, key_id = r.json()["merchant_id"], r.json()["key_id"]
    assert api.get(f"/v1/merchants/{merchant_id}", headers=admin).json()["name"] == "Bakery"
    added = api.post(f"/v1/merchants/{merchant_id}/keys", headers=_staff(api, "merchant_admin"),
                     json={"public_key": public_pem(new_key()).decode()})
    assert added.status_code == 202  # a four-eyes command (decision 0044)
    assert added.json()["approval"]["kind"] == "merchant_key"
    revoke = api.post(f"/v1/merchants/{merchant_id}/keys/{key_id}/revoke",
                      headers=_staff(api, "merchant_admin"))
    assert revoke.json()["status"] == "revoked"
    suspended = api.post(f"/v1/merchants/{merchant_id}/suspend",
                         headers=_staff(api, "merchant_admin"))
    assert suspended.json()["status"] == "suspended"
    again = api.post(f"/v1/merchants/{merchant_id}/suspend",
                     headers=_staff(api, "merchant_admin"))
    assert again.status_code == 409 and code_of(again) == "merchant_status_unchanged"
    activated = api.post(f"/v1/merchants/{merchant_id}/activate",
                         headers=_staff(api, "merchant_admin"))
    assert activated.status_code == 202  # a four-eyes command (decision 0044)
    assert activated.json()["approval"]["kind"] == "merchant_reinstatement"
    [event] = _audit(api, "merchant.suspend")
    assert event["actor"].startswith("cli:test/ses_")


def test_staff_without_the_role_are_refused(api: TestClient, shop: Creds) -> None:
    support = _staff(api, "support")
    assert api.get(f"/v1/merchants/{shop.merchant_id}", headers=support).status_code == 200
    r = api.post(f"/v1/merchants/{shop.merchant_id}/suspend", headers=support)
    assert r.status_code == 403 and code_of(r) == "forbidden"
    r = api.get(f"/v1/merchants/{shop.merchant_id}", headers=_staff(api, "operator"))
    assert r.status_code == 403
    r = api.post("/v1/merchants", headers=_staff(api, "support"),
                 json={"name": "X", "public_key": public_pem(new_key()).decode()})
    assert r.status_code == 403


def test_staff_have_no_me(api: TestClient) -> None:
    r = api.get(ME, headers=_staff(api, "merchant_admin"))
    assert r.status_code == 404


def test_the_sdk_raises_the_problem_code_of_a_refusal(api: TestClient, shop: Creds) -> None:
    stranger = Creds(shop.merchant_id, "key_" + "1" * 24, new_key())
    with pytest.raises(AuthenticationFailed) as refused:
        _sdk(api, stranger).me()
    assert refused.value.status == 401 and refused.value.code == "key_unknown"

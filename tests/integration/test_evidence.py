"""Step-up evidence: `paywarden evidence verify` from the stored row alone, and who may read it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import step_up_evidence, webauthn_credentials
from paywarden.cli import app as cli
from tests.support.authenticator import FLAG_UV, SoftAuthenticator
from tests.support.identity import (
    ORIGIN,
    RP_ID,
    api_client,
    bearer,
    passkey_customer,
    platform_of,
    staff_token,
)

PAYMENT = {"type": "payment", "amount": 100_00, "currency": "EUR", "payee": "Payee A",
           "reference": "INV-1"}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


def approve(api: TestClient, token: str, authenticator: SoftAuthenticator) -> str:
    body = api.post("/v1/auth/step-up/options", headers=bearer(token), json=PAYMENT).json()
    r = api.post("/v1/auth/step-up/verify", headers=bearer(token), json={
        "ceremony_id": body["ceremony_id"], "credential": authenticator.get(body["options"])})
    assert r.status_code == 201, r.text
    return r.json()["evidence_id"]  # type: ignore[no-any-return]


@pytest.fixture
def evidence(api: TestClient) -> tuple[str, str, SoftAuthenticator]:
    """Alice's evidence id, her token, her authenticator."""
    _, token, authenticator = passkey_customer(api, "alice")
    return approve(api, token, authenticator), token, authenticator


def invoke(api: TestClient, tmp_path: Path, *args: str) -> Any:
    settings = platform_of(api).settings
    env = {"PAYWARDEN_DATABASE_URL": settings.database, "PAYWARDEN_DATA_DIR": str(tmp_path),
           "PAYWARDEN_PUBLIC_URL": ORIGIN, "PAYWARDEN_WEBAUTHN_RP_ID": RP_ID,
           "PAYWARDEN_LOG_JSON": "true"}
    return CliRunner().invoke(cli, ["evidence", "verify", *args], env=env)


def run_verify(api: TestClient, tmp_path: Path, evidence_id: str) -> tuple[int, dict[str, Any]]:
    result = invoke(api, tmp_path, evidence_id, "--json")
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def alter(api: TestClient, evidence_id: str, column: str,
          change: Callable[[Any], Any]) -> None:
    with platform_of(api).database.engine.begin() as conn:
        value = conn.execute(select(step_up_evidence.c[column]).where(
            step_up_evidence.c.id == evidence_id)).scalar_one()
        conn.execute(update(step_up_evidence).where(step_up_evidence.c.id == evidence_id)
                     .values({column: change(value)}))


def flip_last_byte(value: bytes) -> bytes:
    return bytes(value[:-1]) + bytes([value[-1] ^ 0x01])


def test_genuine_evidence_verifies_and_shows_what_was_approved(
        api: TestClient, evidence: tuple[str, str, SoftAuthenticator], tmp_path: Path) -> None:
    code, out = run_verify(api, tmp_path, evidence[0])
    assert code == 0 and out["verified"] is True and out["failed"] == []
    assert out["approved"]["amount_display"] == "100.00 EUR"
    assert {k: out["approved"][k] for k in PAYMENT} == PAYMENT


def test_the_text_report_says_what_was_approved_or_which_check_failed(
        api: TestClient, evidence: tuple[str, str, SoftAuthenticator], tmp_path: Path) -> None:
    result = invoke(api, tmp_path, evidence[0])
    assert result.exit_code == 0
    assert "approved payment of 100.00 EUR to 'Payee A' (reference 'INV-1')" in result.stdout
    alter(api, evidence[0], "signature", flip_last_byte)
    result = invoke(api, tmp_path, evidence[0])
    assert result.exit_code == 1 and "NOT VERIFIED; failed: signature" in result.stdout


def test_evidence_verifies_without_the_credentials_table(
        api: TestClient, evidence: tuple[str, str, SoftAuthenticator], tmp_path: Path) -> None:
    with platform_of(api).database.engine.begin() as conn:  # the passkey is revoked and lost
        conn.execute(update(webauthn_credentials).values(public_key=b"\xa0", revoked_at=1))
    assert run_verify(api, tmp_path, evidence[0])[0] == 0


@pytest.mark.parametrize(("column", "change", "check"), [
    ("operation", lambda v: v.replace('"amount":10000', '"amount":100000'), "challenge"),
    ("operation", lambda v: v.replace("Payee A", "Payee B"), "challenge"),
    ("operation", lambda v: v.replace('"amount":10000', '"amount": 10000'), "operation"),
    ("signature", flip_last_byte, "signature"),
    ("client_data_json", lambda v: bytes(v).replace(b"pay.example", b"pay.exbmple"), "origin"),
    ("client_data_json", lambda v: bytes(v).replace(b"pay.example", b"pay.exbmple"),
     "signature"),
    ("client_data_json", lambda v: bytes(v).replace(b"webauthn.get", b"webauthn.gex"), "type"),
    ("authenticator_data", lambda v: v[:32] + bytes([v[32] & ~FLAG_UV]) + v[33:],
     "user_verified"),
    ("authenticator_data", lambda v: v[:32] + bytes([v[32] & ~FLAG_UV]) + v[33:], "signature"),
    ("rp_id", lambda v: "evil.example", "rp_id_hash"),
    ("origin", lambda v: "https://evil.example", "origin"),
    # the key swapped for an attacker's, who re-signs nothing: the signature breaks
    ("public_key", lambda v: SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN).cose_public_key(),
     "signature"),
])
def test_altering_any_stored_byte_fails_the_named_check(
        api: TestClient, evidence: tuple[str, str, SoftAuthenticator], tmp_path: Path,
        column: str, change: Callable[[Any], Any], check: str) -> None:
    alter(api, evidence[0], column, change)
    code, out = run_verify(api, tmp_path, evidence[0])
    assert code == 1 and out["verified"] is False
    assert check in out["failed"], out["checks"]


def test_unknown_evidence_fails(api: TestClient, tmp_path: Path) -> None:
    code, out = run_verify(api, tmp_path, "evd_0000000000000000")
    assert code == 1 and out["failed"] == ["exists"]


def test_the_owner_reads_their_evidence_and_another_customer_gets_404(
        api: TestClient, evidence: tuple[str, str, SoftAuthenticator]) -> None:
    evidence_id, alice_token, _ = evidence
    r = api.get(f"/v1/evidence/{evidence_id}", headers=bearer(alice_token))
    assert r.status_code == 200 and r.json()["verified"] is True
    assert r.json()["approved"]["payee"] == "Payee A"
    _, bob_token, _ = passkey_customer(api, "bob")
    refused = api.get(f"/v1/evidence/{evidence_id}", headers=bearer(bob_token))
    missing = api.get("/v1/evidence/evd_0000000000000000", headers=bearer(bob_token))
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["code"] == missing.json()["code"] == "not_found"
    assert refused.json()["detail"] == missing.json()["detail"]


def test_staff_with_evidence_read_see_it_and_others_are_refused(
        api: TestClient, evidence: tuple[str, str, SoftAuthenticator]) -> None:
    platform = platform_of(api)
    for role, status in (("risk", 200), ("supervisor", 200), ("operator", 403),
                         ("support", 403)):
        r = api.get(f"/v1/evidence/{evidence[0]}", headers=bearer(staff_token(platform, role)))
        assert r.status_code == status, (role, r.text)
    api.cookies.clear()
    assert api.get(f"/v1/evidence/{evidence[0]}").status_code == 401

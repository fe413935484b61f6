"""What a developer on their own machine is told: a signature made for another origin is
refused naming the origin this server expects (the SDK shows it), local webhook endpoints
are refused naming the setting that allows them, and evidence made on the default origin
verifies with `paywarden evidence verify`'s defaults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.cli import app as cli
from paywarden.settings import Settings
from tests.support.authenticator import SoftAuthenticator
from tests.support.identity import enrolment_token, new_customer, register, sign_in
from tests.support.merchants import (
    api_client,
    code_of,
    make_merchant,
    now_s,
    platform_of,
    signature_headers,
    signed,
)

ME = "/v1/merchants/me"
DEFAULT_ORIGIN = "http://localhost:8000"


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


def test_a_signature_over_another_origin_is_refused_naming_the_expected_one(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform, "Shop")
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform),
                                origin="http://127.0.0.1:8000")
    refused = api.get(ME, headers=headers)
    assert refused.status_code == 401 and code_of(refused) == "signature_invalid"
    detail = refused.json()["detail"]
    assert f"signatures over {platform.settings.public_url}" in detail
    assert "PAYWARDEN_PUBLIC_URL" in detail


@pytest.mark.parametrize(("url", "setting"), [
    ("https://localhost:9000/hooks", "PAYWARDEN_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true"),
    ("https://127.0.0.1/hooks", "PAYWARDEN_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true"),
    ("https://192.168.1.20/hooks", "PAYWARDEN_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true"),
    ("http://shop.example/hooks", "PAYWARDEN_WEBHOOK_ALLOW_HTTP=true"),
])
def test_a_local_webhook_endpoint_is_refused_naming_the_setting_that_allows_it(
        api: TestClient, url: str, setting: str) -> None:
    shop = make_merchant(platform_of(api), "Shop")
    answer = signed(api, shop, "PUT", "/v1/merchants/me/webhook-endpoint", json.dumps({"url": url}).encode())
    assert answer.status_code == 422, answer.text
    assert setting in answer.json()["detail"]


def test_evidence_made_on_the_default_origin_verifies_with_the_commands_defaults(
        database: Database, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    for name in ("PUBLIC_URL", "WEBAUTHN_RP_ID", "HOST", "PORT"):
        monkeypatch.delenv(f"PAYWARDEN_{name}", raising=False)
    settings = Settings(database_url=database.url, data_dir=tmp_path)  # the defaults
    assert (settings.public_url, settings.webauthn_rp_id) == (DEFAULT_ORIGIN, "localhost")
    platform = build(settings, clock=clock, database=database)
    with TestClient(create_app(platform), base_url=DEFAULT_ORIGIN) as client:
        user = new_customer(platform, "alice")
        device = SoftAuthenticator(rp_id="localhost", origin=DEFAULT_ORIGIN)
        assert register(client, enrolment_token(platform, user), device).status_code == 201
        token = sign_in(client, device, "alice").json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        payment: dict[str, Any] = {"type": "payment", "amount": 100_00, "currency": "EUR",
                                   "payee": "Payee A", "reference": "INV-1"}
        body = client.post("/v1/auth/step-up/options", headers=auth, json=payment).json()
        made = client.post("/v1/auth/step-up/verify", headers=auth, json={
            "ceremony_id": body["ceremony_id"], "credential": device.get(body["options"])})
        assert made.status_code == 201, made.text
    result = CliRunner().invoke(cli, ["evidence", "verify", made.json()["evidence_id"]], env={
        "PAYWARDEN_DATABASE_URL": database.url, "PAYWARDEN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "NOT VERIFIED" not in result.stdout and "approved payment" in result.stdout

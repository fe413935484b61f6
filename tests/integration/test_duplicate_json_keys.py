"""A JSON body that names a key twice is refused with 400 before any route runs, and
changes nothing: no transfer, no checkout, no claimed Idempotency-Key, no spent nonce."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app

from ..support.certify import certify
from ..support.merchants import client_for, code_of, make_merchant, platform_for, signed
from ..support.platform import bearer, platform_of, service_token

NONCE = "bm9uY2Utb25jZS1vbmx5LTAwMDEtYWJjZGVmZ2g"
ORDER = ('{"order_ref": "A-1", "items": [{"name": "Lamp", "quantity": 1, "unit_amount": 1}],'
         ' "amount": 1, "currency": "EUR", "return_url": "https://shop.example/thanks",'
         ' "escrow": {"days_to_ship": 3, "release_after_days": 7}}')


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform
        yield client


def post_raw(api: TestClient, path: str, body: str, token: str) -> httpx.Response:
    return api.post(path, content=body.encode(), headers={
        **bearer(token), "Content-Type": "application/json"})


def accounts(api: TestClient, token: str) -> dict[str, str]:
    for currency in ("EUR",):
        assert api.post("/v1/ledgers", headers=bearer(token),
                        json={"currency": currency}).status_code == 201
    ids = {}
    for name in ("bank", "alice"):
        r = api.post("/v1/accounts", headers=bearer(token),
                     json={"ledger": "EUR", "code": 1, "flags": [], "user_data": name})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return ids


def transfers_text(ids: dict[str, str], amounts: str) -> str:
    """A one-transfer batch from bank to alice whose amount is written as ``amounts``."""
    one = json.dumps({"id": "t1", "debit_account_id": ids["bank"],
                      "credit_account_id": ids["alice"], "amount": 0, "ledger": "EUR",
                      "code": 1})
    return '{"transfers": [' + one.replace('"amount": 0', amounts) + "]}"


def credits_of(api: TestClient, token: str, account_id: str) -> int:
    return int(api.get(f"/v1/accounts/{account_id}", headers=bearer(token)
                       ).json()["balances"]["credits_posted"])


@pytest.mark.parametrize("amounts", [
    '"amount": 1, "amount": 999999999',
    '"amount": 1, "\\u0061mount": 999999999',  # the same key, spelled with an escape
])
def test_a_transfer_naming_its_amount_twice_is_refused_and_moves_nothing(
        api: TestClient, amounts: str) -> None:
    token = service_token(platform_of(api))
    ids = accounts(api, token)
    body = transfers_text(ids, amounts)
    r = post_raw(api, "/v1/transfers", body, token)
    assert r.status_code == 400 and code_of(r) == "duplicate_json_key"
    assert "'amount'" in r.json()["detail"]
    assert credits_of(api, token, ids["alice"]) == 0
    assert api.get("/v1/transfers/t1", headers=bearer(token)).status_code == 404


def test_a_key_repeated_deep_inside_a_body_is_refused_too(api: TestClient) -> None:
    token = service_token(platform_of(api))
    ids = accounts(api, token)
    body = transfers_text(ids, '"amount": 5').replace("]}", '], "transfers": []}')
    assert code_of(post_raw(api, "/v1/transfers", body, token)) == "duplicate_json_key"
    nested = ORDER.replace('"name": "Lamp"', '"name": "Lamp", "name": "Lamp 2"')
    r = post_raw(api, "/v1/checkout/sessions", nested, token)
    assert code_of(r) == "duplicate_json_key"
    assert credits_of(api, token, ids["alice"]) == 0


def test_a_signed_checkout_with_a_repeated_amount_is_refused_before_key_or_nonce_is_spent(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    certify(platform, shop.merchant_id)
    twice = ORDER.replace('"amount": 1,', '"amount": 1, "amount": 999999999,').encode()
    r = signed(api, shop, "POST", "/v1/checkout/sessions", twice, idempotency_key="idk_same",
               nonce=NONCE)
    assert r.status_code == 400 and code_of(r) == "duplicate_json_key"
    # The same Idempotency-Key and nonce, on the body the merchant meant: both still unused.
    r = signed(api, shop, "POST", "/v1/checkout/sessions", ORDER.encode(),
               idempotency_key="idk_same", nonce=NONCE)
    assert r.status_code == 201, r.text
    assert r.json()["payment_id"].startswith("pay_")


def test_a_public_route_refuses_a_repeated_key_and_bodies_that_are_not_json_pass_as_before(
        api: TestClient) -> None:
    r = api.post("/v1/auth/password", content=b'{"username": "a", "username": "b"}',
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and code_of(r) == "duplicate_json_key"
    r = api.post("/v1/auth/password", content=b'{"username": ', headers={
        "Content-Type": "application/json"})
    assert r.status_code == 422 and code_of(r) == "validation_failed"
    r = api.post("/v1/auth/password", content=json.dumps({"a": {"b": 1}, "b": {"a": 1}}),
                 headers={"Content-Type": "application/json"})
    assert code_of(r) != "duplicate_json_key"  # the same name in two objects is no repeat

"""Control characters and bidi overrides in the text people see (order references, item
names, shipment, dispute, merchant and sign-up fields) and CR/LF in URLs are refused with a
stable code, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import merchants, users
from paywarden.api import create_app

from ..support.certify import certify
from ..support.merchants import client_for, code_of, make_merchant, platform_for, signed
from ..support.platform import bearer, platform_of, staff_token

ORDER: dict[str, Any] = {
    "order_ref": "A-1001", "items": [{"name": "Desk lamp", "quantity": 1, "unit_amount": 500}],
    "amount": 500, "currency": "EUR", "return_url": "https://shop.example/thanks",
    "escrow": {"days_to_ship": 3, "release_after_days": 7}}
CHECKOUT = "/v1/checkout/sessions"


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, webhook_allow_http=True,
                            webhook_allow_private_addresses=True)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def item_named(name: str) -> dict[str, Any]:
    return {**ORDER, "items": [{**ORDER["items"][0], "name": name}]}


@pytest.mark.parametrize(("order", "code"), [
    ({**ORDER, "order_ref": "A-1001\x00"}, "text_control_character"),
    ({**ORDER, "order_ref": "A-1001\r\nX-Injected: 1"}, "text_control_character"),
    ({**ORDER, "order_ref": "A-\u202e1001"}, "text_bidi_control"),
    ({**ORDER, "order_ref": "A-\u20661001\u2069"}, "text_bidi_control"),
    (item_named("Desk lamp\u202egpj.exe"), "text_bidi_control"),
    (item_named("Desk\x1b[31mlamp"), "text_control_character"),
    (item_named("Desk\x85lamp"), "text_control_character"),
    ({**ORDER, "return_url": "https://shop.example/thanks\r\nSet-Cookie: a=b"},
     "text_control_character"),
    ({**ORDER, "return_url": "https://shop.example/thanks\n"}, "text_control_character"),
])
def test_a_checkout_with_unsafe_text_is_refused_and_not_stored(
        api: TestClient, order: dict[str, Any], code: str) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    certify(platform, shop.merchant_id)
    r = signed(api, shop, "POST", CHECKOUT, json.dumps(order).encode())
    assert r.status_code == 422 and code_of(r) == code, r.text
    r = signed(api, shop, "POST", CHECKOUT, json.dumps(ORDER).encode())
    assert r.status_code == 201, r.text  # the order_ref was not taken by the refused one


def test_a_shipment_with_a_control_character_in_its_tracking_is_refused(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    certify(platform, shop.merchant_id)
    pid = signed(api, shop, "POST", CHECKOUT, json.dumps(ORDER).encode()).json()["payment_id"]
    for body in ({"carrier": "DHL", "tracking": "JD01\r\n4600003"},
                 {"carrier": "DHL\u202e", "tracking": "JD014600003"}):
        r = signed(api, shop, "POST", f"/v1/payments/{pid}/shipments", json.dumps(body).encode())
        assert r.status_code == 422 and code_of(r).startswith("text_"), r.text


def test_a_merchant_name_or_key_label_with_a_bidi_override_is_refused(api: TestClient) -> None:
    platform = platform_of(api)
    token = staff_token(platform, "operator")
    for body in ({"name": "Good \u202eShop", "public_key": "x"},
                 {"name": "Shop", "public_key": "x", "key_label": "main\nkey"}):
        r = api.post("/v1/merchants", headers=bearer(token), json=body)
        assert r.status_code == 422 and code_of(r).startswith("text_"), r.text
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(merchants)).scalar_one() == 0


def test_a_webhook_url_with_cr_lf_is_refused(api: TestClient) -> None:
    shop = make_merchant(platform_of(api))
    body = json.dumps({"url": "https://shop.example/h\r\nHost: evil.example"}).encode()
    r = signed(api, shop, "PUT", "/v1/merchants/me/webhook-endpoint", body)
    assert r.status_code == 422 and code_of(r) == "text_control_character"
    assert signed(api, shop, "GET", "/v1/merchants/me/webhook-endpoint").status_code == 404


def test_a_sign_up_with_a_bidi_display_name_is_refused_and_creates_no_user(
        api: TestClient) -> None:
    platform = platform_of(api)
    for body in ({"username": "carol", "display_name": "Carol \u202eadmin"},
                 {"username": "carol", "display_name": "Carol\r\n"}):
        r = api.post("/v1/customers", json=body)
        assert r.status_code == 422 and code_of(r).startswith("text_"), r.text
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 0

"""A buyer's own payments over HTTP (``GET /v1/me/payments``): newest first, a page at a time
with a cursor that neither repeats nor skips, each with the certified merchant's legal name;
never another buyer's, and never to a merchant or staff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.services.ledger.accounts import AccountRef

from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for, signed
from ..support.platform import bearer, platform_of, staff_token
from .test_payments_api import ORDER, certified, checkout, confirm_order, fund


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def test_a_buyer_lists_their_paid_payments_newest_first_page_by_page(
        api: TestClient, clock: FakeClock) -> None:
    platform = platform_of(api)
    shop = certified(platform, "Lamp Shop")
    buyer, token, authenticator = passkey_customer(api, "bob")
    _, mallory, _ = passkey_customer(api, "mallory")
    fund(platform, AccountRef("wallet", buyer.id, "EUR"), 50_000)
    paid = []
    for n in range(5):
        clock.advance(1)
        session = checkout(api, shop, {**ORDER, "order_ref": f"A-{n}"})
        evidence = confirm_order(api, token, authenticator, session, shop)
        r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                     json={"method": "wallet", "evidence_id": evidence})
        assert r.status_code == 200, r.text
        paid.append(session["payment_id"])
    checkout(api, shop, {**ORDER, "order_ref": "unpaid"})  # nobody's until paid

    seen, cursor, pages = [], None, 0
    while True:
        r = api.get("/v1/me/payments", headers=bearer(token),
                    params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [p["id"] for p in seen] == paid[::-1] and pages == 3
    first = seen[0]
    assert (first["state"], first["amount"], first["currency"]) == ("held", 5_000, "EUR")
    assert first["merchant"]["id"] == shop.merchant_id and first["merchant"]["name"]
    assert first["created"].endswith("Z") and first["buyer_id"] == buyer.id

    # another buyer sees none of them, and cannot act on them
    r = api.get("/v1/me/payments", headers=bearer(mallory))
    assert r.status_code == 200 and r.json() == {"data": [], "next_cursor": None}
    assert api.post(f"/v1/payments/{paid[0]}/confirm", headers=bearer(mallory)).status_code == 404


def test_only_a_signed_in_buyer_has_a_payments_list(api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    assert api.get("/v1/me/payments").status_code == 401
    r = api.get("/v1/me/payments", headers=bearer(staff_token(platform, "supervisor")))
    assert r.status_code == 403 and r.json()["code"] == "no_user"
    r = signed(api, shop, "GET", "/v1/me/payments")
    assert r.status_code == 403 and r.json()["code"] == "no_user"


@pytest.mark.parametrize("cursor", ["x", "1.pay_zz", "-1.pay_" + "0" * 24,
                                    "9" * 30 + ".pay_" + "0" * 24])
def test_a_malformed_cursor_is_refused_as_input(api: TestClient, cursor: str) -> None:
    _, token, _ = passkey_customer(api, "bob")
    r = api.get("/v1/me/payments", headers=bearer(token), params={"cursor": cursor})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


def test_the_dispute_a_buyer_opens_shows_in_their_list(api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    buyer, token, authenticator = passkey_customer(api, "bob")
    fund(platform, AccountRef("wallet", buyer.id, "EUR"), 10_000)
    session = checkout(api, shop)
    evidence = confirm_order(api, token, authenticator, session, shop)
    api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
             json={"method": "wallet", "evidence_id": evidence})
    pid = session["payment_id"]
    signed(api, shop, "POST", f"/v1/payments/{pid}/shipments",
           json.dumps({"carrier": "DHL", "tracking": "JD1"}).encode())
    r = api.post(f"/v1/payments/{pid}/disputes", headers=bearer(token),
                 json={"reason": "damaged", "detail": "The lamp arrived broken."})
    assert r.status_code == 201, r.text
    listed = api.get("/v1/me/payments", headers=bearer(token)).json()["data"]
    assert [(p["state"], p["dispute"]) for p in listed] == [
        ("disputed", {"status": "open", "reason": "damaged"})]
    assert "arrived broken" not in json.dumps(listed)  # the free text stays sealed

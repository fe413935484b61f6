"""Checkout and escrow over HTTP: a merchant's signed checkout session, a buyer paying from a
wallet or a card after confirming the exact order with a passkey, shipment, receipt,
release; and the attacks on that flow refused with nothing moved."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import Platform
from paywarden.domain.ledger import Transfer, TransferResult
from paywarden.services import receipts
from paywarden.services.approvals.disputes import DisputeDecision
from paywarden.services.ledger.accounts import AccountRef, ensure, platform_account
from paywarden.services.ledger.queries import LedgerQueries

from ..support.approvals import decide, maker_and_checker
from ..support.authenticator import SoftAuthenticator
from ..support.certify import certify
from ..support.identity import passkey_customer
from ..support.merchants import Creds, client_for, make_merchant, platform_for, signed
from ..support.platform import bearer, platform_of, staff_token

ORDER = {"order_ref": "A-1001", "items": [{"name": "Desk lamp", "quantity": 2,
                                           "unit_amount": 2_500}],
         "amount": 5_000, "currency": "EUR", "return_url": "https://shop.example/thanks",
         "escrow": {"days_to_ship": 3, "release_after_days": 7}}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, payment_fee_bps=100)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def fund(platform: Platform, ref: AccountRef, amount: int) -> None:
    clearing = platform_account("bank_clearing", ref.currency)
    if platform.queries.ledger_by_currency(ref.currency) is None:
        platform.queries.create_ledger(ref.currency, now_ns=platform.clock.now_ns())
    ensure(platform.engine, [ref, clearing])
    assert platform.engine.execute([Transfer(f"dep-{ref.owner}-{amount}", clearing.id, ref.id,
                                             amount, ref.ledger, 1)]) == [TransferResult.OK]


def balance(platform: Platform, ref: AccountRef) -> int:
    view = LedgerQueries(platform.database).account(ref.id, now_ns=platform.clock.now_ns())
    return 0 if view is None else view.balances.credits_posted - view.balances.debits_posted


def certified(platform: Platform, name: str = "Shop") -> Creds:
    shop = make_merchant(platform, name)
    certify(platform, shop.merchant_id)
    return shop


def checkout(api: TestClient, shop: Creds, order: dict[str, Any] = ORDER) -> dict[str, Any]:
    r = signed(api, shop, "POST", "/v1/checkout/sessions", json.dumps(order).encode())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def confirm_order(api: TestClient, token: str, authenticator: SoftAuthenticator,
                  session: dict[str, Any], shop: Creds, amount: int = 5_000) -> str:
    r = api.post("/v1/auth/step-up/options", headers=bearer(token), json={
        "type": "payment", "amount": amount, "currency": "EUR", "payee": shop.merchant_id,
        "reference": session["payment_id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    r = api.post("/v1/auth/step-up/verify", headers=bearer(token), json={
        "ceremony_id": body["ceremony_id"],
        "credential": authenticator.get(body["options"])})
    assert r.status_code == 201, r.text
    return r.json()["evidence_id"]  # type: ignore[no-any-return]


def test_the_whole_escrow_flow_over_http(api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    buyer, token, authenticator = passkey_customer(api, "bob")
    fund(platform, AccountRef("wallet", buyer.id, "EUR"), 20_000)
    session = checkout(api, shop)
    assert session["url"].endswith(f"/pay/{session['id']}")
    evidence = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": evidence})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "held" and r.json()["return_url"] == ORDER["return_url"]
    pid = session["payment_id"]
    r = signed(api, shop, "POST", f"/v1/payments/{pid}/shipments",
               json.dumps({"carrier": "DHL", "tracking": "JD014600003"}).encode())
    assert r.status_code == 201 and r.json()["state"] == "shipped", r.text
    r = api.post(f"/v1/payments/{pid}/confirm", headers=bearer(token))
    assert r.status_code == 200 and r.json()["state"] == "released", r.text
    assert balance(platform, AccountRef("merchant", shop.merchant_id, "EUR")) == 4_950
    assert balance(platform, platform_account("fee_income", "EUR")) == 50
    r = signed(api, shop, "GET", f"/v1/payments/{pid}")
    assert r.status_code == 200 and (r.json()["released"], r.json()["fee"]) == (4_950, 50)
    r = api.get(f"/v1/payments/{pid}", headers=bearer(staff_token(platform, "supervisor")))
    assert r.status_code == 200 and "tracking" not in json.dumps(r.json())
    # a receipt per money movement for each side, checkable against the published keys alone
    jwks = api.get("/.well-known/jwks.json").json()
    mine = api.get(f"/v1/payments/{pid}/receipts", headers=bearer(token)).json()["data"]
    assert [r["audience"] for r in mine] == ["buyer", "buyer"]  # paid, then released
    claims = [receipts.verify(r["jws"], jwks) for r in mine]
    assert [c["state"] for c in claims] == ["held", "released"]
    assert claims[-1]["amount_minor"] == 5_000 and claims[-1]["merchant_id"] == shop.merchant_id
    head, body, sig = mine[0]["jws"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged["amount_minor"] = 1
    tampered = ".".join([head, base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
                         .rstrip("="), sig])
    with pytest.raises(receipts.ReceiptRefused):
        receipts.verify(tampered, jwks)
    r = signed(api, shop, "GET", f"/v1/payments/{pid}/receipts")
    assert [x["audience"] for x in r.json()["data"]] == ["merchant", "merchant"]
    # one webhook per transition, in order
    with platform.database.engine.connect() as conn:
        types = conn.execute(text("SELECT type FROM webhook_events WHERE merchant_id = :m "
                                  "ORDER BY audit_index"), {"m": shop.merchant_id}).scalars().all()
    assert types == ["payment.pay", "payment.ship", "payment.confirm_receipt"]


def test_attacks_on_the_flow_are_refused_and_move_nothing(api: TestClient) -> None:
    platform = platform_of(api)
    shop, other_shop = certified(platform), certified(platform, "Other")
    buyer, token, authenticator = passkey_customer(api, "bob")
    _, mallory, _ = passkey_customer(api, "mallory")
    wallet = AccountRef("wallet", buyer.id, "EUR")
    fund(platform, wallet, 20_000)
    session = checkout(api, shop)
    second = checkout(api, shop, {**ORDER, "order_ref": "A-1002"})
    # evidence for one order does not pay another, nor a larger amount
    evidence = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{second['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": evidence})
    assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch"
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": "evd_" + "0" * 24})
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    assert balance(platform, wallet) == 20_000
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": evidence})
    assert r.status_code == 200, r.text
    pid = session["payment_id"]
    # another buyer cannot confirm it; another merchant cannot ship or refund it
    assert api.post(f"/v1/payments/{pid}/confirm", headers=bearer(mallory)).status_code == 404
    r = signed(api, other_shop, "POST", f"/v1/payments/{pid}/refunds",
               json.dumps({"amount": 100, "refund_id": "r1"}).encode())
    assert r.status_code == 404
    # a refund larger than what is held; then a cancel, and a shipment after it
    r = signed(api, shop, "POST", f"/v1/payments/{pid}/refunds",
               json.dumps({"amount": 5_001, "refund_id": "r1"}).encode())
    assert r.status_code == 422 and r.json()["code"] == "refund_exceeds_held"
    assert api.post(f"/v1/payments/{pid}/cancel", headers=bearer(token)).status_code == 200
    r = signed(api, shop, "POST", f"/v1/payments/{pid}/shipments",
               json.dumps({"carrier": "DHL", "tracking": "X"}).encode())
    assert r.status_code == 409 and r.json()["code"] == "escrow_transition_not_allowed"
    assert balance(platform, wallet) == 20_000
    assert balance(platform, platform_account("escrow", "EUR")) == 0


def test_checkout_input_and_who_may_create_it(api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    r = signed(api, shop, "POST", "/v1/checkout/sessions",
               json.dumps({**ORDER, "amount": 4_999}).encode())
    assert r.status_code == 422 and r.json()["code"] == "amount_mismatch"
    r = signed(api, shop, "POST", "/v1/checkout/sessions",
               json.dumps({**ORDER, "currency": "XYZ"}).encode())
    assert r.status_code == 422 and r.json()["code"] == "currency_unknown"
    _, token, _ = passkey_customer(api, "bob")
    r = api.post("/v1/checkout/sessions", headers=bearer(token), json=ORDER)
    assert r.status_code == 403
    platform.merchants.set_status(shop.merchant_id, "suspended", actor="cli:test")
    r = signed(api, shop, "POST", "/v1/checkout/sessions", json.dumps(ORDER).encode())
    assert r.status_code in (401, 403)
    fresh = certified(platform, "Fresh")
    r = signed(api, fresh, "POST", "/v1/checkout/sessions", json.dumps(
        {**ORDER, "return_url": "https://evil.example/thanks"}).encode())
    assert r.status_code == 422 and r.json()["code"] == "return_url_off_domain"
    uncertified = make_merchant(platform, "Uncertified")
    r = signed(api, uncertified, "POST", "/v1/checkout/sessions", json.dumps(ORDER).encode())
    assert r.status_code == 403 and r.json()["code"] == "merchant_not_certified"


def test_a_card_payment_is_authorised_and_captured_or_declined(api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    buyer, token, authenticator = passkey_customer(api, "bob")
    good = platform.cards.store("4242424242424242", 12, 2030, "Bob Buyer", buyer.id)
    poor = platform.cards.store("4000000000000002", 12, 2030, "Bob Buyer", buyer.id)
    session = checkout(api, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "card", "card_token": good.token,
                       "evidence_id": "evd_" + "0" * 24})
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    with platform.database.engine.connect() as conn:  # the issuer never saw the card
        assert conn.execute(text("SELECT count(*) FROM audit_entries WHERE action = "
                                 "'card.reveal'")).scalar_one() == 0
    evidence = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "card", "card_token": poor.token, "evidence_id": evidence})
    assert r.status_code == 402 and r.json()["code"] == "card_declined"
    assert "4000" not in r.text
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "card", "card_token": good.token, "evidence_id": evidence})
    assert r.status_code == 200 and r.json()["state"] == "held", r.text
    assert balance(platform, platform_account("escrow", "EUR")) == 5_000
    assert balance(platform, platform_account("card_issuer", "EUR")) == -5_000


def test_cards_are_stored_behind_tokens_and_bad_numbers_are_not_echoed(api: TestClient,
                                                                       caplog: Any) -> None:
    _, token, _ = passkey_customer(api, "carol")
    r = api.post("/v1/me/cards", headers=bearer(token), json={
        "number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030,
        "holder_name": "Carol Buyer"})
    assert r.status_code == 201, r.text
    assert r.json()["brand"] == "visa" and r.json()["last4"] == "4242"
    assert "4242424242424242" not in r.text
    bad = api.post("/v1/me/cards", headers=bearer(token), json={
        "number": "4242 4242 4242 4241", "exp_month": 12, "exp_year": 2030,
        "holder_name": "Carol Buyer"})
    assert bad.status_code == 422 and "4242" not in bad.text
    malformed = api.post("/v1/me/cards", headers=bearer(token), json={
        "number": "4" * 60, "exp_month": 12, "exp_year": 2030, "holder_name": "C"})
    assert malformed.status_code == 422 and "4444" not in malformed.text
    listed = api.get("/v1/me/cards", headers=bearer(token)).json()["data"]
    assert [(c["brand"], c["last4"]) for c in listed] == [("visa", "4242")]
    assert "4242424242424242" not in caplog.text and "4242424242424241" not in caplog.text
    shop = certified(platform_of(api))
    r = signed(api, shop, "POST", "/v1/me/cards", json.dumps({
        "number": "4242424242424242", "exp_month": 1, "exp_year": 2030,
        "holder_name": "X"}).encode())
    assert r.status_code == 403


def disputed(api: TestClient, shop: Creds, buyer: str) -> tuple[str, AccountRef, str]:
    """A wallet-paid order (200.00 EUR funded, 50.00 EUR paid), shipped and disputed by its
    buyer; the payment, the buyer's wallet and their token."""
    platform = platform_of(api)
    who, token, authenticator = passkey_customer(api, buyer)
    wallet = AccountRef("wallet", who.id, "EUR")
    fund(platform, wallet, 20_000)
    session = checkout(api, shop)
    evidence = confirm_order(api, token, authenticator, session, shop)
    assert api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                    json={"method": "wallet", "evidence_id": evidence}).status_code == 200
    pid = session["payment_id"]
    assert signed(api, shop, "POST", f"/v1/payments/{pid}/shipments", json.dumps(
        {"carrier": "DHL", "tracking": "JD1"}).encode()).status_code == 201
    r = api.post(f"/v1/payments/{pid}/disputes", headers=bearer(token), json={
        "reason": "not_as_described", "detail": "The lamp is broken."})
    assert r.status_code == 201 and r.json()["state"] == "disputed", r.text
    return pid, wallet, token


def test_a_dispute_is_opened_answered_and_split_and_a_release_happens_once(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    pid, wallet, token = disputed(api, shop, "bob")
    r = signed(api, shop, "POST", f"/v1/payments/{pid}/disputes/answer", json.dumps(
        {"statement": "It left here intact."}).encode())
    assert r.status_code == 200, r.text
    operator = bearer(staff_token(platform, "operator"))
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=operator,
                 json={"resolution": "split", "refund": 2_000, "release": 3_000})
    assert r.status_code == 403  # operators do not decide disputes
    maker, checker = maker_and_checker(api)
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=maker.headers,
                 json={"resolution": "split", "refund": 2_000, "release": 2_000})
    assert r.status_code == 422 and r.json()["code"] == "split_does_not_add_up"
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=maker.headers,
                 json={"resolution": "split", "refund": 2_000, "release": 3_000})
    assert r.status_code == 202, r.text  # a four-eyes command: nothing moved
    approval = r.json()["approval"]
    assert (approval["kind"], approval["amount"]) == ("dispute_decision", 5_000)
    assert balance(platform, wallet) == 15_000
    own = decide(api, maker, approval)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required"
    done = decide(api, checker, approval)
    assert done.json()["state"] == "executed", done.text
    assert done.json()["result"] == {"payment_id": pid, "resolution": "split",
                                     "refund": 2_000, "release": 3_000, "state": "split"}
    assert balance(platform, wallet) == 17_000
    assert balance(platform, AccountRef("merchant", shop.merchant_id, "EUR")) == 2_970
    # Executed again, as after a crash between the move and the approval's commit: the
    # machine refuses a second decision and the effect answers the first outcome.
    stored = platform.approvals.get(approval["id"])
    assert DisputeDecision(platform.payments, clock=platform.clock).effect(stored) == \
        done.json()["result"]
    assert balance(platform, wallet) == 17_000
    again = api.post(f"/v1/payments/{pid}/disputes/decision", headers=maker.headers,
                     json={"resolution": "release"})
    assert again.status_code in (409, 422)
    assert api.post(f"/v1/payments/{pid}/confirm", headers=bearer(token)).status_code == 409
    assert balance(platform, platform_account("escrow", "EUR")) == 0

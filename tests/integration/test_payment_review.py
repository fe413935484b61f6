"""An escrow pay the risk screening answers ``review`` is a real hold (decision 0039): the
buyer's money is reserved in escrow, the payment waits ``under_review`` with no ship-by
timer, and an analyst's release (through the case API) lets it go on as a plain pay, or a
decline returns everything to the buyer. Each outcome applies once; the merchant gets a
webhook for every step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.bootstrap import Platform
from paywarden.domain.escrow import NS_PER_DAY
from paywarden.domain.risk import Decision, Rule, RuleState
from paywarden.services.ledger.accounts import AccountRef, platform_account
from paywarden.services.risk.resolvers import PaymentResolver

from ..support.banking import balance_of
from ..support.merchants import Creds, signed
from ..support.platform import bearer, platform_of, staff_token
from ..support.risk_rules import rule_enabled
from ..support.transfers import Customer, customer, deposit, transfer_api
from .test_payments_api import ORDER, balance, certified, checkout
from .test_risk_coverage import pay

AMOUNT = ORDER["amount"]
FUNDS = 80_000
DAYS_TO_SHIP = ORDER["escrow"]["days_to_ship"]  # type: ignore[index]


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from transfer_api(database, clock, tmp_path)  # the suite's deadline (conftest)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=FUNDS)


@pytest.fixture
def analyst(api: TestClient) -> dict[str, str]:
    return bearer(staff_token(platform_of(api), "risk"))


@pytest.fixture
def shop(api: TestClient) -> Creds:
    platform = platform_of(api)
    shop = certified(platform)
    review_pays(platform)
    return shop


def review_pays(platform: Platform) -> None:
    """An active rule that sends every pay to review (shadow, back-tested, approved by two)."""
    rules = platform.risk.rules
    rules.publish([*rules.current().rules, Rule("check_pays", 'kind == "pay"', Decision.REVIEW,
                                                "check_pays", RuleState.SHADOW)], actor="ann")
    rule_enabled(platform, "check_pays")
    platform.clock.advance(10)  # type: ignore[attr-defined]  # past the rules' cache


def reviewed(api: TestClient, ada: Customer, shop: Creds) -> str:
    """A paid order, under review: its payment id."""
    session = checkout(api, shop)
    r = pay(api, ada, shop, session)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "under_review" and r.json()["ship_by"] is None
    return str(session["payment_id"])


def case_for(api: TestClient, analyst: dict[str, str], payment_id: str) -> str:
    r = api.get("/v1/risk/cases", headers=analyst)
    assert r.status_code == 200, r.text
    found = [c["id"] for g in r.json()["data"] for c in g["cases"]
             if c["object_id"] == payment_id]
    assert len(found) == 1, r.json()
    return str(found[0])


def answer(api: TestClient, analyst: dict[str, str], case_id: str, outcome: str) -> Any:
    r = api.post(f"/v1/risk/cases/{case_id}/{outcome}", headers=analyst,
                 json={"reason": f"{outcome} after checking"})
    assert r.status_code == 200, r.text
    return r.json()


def escrowed(platform: Platform) -> int:
    return balance(platform, platform_account("escrow", "EUR"))


def webhooks(platform: Platform, merchant_id: str) -> list[tuple[str, str]]:
    with platform.database.engine.connect() as conn:
        rows = conn.execute(text("SELECT type, payload FROM webhook_events WHERE merchant_id "
                                 "= :m ORDER BY audit_index"), {"m": merchant_id}).all()
    return [(r[0], json.loads(r[1])["payment"]["state"]) for r in rows]


def told(api: TestClient, who: Customer, kind: str) -> list[dict[str, Any]]:
    r = api.get("/v1/me/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return [n for n in (body["data"] if isinstance(body, dict) else body) if n["kind"] == kind]


def ship(api: TestClient, shop: Creds, payment_id: str) -> Any:
    return signed(api, shop, "POST", f"/v1/payments/{payment_id}/shipments",
                  json.dumps({"carrier": "DHL", "tracking": "JD014600003"}).encode())


def test_a_pay_screened_review_reserves_the_money_in_escrow_and_the_shop_cannot_ship(
        api: TestClient, ada: Customer, shop: Creds, analyst: dict[str, str]) -> None:
    platform = platform_of(api)
    pid = reviewed(api, ada, shop)
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS - AMOUNT
    assert escrowed(platform) == AMOUNT
    assert balance(platform, platform_account("fee_income", "EUR")) == 0
    refused = ship(api, shop, pid)
    assert refused.json()["code"] == "escrow_transition_not_allowed", refused.text
    case = api.get(f"/v1/risk/cases/{case_for(api, analyst, pid)}", headers=analyst).json()
    held = case["held"]
    assert (held["kind"], held["state"], held["amount_text"], held["merchant"]) == \
        ("escrow_pay", "under_review", "50.00 EUR", shop.merchant_id)
    assert "check_pays" in case["reasons"]
    assert webhooks(platform, shop.merchant_id) == [("payment.pay", "under_review")]
    mine = api.get(f"/v1/payments/{pid}/receipts", headers=ada.headers).json()["data"]
    assert len(mine) == 1, "the money moved: the buyer has a receipt for the reservation"


def test_an_analyst_release_holds_the_payment_with_the_ship_by_clock_started_then(
        api: TestClient, ada: Customer, shop: Creds, analyst: dict[str, str]) -> None:
    platform = platform_of(api)
    pid = reviewed(api, ada, shop)
    case_id = case_for(api, analyst, pid)
    platform.clock.advance(120)  # type: ignore[attr-defined]
    released_at = platform.clock.now_ns()
    done = answer(api, analyst, case_id, "release")
    assert (done["created"], done["result"]) == (True, "held")
    view = platform.payments.get(pid)
    assert view is not None and view.escrow.ship_by_ns == released_at + DAYS_TO_SHIP * NS_PER_DAY
    again = answer(api, analyst, case_id, "decline")  # a second answer gets the first
    assert (again["created"], again["outcome"], again["result"]) == (False, "release", "held")
    assert ship(api, shop, pid).status_code == 201
    r = api.post(f"/v1/payments/{pid}/confirm", headers=ada.headers)
    assert r.status_code == 200 and r.json()["state"] == "released", r.text
    assert balance(platform, platform_account("escrow", "EUR")) == 0
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS - AMOUNT
    assert [t for t, _ in webhooks(platform, shop.merchant_id)] == [
        "payment.pay", "payment.review_release", "payment.ship", "payment.confirm_receipt"]
    assert len(told(api, ada, "review_release")) == 1


def test_an_analyst_decline_returns_the_money_to_the_buyer_and_ends_declined(
        api: TestClient, ada: Customer, shop: Creds, analyst: dict[str, str]) -> None:
    platform = platform_of(api)
    pid = reviewed(api, ada, shop)
    case_id = case_for(api, analyst, pid)
    done = answer(api, analyst, case_id, "decline")
    assert (done["created"], done["result"]) == (True, "declined")
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS
    assert escrowed(platform) == 0
    assert balance(platform, AccountRef("merchant", shop.merchant_id, "EUR")) == 0
    assert balance(platform, platform_account("fee_income", "EUR")) == 0
    again = answer(api, analyst, case_id, "release")
    assert (again["created"], again["outcome"], again["result"]) == (False, "decline",
                                                                     "declined")
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS
    assert webhooks(platform, shop.merchant_id) == [("payment.pay", "under_review"),
                                                     ("payment.review_decline", "declined")]
    mine = api.get(f"/v1/payments/{pid}/receipts", headers=ada.headers).json()["data"]
    assert len(mine) == 2, "a receipt for the reservation and one for its return"
    notice = told(api, ada, "review_decline")
    assert len(notice) == 1 and "50.00 EUR" in notice[0]["body"]
    assert "gone back to where you paid from" in notice[0]["body"]
    r = pay(api, ada, shop, {"id": _session_of(platform, pid), "payment_id": pid})
    assert r.json()["code"] == "escrow_transition_not_allowed", "a declined order is final"


def _session_of(platform: Platform, payment_id: str) -> str:
    with platform.database.engine.connect() as conn:
        return str(conn.execute(text("SELECT checkout_session_id FROM payments WHERE id = :p"),
                                {"p": payment_id}).scalar_one())


def test_the_resolver_asked_twice_moves_the_money_once_and_answers_the_first_result(
        api: TestClient, ada: Customer, shop: Creds) -> None:
    platform = platform_of(api)
    pid = reviewed(api, ada, shop)
    resolver = PaymentResolver(platform.payments)
    first = resolver.resolve(pid, release=False, reason="fraud", actor="stf_ann")
    second = resolver.resolve(pid, release=False, reason="fraud", actor="stf_ann")
    other = resolver.resolve(pid, release=True, reason="oops", actor="stf_ben")
    assert (first, second, other) == ("declined", "declined", "declined")
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS
    assert [t for t, _ in webhooks(platform, shop.merchant_id)] == [
        "payment.pay", "payment.review_decline"]
    assert resolver.resolve("pay_" + "0" * 24, release=True, reason="x", actor="stf_ann") \
        == "absent"


def test_a_payment_under_review_cancelled_refunds_the_buyer_and_the_case_then_moves_nothing(
        api: TestClient, ada: Customer, shop: Creds, analyst: dict[str, str]) -> None:
    platform = platform_of(api)
    pid = reviewed(api, ada, shop)
    r = signed(api, shop, "POST", f"/v1/payments/{pid}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS
    assert escrowed(platform) == 0
    done = answer(api, analyst, case_for(api, analyst, pid), "release")
    assert done["result"] == "cancelled"
    assert balance_of(api, ada.token, ada.account["id"]) == FUNDS
    assert [t for t, _ in webhooks(platform, shop.merchant_id)] == [
        "payment.pay", "payment.cancel"]


def test_a_reviewed_pay_that_did_not_run_follows_the_analysts_answer_when_retried(
        api: TestClient, shop: Creds, analyst: dict[str, str]) -> None:
    """Screened review, then refused by the ledger (too little money): the case is answered
    with nothing held; a retry is not held again with no case open — the decline stands."""
    platform = platform_of(api)
    poor = customer(api, "poor", funds=1_000)
    session = checkout(api, shop)
    r = pay(api, poor, shop, session)
    assert r.json()["code"] == "insufficient_funds", r.text
    done = answer(api, analyst, case_for(api, analyst, session["payment_id"]), "decline")
    assert done["result"] == "absent"
    deposit(api, poor.account["iban"], 10_000)
    again = pay(api, poor, shop, session)
    assert again.status_code == 422 and again.json()["code"] == "payment_declined", again.text
    assert balance_of(api, poor.token, poor.account["id"]) == 11_000
    assert platform.payments.get(session["payment_id"]).escrow.state == "created"  # type: ignore[union-attr]

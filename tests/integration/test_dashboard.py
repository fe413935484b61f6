"""The back office dashboard's figures over real data made through the services, on SQLite
and PostgreSQL: payments paid, disputed and refunded land in their hour, ledger transfers
are counted, queue depths match the queues, and only staff read any of it."""

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
from paywarden.adapters.store.schema import transfers, webhook_events
from paywarden.api import create_app
from paywarden.services.dashboard import HOUR_NS, HOURS_MAX
from paywarden.services.ledger.accounts import AccountRef

from ..support.identity import passkey_customer
from ..support.merchants import Creds, client_for, platform_for, signed
from ..support.platform import bearer, platform_of, service_token, staff_token
from .test_payments_api import ORDER, certified, checkout, confirm_order, disputed, fund

ORDER_2 = {**ORDER, "order_ref": "B-2002", "amount": 2_000,
           "items": [{"name": "Bulb", "quantity": 1, "unit_amount": 2_000}]}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, payment_fee_bps=100)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def pay(api: TestClient, shop: Creds, buyer: str, order: dict[str, Any]) -> str:
    """A wallet payment of ``order`` by a new buyer; its id."""
    platform = platform_of(api)
    who, token, authenticator = passkey_customer(api, buyer)
    fund(platform, AccountRef("wallet", who.id, "EUR"), 20_000)
    session = checkout(api, shop, order)
    evidence = confirm_order(api, token, authenticator, session, shop, amount=order["amount"])
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": evidence})
    assert r.status_code == 200, r.text
    return str(session["payment_id"])


def figures(api: TestClient, hours: int = 3, role: str = "operator") -> dict[str, Any]:
    r = api.get(f"/v1/staff/dashboard?hours={hours}",
                headers=bearer(staff_token(platform_of(api), role)))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_payments_disputes_refunds_and_transfers_are_counted_in_their_hour(
        api: TestClient, clock: FakeClock) -> None:
    platform = platform_of(api)
    clock.advance(ns=HOUR_NS - clock.now_ns() % HOUR_NS + 60 * 10**9)  # 00:01 of an hour
    shop = certified(platform)
    disputed(api, shop, "bob")  # 50.00 EUR paid, shipped, disputed
    refunded = pay(api, shop, "carol", ORDER_2)  # 20.00 EUR paid, then refunded
    r = signed(api, shop, "POST", f"/v1/payments/{refunded}/refunds",
               json.dumps({"amount": 2_000, "refund_id": "r1"}).encode())
    assert r.status_code in (200, 201), r.text
    clock.advance(3_600)  # the next hour: one more payment
    pay(api, shop, "dave", {**ORDER_2, "order_ref": "C-3003"})

    body = figures(api)
    earlier, now = body["hours"][-2], body["hours"][-1]
    assert len(body["hours"]) == 3 and body["hours"][0]["volume"] == {}
    assert earlier["volume"] == {"EUR": {"count": 2, "amount_minor": 7_000}}
    assert (earlier["pays"], earlier["disputes"], earlier["refunds"]) == (2, 1, 1)
    assert earlier["dispute_rate"] == 0.5 and earlier["refund_rate"] == 0.5
    assert earlier["decline_rate"] == 0.0
    assert now["volume"] == {"EUR": {"count": 1, "amount_minor": 2_000}}
    assert (now["pays"], now["disputes"], now["refunds"], now["dispute_rate"]) == (1, 0, 0, 0.0)
    assert body["hours"][0]["dispute_rate"] is None  # no payment: no rate, not zero
    with platform.database.engine.connect() as conn:
        made = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        waiting = conn.execute(select(func.count()).select_from(webhook_events).where(
            webhook_events.c.state == "pending")).scalar_one()
    assert made > 0 and sum(h["transfers"] for h in body["hours"]) == made
    assert earlier["transfers"] > 0 and now["transfers"] > 0
    decided = sum(sum(h["risk_decisions"].values()) for h in body["hours"])
    assert decided >= 3 - earlier["pays_refused"]  # every pay screened (allowed here)
    assert body["queues"]["webhooks_waiting"] == {"depth": waiting, "at_least": False}
    assert body["queues"]["parked_payments"]["depth"] == 0
    assert body["queues"]["open_alerts"]["depth"] == 0


def test_a_submitted_staff_refund_shows_as_a_pending_approval(
        api: TestClient) -> None:
    from ..support.approvals import maker_and_checker

    shop = certified(platform_of(api))
    pid = pay(api, shop, "erin", ORDER_2)
    assert figures(api)["queues"]["pending_approvals"]["depth"] == 0
    maker, _ = maker_and_checker(api)
    r = api.post(f"/v1/payments/{pid}/refunds", headers=maker.headers,
                 json={"amount": 500, "refund_id": "r-1"})
    assert r.status_code == 202, r.text
    assert figures(api)["queues"]["pending_approvals"] == {"depth": 1, "at_least": False}


def test_every_staff_role_and_supervisors_read_the_dashboard(api: TestClient) -> None:
    for role in ("operator", "support", "risk", "merchant_admin", "security_admin",
                 "supervisor"):
        assert len(figures(api, hours=1, role=role)["hours"]) == 1


def test_customers_merchants_and_machines_are_refused_the_dashboard(api: TestClient) -> None:
    platform = platform_of(api)
    _, customer, _ = passkey_customer(api, "frank")
    for token in (customer, service_token(platform)):
        r = api.get("/v1/staff/dashboard", headers=bearer(token))
        assert r.status_code == 403, r.text
    assert api.get("/v1/staff/dashboard").status_code == 401


def test_a_window_outside_one_hour_to_a_week_is_refused(api: TestClient) -> None:
    staff = bearer(staff_token(platform_of(api), "operator"))
    for hours in (0, HOURS_MAX + 1, -3):
        r = api.get(f"/v1/staff/dashboard?hours={hours}", headers=staff)
        assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text

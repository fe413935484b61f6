"""The staff's queues over the API (decision 0049): risk staff read the disputes to decide,
with both sides and a decision already waiting; merchant admins read the applications to
decide on; merchants, customers and roles without the resource are refused; and the queue
pages turn away anyone not signed in with a passkey."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.services.certification import BusinessDetails

from ..support.approvals import maker_and_checker
from ..support.identity import passkey_customer
from ..support.merchants import client_for, make_merchant, platform_for, signed
from ..support.platform import bearer, platform_of, staff_token
from .test_payments_api import certified, disputed


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def test_risk_staff_read_both_sides_of_a_dispute_and_the_decision_waiting_on_it(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    pid, _, _ = disputed(api, shop, "bob")
    assert signed(api, shop, "POST", f"/v1/payments/{pid}/disputes/answer", json.dumps(
        {"statement": "It left here intact.", "evidence_refs": ["photo-1"]}).encode()
                  ).status_code == 200
    maker, _ = maker_and_checker(api)
    [listed] = api.get("/v1/staff/disputes", headers=maker.headers).json()["data"]
    assert (listed["payment_id"], listed["held"], listed["currency"]) == (pid, 5_000, "EUR")
    assert listed["dispute"]["detail"] == "The lamp is broken."
    assert (listed["dispute"]["status"], listed["dispute"]["statement"]) == (
        "answered", "It left here intact.")
    assert listed["dispute"]["merchant_evidence_refs"] == ["photo-1"]
    assert listed["pending_approval_id"] is None
    made = api.post(f"/v1/payments/{pid}/disputes/decision", headers=maker.headers,
                    json={"resolution": "refund"})
    assert made.status_code == 202, made.text
    [listed] = api.get("/v1/staff/disputes", headers=maker.headers).json()["data"]
    assert listed["pending_approval_id"] == made.json()["approval_id"]


def test_merchant_admins_read_waiting_applications_with_their_domains(api: TestClient) -> None:
    platform = platform_of(api)
    lamps = make_merchant(platform, "Lamps")
    platform.certification.apply(lamps.merchant_id, BusinessDetails(
        legal_name="Lamps Ltd", registration_number="1", address="2 Mill Lane",
        contact_email="o@lamps.example"), ["lamps.example", "lamps.test"], actor="cli:test")
    platform.certification.attest_domain(lamps.merchant_id, "lamps.example", actor="cli:test")
    shop = certified(platform)
    admin = bearer(staff_token(platform, "merchant_admin"))
    [waiting] = api.get("/v1/staff/certification", headers=admin).json()["data"]
    assert (waiting["merchant_id"], waiting["legal_name"]) == (lamps.merchant_id, "Lamps Ltd")
    assert {d["domain"]: d["verified_at"] is not None for d in waiting["domains"]} == {
        "lamps.example": True, "lamps.test": False}
    assert waiting["certificate"] is None
    [done] = api.get("/v1/staff/certification?status=approved", headers=admin).json()["data"]
    assert (done["merchant_id"], done["certificate"]["status"]) == (shop.merchant_id, "active")
    bad = api.get("/v1/staff/certification?status=pending", headers=admin)
    assert bad.status_code == 422


def test_the_queues_refuse_merchants_customers_and_roles_without_the_resource(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    _, customer, _ = passkey_customer(api, "eve")
    for path in ("/v1/staff/disputes", "/v1/staff/certification"):
        assert api.get(path, headers=bearer(customer)).status_code == 403
        assert signed(api, shop, "GET", path).status_code == 403
        assert api.get(path).status_code == 401
    support = bearer(staff_token(platform, "support"))
    assert api.get("/v1/staff/disputes", headers=support).status_code == 200
    refused = api.get("/v1/staff/certification", headers=support)
    assert refused.status_code == 403, refused.text
    admin = bearer(staff_token(platform, "security_admin"))
    assert api.get("/v1/staff/disputes", headers=admin).status_code == 403


@pytest.mark.parametrize("path", ["/staff/disputes", "/staff/certification", "/supervision"])
def test_the_queue_pages_need_a_passkey_session(api: TestClient, path: str) -> None:
    r = api.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"
    token = staff_token(platform_of(api), "supervisor")
    r = api.get(path, headers=bearer(token), follow_redirects=False)  # a host token: no
    assert r.status_code in (303, 403) and "Certified" not in r.text

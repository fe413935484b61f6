"""Paying a checkout from the bank: a topped-up wallet and a current account fund escrow
payments, which the pages could not before (nothing could fund them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app

from ..support.approvals import staff_refund
from ..support.banking import balance_of, deposit, open_account
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, staff_token
from .test_payments_api import certified, checkout, confirm_order


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, payment_fee_bps=100)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def test_a_checkout_is_paid_from_a_current_account_and_refunds_go_back_to_it(
        api: TestClient) -> None:
    platform = api.app.state.platform  # type: ignore[attr-defined]
    shop = certified(platform)
    _, token, authenticator = passkey_customer(api, "ada")
    current = open_account(api, token)
    deposit(api, current["iban"], 8_000)
    session = checkout(api, shop)
    evidence = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "bank", "evidence_id": evidence})
    assert r.status_code == 422 and r.json()["code"] == "payment_funding_missing"
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "bank", "evidence_id": evidence, "account_id": current["id"]})
    assert r.status_code == 200, r.text
    assert balance_of(api, token, current["id"]) == 3_000
    assert staff_refund(api, session["payment_id"], 5_000)["state"] == "executed"
    assert balance_of(api, token, current["id"]) == 8_000


def test_a_frozen_or_foreign_account_cannot_pay(api: TestClient) -> None:
    platform = api.app.state.platform  # type: ignore[attr-defined]
    shop = certified(platform)
    _, token, authenticator = passkey_customer(api, "ada")
    _, other, _ = passkey_customer(api, "bob")
    theirs = open_account(api, other)
    mine = open_account(api, token)
    deposit(api, theirs["iban"], 8_000)
    deposit(api, mine["iban"], 8_000)
    session = checkout(api, shop)
    evidence = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "bank", "evidence_id": evidence, "account_id": theirs["id"]})
    assert r.status_code == 404
    support = bearer(staff_token(platform, "support"))
    api.post(f"/v1/staff/bank-accounts/{mine['id']}/freeze", headers=support,
             json={"reason": "suspected takeover"})
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "bank", "evidence_id": evidence, "account_id": mine["id"]})
    assert r.status_code == 409 and r.json()["code"] == "account_frozen"
    assert balance_of(api, other, theirs["id"]) == 8_000
    assert balance_of(api, token, mine["id"]) == 8_000

"""Service credentials (decision 0043): a machine principal's token exists only after a
second security admin approved it, and only its submitter fetches it, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.domain.identity import Kind

from ..support.approvals import decide, passkey_staff
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def test_a_service_credential_needs_a_second_admin_and_is_shown_once_to_its_submitter(
        api: TestClient) -> None:
    ada = passkey_staff(api, "ada-admin", "security_admin")
    bea = passkey_staff(api, "bea-admin", "security_admin")
    r = api.post("/v1/approvals", headers=ada.headers, json={
        "kind": "service_credential", "params": {"name": "ledger-feed", "ttl_s": 600,
                                                      "amount_max": 500}})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    fetch = f"/v1/approvals/{approval['id']}/credential"
    early = api.get(fetch, headers=ada.headers)
    assert early.status_code == 404 and early.json()["code"] == "credential_not_found"
    assert decide(api, ada, approval).json()["code"] == "four_eyes_required"
    done = decide(api, bea, approval)
    assert done.json()["state"] == "executed", done.text
    assert "pws_" not in done.text  # the approval never carries the token
    theirs = api.get(fetch, headers=bea.headers)
    assert theirs.status_code == 403 and theirs.json()["code"] == "credential_not_yours"
    r = api.get(fetch, headers=ada.headers)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    principal = platform_of(api).sessions.authenticate(r.json()["token"])
    assert principal is not None and principal.kind is Kind.SERVICE
    # it posts directly, within the limit two people agreed: over it, nothing is applied
    machine = bearer(r.json()["token"])
    api.post("/v1/ledgers", headers=machine, json={"currency": "EUR"})
    a, b = (api.post("/v1/accounts", headers=machine, json={"ledger": "EUR", "code": 1})
            .json()["id"] for _ in range(2))
    move = {"debit_account_id": a, "credit_account_id": b, "ledger": "EUR", "code": 1}
    over = api.post("/v1/transfers", headers=machine, json={"transfers": [
        {**move, "id": "s-1", "amount": 500}, {**move, "id": "s-2", "amount": 501}]})
    assert over.status_code == 403 and over.json()["code"] == "service_limit_exceeded"
    assert api.get("/v1/transfers/s-1", headers=machine).status_code == 404
    within = api.post("/v1/transfers", headers=machine, json={"transfers": [
        {**move, "id": "s-1", "amount": 500}]})
    assert within.status_code == 200 and within.json()["results"][0]["result"] == "ok"
    again = api.get(fetch, headers=ada.headers)
    assert again.status_code == 410 and again.json()["code"] == "credential_redeemed"


def test_no_one_mints_a_service_token_alone(api: TestClient) -> None:
    host = staff_token(platform_of(api), "security_admin", actor="cli:root")
    r = api.post("/v1/approvals", headers=bearer(host), json={
        "kind": "service_credential", "params": {"name": "bench", "ttl_s": 600,
                                                 "amount_max": 10**9}})
    assert r.status_code == 202
    approval = r.json()["approval"]
    refused = api.post(f"/v1/approvals/{approval['id']}/approve", headers=bearer(host),
                       json={"evidence_id": "evd_0000000000000000"})
    assert refused.status_code == 403
    r = api.get(f"/v1/approvals/{approval['id']}/credential", headers=bearer(host))
    assert r.status_code == 404
    risk = passkey_staff(api, "rita-risk", "risk")
    assert decide(api, risk, approval).json()["code"] == "approver_role_refused"
    r = api.post("/v1/staff/users/usr_0000000000000000/roles", headers=bearer(host),
                 json={"role": "service", "action": "grant"})
    assert r.status_code == 422 and r.json()["code"] == "role_unknown"

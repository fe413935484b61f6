"""The credit registry's staff routes (api/registry_routes.py): risk submits a change to
the approval engine and another risk member approves it with a passkey, the submitter's
own approval is refused (four_eyes_required), support tells a subject the reason category
(never the evidence) and opens their appeal, other roles are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import Platform
from paywarden.services.identity.tokens import issue_staff_token

from ..support.approvals import decide, maker_and_checker
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of

BASE = "/v1/staff/registry"
ALICE = {"kind": "email", "value": "Alice@Example.com"}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def token(platform: Platform, role: str, who: str) -> dict[str, str]:
    return bearer(issue_staff_token(platform.database, platform.sessions, role=role,
                                    ttl_s=3600, ttl_s_max=3600, actor=f"cli:{who}",
                                    now_ns=platform.clock.now_ns()).token)


def asked(api: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """A create submitted for approval: the approval (202), holding digests only."""
    r = api.post(f"{BASE}/requests", headers=headers, json={
        "action": "create", "identifiers": [ALICE, {"kind": "phone", "value": "+44 20 7946 0958"}],
        "reason": "account_takeover", "evidence_ref": "case:4711", "expires_in_days": 365})
    assert r.status_code == 202, r.text
    assert "example.com" not in r.text.lower() and "7946" not in r.text
    approval: dict[str, Any] = r.json()["approval"]
    assert (approval["kind"], approval["state"]) == ("registry_entry", "pending")
    return approval


def test_an_entry_needs_a_submission_and_another_risk_members_passkey_approval(
        api: TestClient) -> None:
    platform = platform_of(api)
    alice, bob = maker_and_checker(api)
    approval = asked(api, alice.headers)
    inbox = api.get("/v1/approvals?state=pending&kind=registry_entry", headers=bob.headers)
    assert [a["id"] for a in inbox.json()["data"]] == [approval["id"]]
    own = decide(api, alice, approval)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required", own.text
    assert platform.registry.hits({"email": "alice@example.com"}) == []
    done = decide(api, bob, approval)
    assert done.status_code == 200 and done.json()["state"] == "executed", done.text
    (hit,) = platform.registry.hits({"email": " alice@EXAMPLE.com"})
    assert hit.reason == "account_takeover" and done.json()["result"]["entry_id"] == hit.entry_id
    entry = api.get(f"{BASE}/entries/{hit.entry_id}", headers=token(platform, "supervisor", "sue"))
    assert entry.status_code == 200 and entry.json()["evidence_ref"] == "case:4711"
    assert (entry.json()["requested_by"], entry.json()["approved_by"]) == (
        alice.user.id, bob.user.id)
    again = decide(api, bob, approval)  # fresh evidence, but the approval was decided
    assert again.status_code == 409 and again.json()["code"] == "approval_not_pending"
    assert len(platform.registry.hits({"email": "alice@example.com"})) == 1


def test_a_host_token_may_submit_a_change_but_never_approve_one(api: TestClient) -> None:
    platform = platform_of(api)
    approval = asked(api, token(platform, "risk", "alice"))
    r = api.post(f"/v1/approvals/{approval['id']}/approve", headers=token(platform, "risk", "bob"),
                 json={"evidence_id": "evd_" + "0" * 24})
    assert r.status_code == 403 and r.json()["code"] == "approver_passkey_required", r.text
    assert platform.registry.hits({"email": "alice@example.com"}) == []


def test_a_trusted_source_needs_a_second_person_too(api: TestClient) -> None:
    alice, bob = maker_and_checker(api)
    r = api.post(f"{BASE}/requests", headers=alice.headers, json={
        "action": "trust_source", "issuer": "https://bank-b.example", "jwks": {"keys": []}})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert decide(api, alice, approval).json()["code"] == "four_eyes_required"
    done = decide(api, bob, approval)
    assert done.json()["result"] == {"action": "trust_source",
                                     "entry_id": "https://bank-b.example"}, done.text


def test_support_tells_the_subject_the_reason_but_not_the_evidence_and_opens_an_appeal(
        api: TestClient) -> None:
    platform = platform_of(api)
    alice, bob = maker_and_checker(api)
    done = decide(api, bob, asked(api, alice.headers))
    assert done.json()["state"] == "executed", done.text
    support = token(platform, "support", "sam")
    r = api.post(f"{BASE}/subject-status", headers=support,
                 json={"identifiers": [{"kind": "phone", "value": "020 7946 0958"}],
                       "region": "GB"})
    assert r.status_code == 200, r.text
    (seen,) = r.json()["data"]
    assert seen["reason"] == "account_takeover" and "case:4711" not in r.text
    r = api.post(f"{BASE}/appeals", headers=support,
                 json={"entry_id": seen["entry_id"], "identifiers": [ALICE]})
    assert r.status_code == 201 and r.json()["state"] == "open", r.text
    again = api.post(f"{BASE}/appeals", headers=support,
                     json={"entry_id": seen["entry_id"], "identifiers": [ALICE]})
    assert again.status_code == 409 and again.json()["code"] == "registry_appeal_open"
    appeals = api.get(f"{BASE}/appeals", headers=bob.headers).json()["data"]
    assert [a["id"] for a in appeals] == [r.json()["id"]]
    assert api.get(f"{BASE}/entries/{seen['entry_id']}", headers=support).status_code == 403


def test_roles_without_the_grant_are_refused(api: TestClient) -> None:
    platform = platform_of(api)
    _, customer, _ = passkey_customer(api, "ada")
    body = {"action": "create", "identifiers": [ALICE], "reason": "money_mule",
            "evidence_ref": "case:1", "expires_in_days": 30}
    # a supervisor is refused before the route runs (read-only), the others by it
    for headers, code in ((bearer(customer), "forbidden"),
                          (token(platform, "support", "sam"), "forbidden"),
                          (token(platform, "supervisor", "sue"), "read_only_role"),
                          (token(platform, "operator", "oz"), "forbidden")):
        r = api.post(f"{BASE}/requests", headers=headers, json=body)
        assert r.status_code == 403 and r.json()["code"] == code, r.text
    r = api.post(f"{BASE}/subject-status", headers=token(platform, "operator", "oz"),
                 json={"identifiers": [ALICE]})
    assert r.status_code == 403
    assert api.post(f"{BASE}/requests", json=body).status_code == 401


def test_a_bad_identifier_is_refused_without_echoing_it(api: TestClient) -> None:
    r = api.post(f"{BASE}/requests", headers=token(platform_of(api), "risk", "alice"), json={
        "action": "create", "identifiers": [{"kind": "phone", "value": "call-me-maybe"}],
        "reason": "money_mule", "evidence_ref": "case:1", "expires_in_days": 30})
    assert r.status_code == 422 and r.json()["code"] == "registry_identifier_invalid", r.text
    assert "call-me-maybe" not in r.text

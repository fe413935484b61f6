"""Circuit breakers over HTTP (api/breaker_routes.py): the risk role lists and resets,
a supervisor only reads, a customer or another staff role is refused, and a reset is a
four-eyes command of the approval engine: the submitter's own approval is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.domain.risk.breakers import Outcome, Scope, ScopeKind

from ..support.approvals import decide, maker_and_checker
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token

BIN = Scope(ScopeKind.CARD_BIN, "411111")


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def tripped(api: TestClient) -> str:
    breakers = platform_of(api).breakers
    for _ in range(25):
        breakers.record(BIN, Outcome.DECLINED)
    (state,) = breakers.check([BIN])
    assert state.breaker_id is not None
    return state.breaker_id


def test_the_risk_role_and_a_supervisor_see_a_tripped_breaker_and_others_do_not(
        api: TestClient) -> None:
    breaker_id = tripped(api)
    for role in ("risk", "supervisor"):
        r = api.get("/v1/staff/breakers", headers=bearer(staff_token(platform_of(api), role)))
        assert r.status_code == 200, r.text
        (listed,) = r.json()["data"]
        assert (listed["id"], listed["scope"], listed["state"], listed["open_action"]) == (
            breaker_id, "card_bin:411111", "open", "decline")
    _, customer, _ = passkey_customer(api, "ada")
    for token in (customer, staff_token(platform_of(api), "support")):
        r = api.get("/v1/staff/breakers", headers=bearer(token))
        assert r.status_code == 403 and "411111" not in r.text
    supervisor = staff_token(platform_of(api), "supervisor")
    r = api.post(f"/v1/staff/breakers/{breaker_id}/reset-requests", headers=bearer(supervisor),
                 json={"reason": "looks fine"})
    assert r.status_code == 403  # a supervisor reads, never resets


def test_a_reset_needs_a_second_member_of_the_risk_team_with_a_passkey(
        api: TestClient) -> None:
    breaker_id = tripped(api)
    alice, bob = maker_and_checker(api)
    r = api.post(f"/v1/staff/breakers/{breaker_id}/reset-requests", headers=alice.headers,
                 json={"reason": "issuer outage explained the declines"})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert (approval["kind"], approval["params"]["breaker_id"]) == ("breaker_reset", breaker_id)
    listed = api.get("/v1/staff/breakers", headers=bob.headers).json()["data"][0]
    assert listed["pending_reset"]["id"] == approval["id"]
    other = api.post(f"/v1/staff/breakers/{breaker_id}/reset-requests", headers=bob.headers,
                     json={"reason": "me too"})
    assert other.status_code == 409 and other.json()["code"] == "breaker_reset_pending"
    own = decide(api, alice, approval)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required"
    assert platform_of(api).breakers.check([BIN])[0].state == "open"
    done = decide(api, bob, approval)
    assert done.status_code == 200 and done.json()["state"] == "executed", done.text
    assert done.json()["result"] == {"breaker_id": breaker_id, "state": "closed"}
    assert platform_of(api).breakers.check([BIN])[0].state == "closed"
    again = decide(api, bob, approval)
    assert again.status_code == 409 and again.json()["code"] == "approval_not_pending"
    closed = api.post(f"/v1/staff/breakers/{breaker_id}/reset-requests", headers=alice.headers,
                      json={"reason": "again"})
    assert closed.status_code == 409 and closed.json()["code"] == "breaker_not_open"


def test_the_old_approve_route_is_gone(api: TestClient) -> None:
    r = api.post(f"/v1/staff/breakers/reset-requests/brr_{'0' * 24}/approve",
                 headers=bearer(staff_token(platform_of(api), "risk")))
    assert r.status_code in (404, 405)

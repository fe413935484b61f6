"""Circuit breakers over HTTP (api/breaker_routes.py): the risk role lists and resets,
a supervisor only reads, a customer or another staff role is refused, and a reset needs
a second member of staff: the requester's own approval is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.domain.risk.breakers import Outcome, Scope, ScopeKind

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


def test_a_reset_needs_a_second_member_of_the_risk_team(api: TestClient) -> None:
    breaker_id = tripped(api)
    alice = staff_token(platform_of(api), "risk")
    bob = staff_token(platform_of(api), "risk")
    r = api.post(f"/v1/staff/breakers/{breaker_id}/reset-requests", headers=bearer(alice),
                 json={"reason": "issuer outage explained the declines"})
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    approve = f"/v1/staff/breakers/reset-requests/{request_id}/approve"
    own = api.post(approve, headers=bearer(alice))
    assert own.status_code == 403 and own.json()["code"] == "breaker_reset_same_staff"
    assert platform_of(api).breakers.check([BIN])[0].state == "open"
    done = api.post(approve, headers=bearer(bob))
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "approved" and done.json()["approved_by"] is not None
    assert platform_of(api).breakers.check([BIN])[0].state == "closed"
    again = api.post(approve, headers=bearer(bob))
    assert again.status_code == 409 and again.json()["code"] == "breaker_reset_not_pending"

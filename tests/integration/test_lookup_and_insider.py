"""Staff see customers masked and reveal a field only with a recorded reason; insider
analytics alert supervisors on a burst of lookups, on work outside working hours and on
a member of staff acting on a customer who shares their device or address (decision 0046)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, sign_in_origins, staff_activity
from paywarden.api import create_app
from paywarden.domain.insider import HOUR_NS, hour_of

from ..support.approvals import passkey_staff
from ..support.banking import open_account
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token

CARD = "4242424242424242"
WEDNESDAY_NOON_NS = 1_767_787_200 * 1_000_000_000  # 2026-01-07T12:00:00Z


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    clock.advance(ns=WEDNESDAY_NOON_NS - clock.now_ns())
    platform = platform_for(database, clock, tmp_path, insider_working_hours="07-19 mon-fri")
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def ada(api: TestClient) -> tuple[str, str]:
    """A customer with an e-mail address, a current account and a card: (id, token)."""
    user, token, _ = passkey_customer(api, "ada")
    platform = platform_of(api)
    from sqlalchemy import update

    from paywarden.adapters.store.schema import users
    from paywarden.services.identity.users import _seal

    with platform.database.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            email_sealed=_seal(platform.keys, "ada@example.com", "email_sealed", user.id)))
    open_account(api, token)
    r = api.post("/v1/me/cards", headers=bearer(token), json={
        "number": CARD, "exp_month": 12, "exp_year": 2030, "holder_name": "Ada Lovelace"})
    assert r.status_code == 201, r.text
    return user.id, token


def alerts(api: TestClient, kind: str) -> list[dict[str, Any]]:
    supervisor = bearer(staff_token(platform_of(api), "supervisor"))
    found = api.get("/v1/staff/alerts", headers=supervisor).json()["data"]
    return [a for a in found if a["kind"] == kind]


def test_support_sees_a_customer_masked_and_reveals_a_field_only_with_a_reason(
        api: TestClient) -> None:
    customer_id, _ = ada(api)
    sue = bearer(staff_token(platform_of(api), "support", actor="cli:sue"))
    r = api.get("/v1/staff/customers?username=ada", headers=sue)
    assert r.status_code == 200, r.text
    [profile] = r.json()["data"]
    assert profile["id"] == customer_id and profile["email"] == "a•••@example.com"
    assert profile["display_name"] == "A•••" and profile["username"] == "a•••"
    assert profile["cards"] == ["visa ••• 4242"]
    iban = profile["accounts"][0]["iban"]
    assert "•••" in iban and len(iban.replace(" ", "")) < 16
    assert "ada@example.com" not in r.text and CARD not in r.text and "4242 4242" not in r.text

    r = api.post(f"/v1/staff/customers/{customer_id}/reveal", headers=sue,
                 json={"field": "email", "reason": " "})
    assert r.status_code == 422, r.text  # no reason, no reveal
    r = api.post(f"/v1/staff/customers/{customer_id}/reveal", headers=sue,
                 json={"field": "card_number", "reason": "the customer asked"})
    assert r.status_code == 422, r.text  # never, whatever the reason
    r = api.post(f"/v1/staff/customers/{customer_id}/reveal", headers=sue,
                 json={"field": "email", "reason": "customer on the phone, ticket 4711"})
    assert r.status_code == 200 and r.json()["value"] == "ada@example.com", r.text
    with platform_of(api).database.engine.connect() as conn:
        rows = conn.execute(select(audit_entries.c.action, audit_entries.c.actor,
                                   audit_entries.c.detail).where(
            audit_entries.c.object == customer_id,
            audit_entries.c.action.like("customer.%"))).all()
    assert [(a, actor.split("/")[0]) for a, actor, _ in rows] == [
        ("customer.view", "cli:sue"), ("customer.reveal", "cli:sue")]
    assert json.loads(rows[1][2]) == {"field": "email",
                                      "reason": "customer on the phone, ticket 4711"}
    assert "ada@example.com" not in rows[1][2]


def test_only_staff_look_customers_up_and_a_supervisor_reveals_nothing(api: TestClient) -> None:
    customer_id, token = ada(api)
    assert api.get(f"/v1/staff/customers/{customer_id}", headers=bearer(token)).status_code \
        == 403
    supervisor = bearer(staff_token(platform_of(api), "supervisor"))
    assert api.get(f"/v1/staff/customers/{customer_id}", headers=supervisor).status_code == 200
    r = api.post(f"/v1/staff/customers/{customer_id}/reveal", headers=supervisor,
                 json={"field": "email", "reason": "audit sample"})
    assert r.status_code == 403 and r.json()["code"] == "read_only_role", r.text
    operator = bearer(staff_token(platform_of(api), "operator"))
    assert api.get(f"/v1/staff/customers/{customer_id}", headers=operator).status_code == 403


def test_a_burst_of_lookups_against_the_persons_own_habit_alerts_supervisors(
        api: TestClient) -> None:
    customer_id, _ = ada(api)
    platform = platform_of(api)
    busy = "cli:busy"  # usually looks up 40 people in a busy hour
    with platform.database.engine.begin() as conn:
        for day in range(1, 8):
            conn.execute(insert(staff_activity).values(
                actor=busy, kind="view", count=40,
                hour=hour_of(WEDNESDAY_NOON_NS) - day * 24 * HOUR_NS))
    for who in ("cli:quiet", busy):
        token = bearer(staff_token(platform, "support", actor=who))
        for _ in range(45):
            assert api.get(f"/v1/staff/customers/{customer_id}", headers=token).status_code \
                == 200
    bursts = alerts(api, "insider.view_burst")
    assert [a["detail"]["staff"] for a in bursts] == ["cli:quiet"]  # once, not 15 times
    assert bursts[0]["detail"]["count"] == 31  # raised as the floor of 30 was passed


def test_work_outside_working_hours_alerts_supervisors_once_a_day(api: TestClient) -> None:
    customer_id, _ = ada(api)
    platform = platform_of(api)
    sue = bearer(staff_token(platform, "support", actor="cli:sue"))
    body = {"field": "email", "reason": "ticket 4711"}
    api.post(f"/v1/staff/customers/{customer_id}/reveal", headers=sue, json=body)
    assert alerts(api, "insider.out_of_hours") == []  # Wednesday noon
    platform.clock.advance(3 * 24 * 3600)  # type: ignore[attr-defined]  # Saturday noon
    sue = bearer(staff_token(platform, "support", actor="cli:sue"))
    for _ in range(2):
        assert api.post(f"/v1/staff/customers/{customer_id}/reveal", headers=sue,
                        json=body).status_code == 200
    [alert] = alerts(api, "insider.out_of_hours")
    assert alert["detail"] == {"staff": "cli:sue", "activity": "reveal", "day": "2026-01-10"}


def test_a_member_of_staff_acting_on_a_customer_sharing_their_device_is_flagged(
        api: TestClient) -> None:
    customer_id, _ = ada(api)
    platform = platform_of(api)
    ann, ben = passkey_staff(api, "ann", "support"), passkey_staff(api, "ben", "support")
    with platform.database.engine.begin() as conn:  # ann's laptop is also ada's
        conn.execute(sign_in_origins.delete().where(
            sign_in_origins.c.user_id.in_([ann.user.id, ben.user.id, customer_id])))
        for user, digest in ((ann.user.id, "d" * 64), (customer_id, "d" * 64),
                             (ben.user.id, "e" * 64)):
            conn.execute(insert(sign_in_origins).values(
                user_id=user, kind="device", digest=digest, first_seen_at=0, last_seen_at=0))
    for who in (ben, ann, ann):
        assert api.get(f"/v1/staff/customers/{customer_id}", headers=who.headers
                       ).status_code == 200
    [alert] = alerts(api, "insider.linked_account")
    assert alert["severity"] == "critical"
    assert alert["detail"] == {"staff": ann.user.id, "customer": customer_id,
                               "shared": "device"}


def test_a_burst_of_exports_alerts_supervisors(api: TestClient) -> None:
    import io

    platform = platform_of(api)
    for _ in range(4):
        platform.risk_labels.export(io.StringIO(), actor="cli:exporter")
    [alert] = alerts(api, "insider.export_burst")
    assert alert["detail"]["staff"] == "cli:exporter" and alert["detail"]["count"] == 4

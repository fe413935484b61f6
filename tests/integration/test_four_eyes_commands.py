"""The four-eyes commands of decision 0044: a merchant's reactivation, a key added to a
merchant by staff, a key version's destruction and a customer's limit override each wait
for a second member of staff; the rail's credits are booked only by a machine."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, merchant_keys
from paywarden.api import create_app

from ..support.approvals import Staff, decide, maker_and_checker
from ..support.banking import balance_of, open_account
from ..support.identity import passkey_customer
from ..support.merchants import client_for, make_merchant, new_key, platform_for, public_pem
from ..support.platform import bearer, platform_of, service_token, staff_token


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with client_for(create_app(platform_for(database, clock, tmp_path))) as client:
        yield client


def submitted(r: Any) -> dict[str, Any]:
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/approvals/{r.json()['approval_id']}"
    approval: dict[str, Any] = r.json()["approval"]
    assert approval["state"] == "pending"
    return approval


def four_eyes(api: TestClient, maker: Staff, checker: Staff,
              approval: dict[str, Any]) -> dict[str, Any]:
    """The maker approving their own command is refused; the checker's approval runs it."""
    own = decide(api, maker, approval)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required"
    r = decide(api, checker, approval)
    assert r.status_code == 200, r.text
    done: dict[str, Any] = r.json()
    assert done["state"] == "executed", done
    again = decide(api, checker, approval)
    assert again.status_code == 409 and again.json()["code"] == "approval_not_pending"
    return done


def audited(api: TestClient, action: str) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_entries).where(
            audit_entries.c.action == action)).scalar_one())


def test_a_suspended_merchant_is_reactivated_only_once_a_second_merchant_admin_approves(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    maker, checker = maker_and_checker(api, "merchant_admin")
    r = api.post(f"/v1/merchants/{shop.merchant_id}/suspend", headers=maker.headers)
    assert r.status_code == 200 and r.json()["status"] == "suspended"  # one person stops harm
    asked = submitted(api.post(f"/v1/merchants/{shop.merchant_id}/activate",
                               headers=maker.headers))
    assert asked["kind"] == "merchant_reinstatement"
    assert platform.merchants.get(shop.merchant_id).status == "suspended"  # type: ignore[union-attr]
    done = four_eyes(api, maker, checker, asked)
    assert done["result"] == {"merchant_id": shop.merchant_id, "status": "active"}
    assert platform.merchants.get(shop.merchant_id).status == "active"  # type: ignore[union-attr]
    assert audited(api, "merchant.activate") == 1


def test_reactivating_a_merchant_that_is_not_suspended_is_refused_at_submission(
        api: TestClient) -> None:
    shop = make_merchant(platform_of(api))
    maker, _ = maker_and_checker(api, "merchant_admin")
    r = api.post(f"/v1/merchants/{shop.merchant_id}/activate", headers=maker.headers)
    assert r.status_code == 409 and r.json()["code"] == "merchant_status_unchanged"


def test_a_host_token_submits_a_reactivation_but_can_never_approve_one(api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    platform.merchants.set_status(shop.merchant_id, "suspended", actor="cli:test")
    host = bearer(staff_token(platform, "merchant_admin", actor="cli:ann"))
    asked = submitted(api.post(f"/v1/merchants/{shop.merchant_id}/activate", headers=host))
    other = bearer(staff_token(platform, "merchant_admin", actor="cli:ben"))
    r = api.post(f"/v1/approvals/{asked['id']}/approve", headers=other,
                 json={"evidence_id": "evd_" + "0" * 24})
    assert r.status_code == 403 and r.json()["code"] == "approver_passkey_required"
    assert platform.merchants.get(shop.merchant_id).status == "suspended"  # type: ignore[union-attr]


def test_a_key_added_by_staff_signs_for_the_merchant_only_after_a_second_approval(
        api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    maker, checker = maker_and_checker(api, "merchant_admin")
    key = new_key()
    asked = submitted(api.post(f"/v1/merchants/{shop.merchant_id}/keys", headers=maker.headers,
                               json={"public_key": public_pem(key).decode(), "label": "ops"}))
    assert asked["kind"] == "merchant_key"
    assert len(platform.merchants.get(shop.merchant_id).keys) == 1  # type: ignore[union-attr]
    done = four_eyes(api, maker, checker, asked)
    keys = platform.merchants.get(shop.merchant_id).keys  # type: ignore[union-attr]
    [added] = [k for k in keys if k.id == done["result"]["key_id"]]
    assert added.public_key == key.public_key().public_bytes_raw() and added.active
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(merchant_keys)).scalar_one() == 2
    [actor] = [e for e in _actors(api, "merchant.key.add") if "+" in e]
    assert actor == f"{maker.user.id}+{checker.user.id}"


def test_a_key_a_merchant_already_holds_is_refused_at_submission(api: TestClient) -> None:
    platform = platform_of(api)
    shop = make_merchant(platform)
    maker, _ = maker_and_checker(api, "merchant_admin")
    r = api.post(f"/v1/merchants/{shop.merchant_id}/keys", headers=maker.headers,
                 json={"public_key": public_pem(shop.key).decode()})
    assert r.status_code == 409 and r.json()["code"] == "public_key_registered"


def test_staff_of_another_role_cannot_submit_a_merchant_key(api: TestClient) -> None:
    shop = make_merchant(platform_of(api))
    support = bearer(staff_token(platform_of(api), "support"))
    r = api.post(f"/v1/merchants/{shop.merchant_id}/keys", headers=support,
                 json={"public_key": public_pem(new_key()).decode()})
    assert r.status_code == 403


def test_a_retired_key_version_is_destroyed_only_on_a_second_security_admins_approval(
        api: TestClient) -> None:
    platform = platform_of(api)
    platform.keys.rotate("receipts", actor="cli:test")
    [old] = [v for v in platform.keys.versions("receipts") if v.state == "retired"]
    maker, checker = maker_and_checker(api, "security_admin")
    asked = submitted(api.post("/v1/approvals", headers=maker.headers,
                               json={"kind": "key_destruction", "params": {"kid": old.kid}}))
    assert [v.state for v in platform.keys.versions("receipts") if v.kid == old.kid] == [
        "retired"]
    done = four_eyes(api, maker, checker, asked)
    assert done["result"] == {"kid": old.kid, "state": "destroyed"}
    assert [v.state for v in platform.keys.versions("receipts") if v.kid == old.kid] == [
        "destroyed"]


def test_destroying_the_active_key_version_is_refused_at_submission(api: TestClient) -> None:
    platform = platform_of(api)
    active = platform.keys.current("receipts")[0]
    maker, _ = maker_and_checker(api, "security_admin")
    r = api.post("/v1/approvals", headers=maker.headers,
                 json={"kind": "key_destruction", "params": {"kid": active.kid}})
    assert r.status_code == 422 and r.json()["code"] == "key_not_usable"


def test_a_limit_override_above_the_bank_maximum_waits_for_a_second_person_from_risk(
        api: TestClient) -> None:
    platform = platform_of(api)
    bob, _, _ = passkey_customer(api, "bob")
    limits = platform.banking.limits
    bank_max = limits.maxima.per_day
    maker = maker_and_checker(api, "support")[0]
    _, checker = maker_and_checker(api, "risk")
    url = f"/v1/staff/customers/{bob.id}/limits/per_day"
    asked = submitted(api.post(url, headers=maker.headers, json={
        "currency": "EUR", "amount": bank_max * 3, "reason": "moving house, ticket 4711"}))
    assert (asked["kind"], asked["amount"], asked["currency"]) == (
        "limit_override", bank_max * 3, "EUR")
    per_day = {lim.kind: lim for lim in limits.get(bob.id, "EUR")}["per_day"]
    assert per_day.amount == bank_max  # nothing changed yet
    done = four_eyes(api, maker, checker, asked)
    assert done["result"]["amount"] == bank_max * 3
    per_day = {lim.kind: lim for lim in limits.get(bob.id, "EUR")}["per_day"]
    assert (per_day.amount, per_day.pending_amount) == (bank_max * 3, None)  # no delay
    assert audited(api, "approval.submit") >= 1 and audited(api, "bank_limit.override") == 1


def test_a_second_support_member_cannot_approve_a_limit_override(api: TestClient) -> None:
    bob, _, _ = passkey_customer(api, "bob")
    maker, other = maker_and_checker(api, "support")
    asked = submitted(api.post(f"/v1/staff/customers/{bob.id}/limits/per_transfer",
                               headers=maker.headers,
                               json={"currency": "EUR", "amount": 1, "reason": "asked to"}))
    r = decide(api, other, asked)
    assert r.status_code == 403 and r.json()["code"] == "approver_role_refused"


def test_a_limit_override_for_someone_who_is_not_a_customer_is_refused(api: TestClient) -> None:
    maker, _ = maker_and_checker(api, "support")
    r = api.post(f"/v1/staff/customers/usr_{secrets.token_hex(8)}/limits/per_day",
                 headers=maker.headers, json={"currency": "EUR", "amount": 1, "reason": "x y"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_customer_cannot_override_a_limit(api: TestClient) -> None:
    bob, token, _ = passkey_customer(api, "bob")
    r = api.post(f"/v1/staff/customers/{bob.id}/limits/per_day", headers=bearer(token),
                 json={"currency": "EUR", "amount": 1, "reason": "mine"})
    assert r.status_code == 403


def _deposit(api: TestClient, headers: dict[str, str], iban: str) -> Any:
    return api.post("/v1/staff/rail/deposits", headers=headers, json={
        "rail_id": "rail-" + secrets.token_hex(8), "iban": iban, "amount": 1_000,
        "currency": "EUR", "debtor_iban": "DE89370400440532013000",
        "debtor_name": "Employer GmbH", "reference": "salary"})


@pytest.mark.parametrize("role", ["operator", "risk", "support", "security_admin"])
def test_a_person_cannot_credit_an_account_from_the_rail(api: TestClient, role: str) -> None:
    _, token, _ = passkey_customer(api, "bob")
    account = open_account(api, token)
    r = _deposit(api, bearer(staff_token(platform_of(api), role)), account["iban"])
    assert r.status_code == 403 and r.json()["code"] == "machine_principal_required"
    assert balance_of(api, token, account["id"]) == 0


def test_a_machine_principal_books_the_rails_credit(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "bob")
    account = open_account(api, token)
    r = _deposit(api, bearer(service_token(platform_of(api))), account["iban"])
    assert r.status_code == 201, r.text
    assert balance_of(api, token, account["id"]) == 1_000


def _actors(api: TestClient, action: str) -> list[str]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(audit_entries.c.actor).where(
            audit_entries.c.action == action)).scalars())

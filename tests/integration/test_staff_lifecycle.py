"""The staff lifecycle (decision 0043): a role grant waits for a second security admin
and ends the person's sessions; conflicting roles are refused; a leaver's every session
answers 401 at once and the audit log says when; the first security admin is the one
person ever made alone; an access review shows who holds what and what went unused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, staff_alerts, users
from paywarden.api import create_app
from paywarden.domain.errors import DomainError
from paywarden.domain.identity import Kind, Principal
from paywarden.services.staff import join

from ..support.approvals import Staff, decide, passkey_staff
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token

NS = 1_000_000_000


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def admins(api: TestClient) -> tuple[Staff, Staff]:
    return (passkey_staff(api, "ada-admin", "security_admin"),
            passkey_staff(api, "bea-admin", "security_admin"))


def can_read(api: TestClient, who: Staff | str) -> int:
    headers = who.headers if isinstance(who, Staff) else bearer(who)
    return api.get("/v1/approvals", headers=headers).status_code


def roles_of(api: TestClient, user_id: str) -> str:
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(users.c.roles).where(users.c.id == user_id)).scalar_one())


def actions(api: TestClient, action: str) -> list[Any]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(audit_entries).where(
            audit_entries.c.action == action)).mappings().all())


def test_a_role_grant_waits_for_a_second_security_admin_and_ends_the_persons_sessions(
        api: TestClient) -> None:
    ada, bea = admins(api)
    sam = passkey_staff(api, "sam-support", "support")
    r = api.post(f"/v1/staff/users/{sam.user.id}/roles", headers=ada.headers,
                 json={"role": "merchant_admin", "action": "grant"})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert roles_of(api, sam.user.id) == "support" and can_read(api, sam) == 200
    own = decide(api, ada, approval)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required"
    r = decide(api, bea, approval)
    assert r.status_code == 200 and r.json()["state"] == "executed", r.text
    assert roles_of(api, sam.user.id) == "merchant_admin,support"
    assert can_read(api, sam) == 401  # a mover signs in again, with the new roles
    [leaf] = actions(api, "staff.role_grant")
    detail = json.loads(leaf["detail"])
    assert leaf["object"] == sam.user.id and detail["approval"] == approval["id"]
    assert detail["sessions_revoked"] >= 1


def test_a_conflicting_role_grant_is_refused(api: TestClient) -> None:
    ada, bea = admins(api)
    olga = passkey_staff(api, "olga-operator", "operator")
    r = api.post(f"/v1/staff/users/{olga.user.id}/roles", headers=ada.headers,
                 json={"role": "risk", "action": "grant"})
    assert r.status_code == 409 and r.json()["code"] == "role_conflict"
    r = api.post(f"/v1/staff/users/{bea.user.id}/roles", headers=ada.headers,
                 json={"role": "operator", "action": "grant"})
    assert r.status_code == 409 and r.json()["code"] == "role_conflict"
    assert roles_of(api, olga.user.id) == "operator" and can_read(api, olga) == 200


def test_a_grant_that_became_conflicting_while_pending_fails_when_approved(
        api: TestClient) -> None:
    ada, bea = admins(api)
    sam = passkey_staff(api, "sam-support", "support")
    submitted = [api.post(f"/v1/staff/users/{sam.user.id}/roles", headers=ada.headers,
                          json={"role": role, "action": "grant"}).json()["approval"]
                 for role in ("operator", "risk")]
    assert decide(api, bea, submitted[0]).json()["state"] == "executed"
    r = decide(api, bea, submitted[1])
    assert r.json()["state"] == "failed" and r.json()["reason"].startswith("role_conflict")
    assert roles_of(api, sam.user.id) == "operator,support"


def test_nobody_approves_a_change_of_their_own_roles(api: TestClient) -> None:
    ada, bea = admins(api)
    r = api.post(f"/v1/staff/users/{bea.user.id}/roles", headers=ada.headers,
                 json={"role": "support", "action": "grant"})
    assert r.status_code == 202, r.text
    r = decide(api, bea, r.json()["approval"])
    assert r.json()["state"] == "failed" and r.json()["reason"].startswith("role_grant_own")
    assert roles_of(api, bea.user.id) == "security_admin"


def test_one_security_admin_revokes_a_role_at_once_and_others_cannot(
        api: TestClient) -> None:
    ada, _ = admins(api)
    rita = passkey_staff(api, "rita-risk", "risk")
    r = api.post(f"/v1/staff/users/{ada.user.id}/roles", headers=rita.headers,
                 json={"role": "security_admin", "action": "revoke"})
    assert r.status_code == 403
    r = api.post(f"/v1/staff/users/{rita.user.id}/roles", headers=ada.headers,
                 json={"role": "risk", "action": "revoke"})
    assert r.status_code == 200 and r.json()["roles"] == [], r.text
    assert can_read(api, rita) == 401
    assert json.loads(actions(api, "staff.role_revoke")[0]["detail"])["roles_before"] == ["risk"]


def test_a_leavers_token_one_second_after_deactivation_answers_401(
        api: TestClient, clock: FakeClock) -> None:
    ada, _ = admins(api)
    sam = passkey_staff(api, "sam-support", "support")
    host = staff_token(platform_of(api), "security_admin", actor="cli:root")
    r = api.post(f"/v1/staff/users/{sam.user.id}/deactivate", headers=bearer(host))
    assert r.status_code == 200 and r.json()["sessions_revoked"] >= 1, r.text
    at = clock.now_ns()
    clock.advance(1)
    assert can_read(api, sam) == 401
    r = api.post(f"/v1/staff/users/{sam.user.id}/deactivate", headers=ada.headers)
    assert r.status_code == 409 and r.json()["code"] == "staff_not_active"
    [leaf] = actions(api, "staff.deactivate")
    assert leaf["at"] == at  # the entry proves when: before the refused request
    assert leaf["actor"].startswith("cli:root") and leaf["object"] == sam.user.id


def test_a_leavers_pending_request_is_withdrawn(api: TestClient) -> None:
    ada, bea = admins(api)
    sam = passkey_staff(api, "sam-support", "support")
    r = api.post(f"/v1/staff/users/{sam.user.id}/roles", headers=ada.headers,
                 json={"role": "risk", "action": "grant"})
    approval = r.json()["approval"]
    assert api.post(f"/v1/staff/users/{ada.user.id}/deactivate",
                    headers=bea.headers).status_code == 200
    r = api.get(f"/v1/approvals/{approval['id']}", headers=bea.headers)
    assert r.json()["state"] == "withdrawn"


def test_a_disabled_users_session_is_refused_even_if_its_revoke_was_missed(
        api: TestClient) -> None:
    sam = passkey_staff(api, "sam-support", "support")
    with platform_of(api).database.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == sam.user.id).values(status="disabled"))
    assert can_read(api, sam) == 401


def test_the_first_security_admin_is_made_alone_once_and_alerted(api: TestClient) -> None:
    platform = platform_of(api)
    host = Principal(kind=Kind.STAFF, id="cli:root", roles=frozenset({"security_admin"}))

    def made(username: str, role: str) -> Any:
        return join(platform.credentials, platform.approvals, submitter=host,
                    username=username, role=role, display_name="", ttl_s=600, ttl_s_max=600)

    with pytest.raises(DomainError) as refused:
        made("sam", "support")  # nobody could approve it
    assert refused.value.code == "staff_no_approver"
    first = made("ada", "security_admin")
    assert first.bootstrap and first.approval is None
    assert first.enrolled.user.roles == {"security_admin"}
    second = made("bea", "security_admin")
    assert not second.bootstrap and second.enrolled.user.roles == frozenset()
    assert second.approval is not None and second.approval.params == {
        "user_id": second.enrolled.user.id, "role": "security_admin", "action": "grant"}
    assert len(actions(api, "staff.bootstrap")) == 1
    with platform.database.engine.connect() as conn:
        kinds = conn.execute(select(staff_alerts.c.kind)).scalars().all()
    assert kinds == ["staff_bootstrap"]
    # Deactivating every admin does not reopen the bootstrap.
    with platform.database.engine.begin() as conn:
        conn.execute(update(users).values(status="disabled"))
    with pytest.raises(DomainError) as again:
        made("eve", "security_admin")
    assert again.value.code == "staff_no_approver"


def test_the_access_review_shows_who_holds_what_and_flags_90_days_unused(
        api: TestClient, clock: FakeClock) -> None:
    passkey_staff(api, "ada-admin", "security_admin")
    sam = passkey_staff(api, "sam-support", "support")
    assert api.get("/v1/staff/access-review", headers=sam.headers).status_code == 403
    clock.advance(91 * 86_400)
    supervisor = staff_token(platform_of(api), "supervisor", actor="cli:auditor")
    r = api.get("/v1/staff/access-review", headers=bearer(supervisor))
    assert r.status_code == 200, r.text
    by_name = {h["name"]: h for h in r.json()["data"]}
    [support] = by_name["sam-support"]["privileges"]
    assert support["role"] == "support" and support["last_used_at"] is not None
    assert support["unused_90_days"] is True
    assert by_name["ada-admin"]["status"] == "active"
    [token] = [h for h in r.json()["data"] if h["kind"] == "token"]
    assert token["name"] == "cli:auditor" and token["privileges"][0]["role"] == "supervisor"
    assert token["privileges"][0]["unused_90_days"] is False

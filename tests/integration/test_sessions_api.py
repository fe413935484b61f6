"""Who am I, my sessions and devices, sign-out; staff views — each boundary attacked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, notifications
from paywarden.api import create_app
from paywarden.api.auth import SESSION_COOKIE
from paywarden.bootstrap import Platform, build
from paywarden.domain.identity import Kind
from paywarden.services.identity.signin import RequestMeta, complete_sign_in
from paywarden.services.identity.tokens import issue_staff_token
from paywarden.services.identity.users import User, create_user
from paywarden.settings import Settings

IDLE_S = 15 * 60
ABSOLUTE_S = 3600
PUBLIC_URL = "https://pay.example"


@dataclass
class Api:
    client: TestClient
    platform: Platform

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Api]:
    settings = Settings(database_url=database.url, data_dir=tmp_path, public_url=PUBLIC_URL,
                        session_idle_s=IDLE_S, session_absolute_s=ABSOLUTE_S)
    platform = build(settings, clock=clock, database=database)
    with TestClient(create_app(platform)) as client:
        yield Api(client, platform)


def customer(platform: Platform, username: str) -> User:
    with platform.database.engine.begin() as conn:
        return create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                           display_name=username,
                           roles=frozenset({"customer"}), now_ns=platform.clock.now_ns())


def sign_in(platform: Platform, user: User, *, agent: str = "Firefox/140",
            address: str = "198.51.100.7") -> tuple[str, str]:
    """A new session for ``user``: (session id, token)."""
    with platform.database.engine.begin() as conn:
        new = complete_sign_in(conn, platform.sessions, user, methods=frozenset({"passkey"}),
                               meta=RequestMeta(address, agent, ""),
                               origin_key=platform.origin_key, now_ns=platform.clock.now_ns())
    return new.session.id, new.token


def staff_token(platform: Platform, role: str) -> str:
    return issue_staff_token(platform.database, platform.sessions, role=role, ttl_s=3600,
                             ttl_s_max=3600, actor="cli:test",
                             now_ns=platform.clock.now_ns()).token


def audit_actions(platform: Platform) -> list[tuple[str, str, str]]:
    with platform.database.engine.connect() as conn:
        rows = conn.execute(select(audit_entries.c.action, audit_entries.c.object,
                                   audit_entries.c.detail).order_by(audit_entries.c.at)).all()
    return [(r.action, r.object, r.detail) for r in rows]


def test_me_says_who_the_caller_is(api: Api) -> None:
    alice = customer(api.platform, "alice")
    session_id, token = sign_in(api.platform, alice)
    me = api.client.get("/v1/me", headers=api.as_(token))
    assert me.status_code == 200
    assert me.json() == {"kind": "customer", "id": alice.id, "roles": ["customer"],
                         "owner": alice.id, "session_id": session_id, "key_id": None,
                         "auth_methods": ["passkey"]}
    assert api.client.get("/v1/me").status_code == 401


def test_a_customer_lists_their_live_sessions_and_devices(api: Api, clock: FakeClock) -> None:
    alice = customer(api.platform, "alice")
    phone, _ = sign_in(api.platform, alice, agent="Safari/iPhone", address="203.0.113.9")
    clock.advance(5)
    laptop, token = sign_in(api.platform, alice, agent="Firefox/140")
    sign_in(api.platform, customer(api.platform, "bob"))  # never shown to alice
    r = api.client.get("/v1/me/sessions", headers=api.as_(token))
    assert r.status_code == 200
    listed = r.json()["data"]
    assert [(s["id"], s["current"], s["user_agent"], s["address"]) for s in listed] == [
        (laptop, True, "Firefox/140", "198.51.100.7"),
        (phone, False, "Safari/iPhone", "203.0.113.9")]
    assert listed[1]["created"] == "2026-01-01T00:00:00.000000000Z"
    assert {"created", "last_seen", "expires", "auth_methods"} <= set(listed[0])
    assert "token" not in json.dumps(listed) and token not in r.text


def test_revoking_one_of_ones_sessions_refuses_its_token(api: Api) -> None:
    alice = customer(api.platform, "alice")
    phone, phone_token = sign_in(api.platform, alice)
    _, token = sign_in(api.platform, alice)
    assert api.client.get("/v1/me", headers=api.as_(phone_token)).status_code == 200
    r = api.client.delete(f"/v1/me/sessions/{phone}", headers=api.as_(token))
    assert r.status_code == 204
    refused = api.client.get("/v1/me", headers=api.as_(phone_token))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert [s["id"] for s in api.client.get("/v1/me/sessions", headers=api.as_(token))
            .json()["data"]] != [phone]
    assert api.client.delete(f"/v1/me/sessions/{phone}", headers=api.as_(token)
                             ).status_code == 404
    assert ("session.revoked", phone) in [(a, o) for a, o, _ in audit_actions(api.platform)]


def test_another_users_session_is_404_and_left_alive(api: Api) -> None:
    alice, bob = customer(api.platform, "alice"), customer(api.platform, "bob")
    _, alice_token = sign_in(api.platform, alice)
    bob_session, bob_token = sign_in(api.platform, bob)
    theirs = api.client.delete(f"/v1/me/sessions/{bob_session}", headers=api.as_(alice_token))
    missing = api.client.delete("/v1/me/sessions/ses_00000000000000ff",
                                headers=api.as_(alice_token))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["code"] == missing.json()["code"] == "not_found"
    assert theirs.json()["detail"] == missing.json()["detail"]
    assert api.client.get("/v1/me", headers=api.as_(bob_token)).status_code == 200
    denied = [(o, d) for a, o, d in audit_actions(api.platform) if a == "access.denied"]
    assert denied and denied[-1][0] == bob_session


def test_revoke_others_keeps_only_the_current_session(api: Api) -> None:
    alice = customer(api.platform, "alice")
    others = [sign_in(api.platform, alice) for _ in range(3)]
    current, token = sign_in(api.platform, alice)
    _, bob_token = sign_in(api.platform, customer(api.platform, "bob"))
    r = api.client.post("/v1/me/sessions/revoke-others", headers=api.as_(token))
    assert r.status_code == 200 and r.json() == {"revoked": 3}
    for _, other in others:
        assert api.client.get("/v1/me", headers=api.as_(other)).status_code == 401
    listed = api.client.get("/v1/me/sessions", headers=api.as_(token)).json()["data"]
    assert [s["id"] for s in listed] == [current]
    assert api.client.get("/v1/me", headers=api.as_(bob_token)).status_code == 200


def test_sign_out_revokes_the_session_and_clears_the_cookie(api: Api) -> None:
    alice = customer(api.platform, "alice")
    _, token = sign_in(api.platform, alice)
    cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
    assert api.client.get("/v1/me", headers=cookie).status_code == 200
    forged = api.client.post("/v1/auth/sign-out", headers={**cookie,
                                                            "Origin": "https://evil.example"})
    assert forged.status_code == 403 and forged.json()["code"] == "origin_mismatch"
    r = api.client.post("/v1/auth/sign-out", headers={**cookie, "Origin": PUBLIC_URL})
    assert r.status_code == 204
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in set_cookie
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
    assert api.client.get("/v1/me", headers=cookie).status_code == 401
    assert api.client.get("/v1/me", headers=api.as_(token)).status_code == 401


def test_a_session_idle_for_15_minutes_expires(api: Api, clock: FakeClock) -> None:
    alice = customer(api.platform, "alice")
    _, token = sign_in(api.platform, alice)
    clock.advance(IDLE_S - 60)
    assert api.client.get("/v1/me", headers=api.as_(token)).status_code == 200  # slides
    clock.advance(IDLE_S - 1)
    assert api.client.get("/v1/me", headers=api.as_(token)).status_code == 200
    clock.advance(IDLE_S)
    assert api.client.get("/v1/me", headers=api.as_(token)).status_code == 401
    _, fresh = sign_in(api.platform, alice)
    assert len(api.client.get("/v1/me/sessions", headers=api.as_(fresh)).json()["data"]) == 1


def test_a_busy_session_still_ends_at_its_absolute_expiry(api: Api, clock: FakeClock) -> None:
    alice = customer(api.platform, "alice")
    _, token = sign_in(api.platform, alice)
    for _ in range(ABSOLUTE_S // 600 - 1):
        clock.advance(600)
        assert api.client.get("/v1/me", headers=api.as_(token)).status_code == 200
    clock.advance(600)
    assert api.client.get("/v1/me", headers=api.as_(token)).status_code == 401


def test_a_staff_token_without_a_user_has_no_sessions_to_list(api: Api) -> None:
    r = api.client.get("/v1/me/sessions", headers=api.as_(staff_token(api.platform,
                                                                        "support")))
    assert r.status_code == 403 and r.json()["code"] == "no_user"


def test_support_lists_and_revokes_a_users_sessions_and_it_is_audited(api: Api) -> None:
    alice = customer(api.platform, "alice")
    one, one_token = sign_in(api.platform, alice)
    _, two_token = sign_in(api.platform, alice)
    support = api.as_(staff_token(api.platform, "support"))
    listed = api.client.get(f"/v1/staff/users/{alice.id}/sessions", headers=support)
    assert listed.status_code == 200 and len(listed.json()["data"]) == 2
    assert not any(s["current"] for s in listed.json()["data"])
    assert api.client.delete(f"/v1/staff/users/{alice.id}/sessions/{one}",
                             headers=support).status_code == 204
    assert api.client.get("/v1/me", headers=api.as_(one_token)).status_code == 401
    r = api.client.post(f"/v1/staff/users/{alice.id}/sessions/revoke-all", headers=support)
    assert r.json() == {"revoked": 1}
    assert api.client.get("/v1/me", headers=api.as_(two_token)).status_code == 401
    actions = [(a, o) for a, o, _ in audit_actions(api.platform)]
    assert ("sessions.viewed", alice.id) in actions and ("session.revoked", one) in actions
    assert ("session.revoked_all", alice.id) in actions
    with api.platform.database.engine.connect() as conn:
        kinds = conn.execute(select(notifications.c.kind).where(
            notifications.c.user_id == alice.id)).scalars().all()
    assert "sessions_revoked" in kinds


def test_staff_without_the_grant_and_customers_are_refused_the_staff_routes(api: Api) -> None:
    alice, bob = customer(api.platform, "alice"), customer(api.platform, "bob")
    alice_session, _ = sign_in(api.platform, alice)
    _, bob_token = sign_in(api.platform, bob)
    operator = api.as_(staff_token(api.platform, "operator"))
    supervisor = api.as_(staff_token(api.platform, "supervisor"))
    base = f"/v1/staff/users/{alice.id}/sessions"
    assert api.client.get(base, headers=operator).status_code == 403
    assert api.client.get(base, headers=api.as_(bob_token)).status_code == 403
    assert api.client.post(f"{base}/revoke-all", headers=api.as_(bob_token)).status_code == 403
    assert api.client.get(base, headers=supervisor).status_code == 200  # read-only
    assert api.client.delete(f"{base}/{alice_session}", headers=supervisor).status_code == 403
    assert api.client.get("/v1/staff/users/usr_nobody/sessions",
                          headers=api.as_(staff_token(api.platform, "support"))
                          ).status_code == 404
    listed = api.client.get("/v1/me/sessions", headers=api.as_(bob_token)).json()["data"]
    assert len(listed) == 1  # nothing of alice's was touched, and bob's is alive

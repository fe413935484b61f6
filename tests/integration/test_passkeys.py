"""Passkeys over HTTP with a software authenticator: registration, sign-in, and attacks on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import (
    audit_entries,
    notifications,
    sessions,
    webauthn_credentials,
)
from tests.support.authenticator import SoftAuthenticator
from tests.support.identity import (
    ORIGIN,
    PHISHING_ORIGIN,
    RP_ID,
    api_client,
    bearer,
    enrolment_token,
    new_customer,
    passkey_customer,
    platform_of,
    register,
    sign_in,
    sign_in_options,
    signed_in_token,
    staff_token,
)


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


def state(client: TestClient) -> dict[str, Any]:
    """What a refused ceremony must leave as it was."""
    with platform_of(client).database.engine.connect() as conn:
        return {
            "sessions": conn.execute(select(func.count()).select_from(sessions)).scalar(),
            "notifications": conn.execute(
                select(func.count()).select_from(notifications)).scalar(),
            "credentials": sorted(conn.execute(select(
                webauthn_credentials.c.id, webauthn_credentials.c.sign_count,
                webauthn_credentials.c.last_used_at)).all()),
        }


def assert_refused(r: Any) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "passkey_refused"


def test_a_customer_registers_a_passkey_and_signs_in_with_it(api: TestClient) -> None:
    platform = platform_of(api)
    user = new_customer(platform, "alice")
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    r = register(api, enrolment_token(platform, user), authenticator)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == authenticator.id and r.json()["transports"] == ["hybrid", "internal"]

    r = sign_in(api, authenticator, "alice")
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert r.json()["user_id"] == user.id and token.startswith("pws_")
    cookie = next(c for c in r.headers.get_list("set-cookie")
                  if c.startswith("__Host-pw_session="))
    assert cookie.startswith(f"__Host-pw_session={token}")
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower()
    listed = api.get("/v1/auth/passkeys", headers=bearer(token)).json()["data"]
    assert [p["id"] for p in listed] == [authenticator.id] and listed[0]["last_used_at_ns"]
    assert platform.sessions.authenticate(token).auth_methods == frozenset({"passkey"})  # type: ignore[union-attr]


def test_registration_stores_the_key_and_notifies_and_audits(api: TestClient) -> None:
    platform = platform_of(api)
    user = new_customer(platform, "alice")
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert register(api, enrolment_token(platform, user), authenticator).status_code == 201
    with platform.database.engine.connect() as conn:
        row = conn.execute(select(webauthn_credentials)).mappings().one()
        kinds = conn.execute(select(notifications.c.kind)).scalars().all()
        actions = conn.execute(select(audit_entries.c.action)).scalars().all()
    assert row["user_id"] == user.id and bytes(row["public_key"]) == \
        authenticator.cose_public_key()
    assert row["aaguid"] == "00112233-4455-6677-8899-aabbccddeeff" and row["sign_count"] == 0
    assert kinds == ["factor_changed"] and "passkey.register" in actions


def test_a_discoverable_passkey_signs_in_without_a_username(api: TestClient) -> None:
    user, _, authenticator = passkey_customer(api, "alice")
    r = sign_in(api, authenticator)
    assert r.status_code == 200 and r.json()["user_id"] == user.id


def test_an_assertion_made_for_a_phishing_origin_is_refused_and_changes_nothing(
        api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    before = state(api)
    assert_refused(sign_in(api, authenticator, "alice", origin=PHISHING_ORIGIN))
    assert state(api) == before


def test_an_assertion_for_another_relying_party_id_is_refused(api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    before = state(api)
    assert_refused(sign_in(api, authenticator, "alice", rp_id="evil.example"))
    assert state(api) == before


def test_an_assertion_without_user_verification_is_refused(api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    before = state(api)
    assert_refused(sign_in(api, authenticator, "alice", user_verified=False))
    assert state(api) == before


def test_a_registration_ceremony_answered_on_another_origin_is_refused(
        api: TestClient) -> None:
    platform = platform_of(api)
    user = new_customer(platform, "alice")
    token = enrolment_token(platform, user)
    assert_refused(register(api, token, SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN),
                            origin=PHISHING_ORIGIN))
    assert_refused(register(api, token, SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN),
                            user_verified=False))
    assert state(api)["credentials"] == []


def test_a_replayed_assertion_is_refused(api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    body = sign_in_options(api, "alice")
    request = {"ceremony_id": body["ceremony_id"], "credential": authenticator.get(body["options"])}
    assert api.post("/v1/auth/passkeys/signin/verify", json=request).status_code == 200
    before = state(api)
    assert_refused(api.post("/v1/auth/passkeys/signin/verify", json=request))
    assert state(api) == before


def test_a_challenge_is_worth_one_attempt_even_when_the_first_fails(api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    body = sign_in_options(api, "alice")
    phished = authenticator.get(body["options"], origin=PHISHING_ORIGIN)
    genuine = authenticator.get(body["options"])
    for credential in (phished, genuine):
        assert_refused(api.post("/v1/auth/passkeys/signin/verify",
                                json={"ceremony_id": body["ceremony_id"],
                                      "credential": credential}))


def test_an_expired_challenge_is_refused(api: TestClient, clock: FakeClock) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    body = sign_in_options(api, "alice")
    clock.advance(platform_of(api).settings.webauthn_timeout_s)
    assert_refused(api.post("/v1/auth/passkeys/signin/verify", json={
        "ceremony_id": body["ceremony_id"], "credential": authenticator.get(body["options"])}))


def test_a_sign_count_that_goes_backwards_is_refused_and_the_owner_warned(
        api: TestClient) -> None:
    user, _, authenticator = passkey_customer(api, "alice")
    assert sign_in(api, authenticator, "alice").status_code == 200  # counter now 2
    before = state(api)
    assert_refused(sign_in(api, authenticator, "alice", sign_count=1))  # a cloned key
    after = state(api)
    assert after["credentials"] == before["credentials"]
    assert after["sessions"] == before["sessions"]
    with platform_of(api).database.engine.connect() as conn:
        kinds = conn.execute(select(notifications.c.kind).where(
            notifications.c.user_id == user.id)).scalars().all()
    assert "passkey_cloned" in kinds


def test_an_authenticator_without_a_counter_signs_in_repeatedly(api: TestClient) -> None:
    platform = platform_of(api)
    user = new_customer(platform, "alice")
    synced = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, counter_step=0)
    assert register(api, enrolment_token(platform, user), synced).status_code == 201
    for _ in range(2):
        assert sign_in(api, synced, "alice").status_code == 200


def test_a_forged_signature_is_refused(api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    impostor = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    impostor.credential_id = authenticator.credential_id  # same id, another key
    impostor.sign_count = 10
    assert_refused(sign_in(api, impostor, "alice"))


def test_a_credential_of_another_user_is_refused_for_a_named_user(api: TestClient) -> None:
    passkey_customer(api, "alice")
    _, _, mallory_key = passkey_customer(api, "mallory")
    mallory_key.user_handle = None
    assert_refused(sign_in(api, mallory_key, "alice"))


def test_an_unknown_username_gets_options_of_the_same_shape_and_cannot_sign_in(
        api: TestClient) -> None:
    _, _, authenticator = passkey_customer(api, "alice")
    known = sign_in_options(api, "alice")["options"]
    unknown = sign_in_options(api, "nobody")["options"]
    assert unknown.keys() == known.keys()
    assert len(unknown["allowCredentials"]) == len(known["allowCredentials"]) == 1
    assert unknown["allowCredentials"] == sign_in_options(api, "nobody")["options"][
        "allowCredentials"]  # stable, as a real account's would be
    assert_refused(sign_in(api, authenticator, "nobody"))


def test_a_revoked_passkey_no_longer_signs_in_and_the_owner_is_told(api: TestClient) -> None:
    user, token, authenticator = passkey_customer(api, "alice")
    r = api.delete(f"/v1/auth/passkeys/{authenticator.id}", headers=bearer(token))
    assert r.status_code == 204
    assert api.get("/v1/auth/passkeys", headers=bearer(token)).json()["data"] == []
    assert_refused(sign_in(api, authenticator))
    with platform_of(api).database.engine.connect() as conn:
        kinds = conn.execute(select(notifications.c.kind).where(
            notifications.c.user_id == user.id)).scalars().all()
    assert kinds.count("factor_changed") == 2


def test_a_customer_cannot_revoke_another_customers_passkey(api: TestClient) -> None:
    _, _, alice_key = passkey_customer(api, "alice")
    _, bob_token, _ = passkey_customer(api, "bob")
    r = api.delete(f"/v1/auth/passkeys/{alice_key.id}", headers=bearer(bob_token))
    assert r.status_code == 404
    assert sign_in(api, alice_key, "alice").status_code == 200


def test_an_enrolment_session_registers_but_cannot_list_revoke_or_step_up(
        api: TestClient) -> None:
    platform = platform_of(api)
    user = new_customer(platform, "alice")
    token = enrolment_token(platform, user)
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert register(api, token, authenticator).status_code == 201
    assert api.get("/v1/auth/passkeys", headers=bearer(token)).status_code == 403
    assert api.delete(f"/v1/auth/passkeys/{authenticator.id}",
                      headers=bearer(token)).status_code == 403
    r = api.post("/v1/auth/step-up/options", headers=bearer(token), json={
        "type": "payment", "amount": 100, "currency": "EUR", "payee": "A"})
    assert r.status_code == 403


def test_a_signed_in_user_adds_a_second_passkey_and_a_staff_token_cannot(
        api: TestClient) -> None:
    platform = platform_of(api)
    user, token, _ = passkey_customer(api, "alice")
    second = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert register(api, token, second).status_code == 201
    assert sign_in(api, second, "alice").json()["user_id"] == user.id
    r = api.post("/v1/auth/passkeys/register/options",
                 headers=bearer(staff_token(platform, "support")))
    assert r.status_code == 403
    r = api.post("/v1/auth/passkeys/register/options")  # the sign-in cookie, from no page
    assert r.status_code == 403 and r.json()["code"] == "origin_mismatch"
    api.cookies.clear()
    assert api.post("/v1/auth/passkeys/register/options").status_code == 401


def test_a_user_signed_in_with_password_and_totp_registers_a_first_passkey(
        api: TestClient) -> None:
    platform = platform_of(api)
    user = new_customer(platform, "alice")
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert register(api, signed_in_token(platform, user), authenticator).status_code == 201
    assert sign_in(api, authenticator, "alice").json()["user_id"] == user.id


def test_a_session_awaiting_its_second_factor_cannot_register_or_step_up(
        api: TestClient) -> None:
    platform = platform_of(api)
    user, _, _ = passkey_customer(api, "alice")
    for roles in (frozenset(), user.roles):  # as the password step issues it, and a forged one
        with platform.database.engine.begin() as conn:
            token = platform.sessions.start(conn, kind=user.kind, user_id=user.id,
                                            owner=user.owner, roles=roles,
                                            auth_methods=frozenset({"first_factor"})).token
        assert api.post("/v1/auth/passkeys/register/options",
                        headers=bearer(token)).status_code == 403
        r = api.post("/v1/auth/step-up/options", headers=bearer(token), json={
            "type": "payment", "amount": 100, "currency": "EUR", "payee": "A"})
        assert r.status_code == 403


def test_a_malformed_credential_is_refused_without_a_server_error(api: TestClient) -> None:
    passkey_customer(api, "alice")
    body = sign_in_options(api, "alice")
    for credential in ({}, {"id": "x", "rawId": "y", "type": "public-key", "response": {}},
                       {"id": "AA", "rawId": "AA", "type": "public-key",
                        "response": {"clientDataJSON": "!!", "authenticatorData": "AA",
                                     "signature": "AA"}}):
        assert_refused(api.post("/v1/auth/passkeys/signin/verify", json={
            "ceremony_id": body["ceremony_id"], "credential": credential}))
    r = api.post("/v1/auth/passkeys/signin/verify", json={"ceremony_id": "nope",
                                                          "credential": {}})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


def test_a_customer_renames_their_own_passkey_and_no_one_else_s(api: TestClient) -> None:
    _, token, authenticator = passkey_customer(api, "alice")
    _, bob_token, _ = passkey_customer(api, "bob")
    r = api.patch(f"/v1/auth/passkeys/{authenticator.id}", headers=bearer(token),
                  json={"name": "  work laptop "})
    assert r.status_code == 200 and r.json()["name"] == "work laptop", r.text
    assert [p["name"] for p in api.get("/v1/auth/passkeys", headers=bearer(token)).json()[
        "data"]] == ["work laptop"]
    r = api.patch(f"/v1/auth/passkeys/{authenticator.id}", headers=bearer(bob_token),
                  json={"name": "mine now"})
    assert r.status_code == 404
    for bad in ({"name": ""}, {"name": "x" * 65}, {"name": "tab\there"}, {}):
        r = api.patch(f"/v1/auth/passkeys/{authenticator.id}", headers=bearer(token), json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert api.delete(f"/v1/auth/passkeys/{authenticator.id}",
                      headers=bearer(token)).status_code == 204
    r = api.patch(f"/v1/auth/passkeys/{authenticator.id}", headers=bearer(token),
                  json={"name": "revoked"})
    assert r.status_code == 404  # a revoked passkey is gone, name and all


def test_a_passkey_sign_in_gives_the_device_an_id_and_a_new_device_is_told_to_the_owner(
        api: TestClient) -> None:
    user, _, authenticator = passkey_customer(api, "alice")
    api.cookies.clear()  # another browser: no device id yet
    r = sign_in(api, authenticator, "alice")
    assert r.status_code == 200, r.text
    device = next(c for c in r.headers.get_list("set-cookie")
                  if c.startswith("__Host-pw_device="))
    assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/"} <= {
        part.strip() for part in device.split(";")}
    with platform_of(api).database.engine.connect() as conn:
        kinds = conn.execute(select(notifications.c.kind).where(
            notifications.c.user_id == user.id)).scalars().all()
    assert kinds.count("new_sign_in_origin") == 1

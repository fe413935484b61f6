"""A merchant's people (decision 0051): invited with a one-time link, joined with a passkey,
held to their role and to their own merchant; and a refund at or over the merchant's
threshold waits for a second owner of the same merchant, through the one approval engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.services.identity.users import get_user
from paywarden.services.ledger.accounts import AccountRef

from ..support.approvals import Staff, decide, passkey_staff
from ..support.authenticator import SoftAuthenticator
from ..support.identity import ORIGIN, RP_ID, passkey_customer, register, sign_in
from ..support.merchants import Creds, client_for, new_key, platform_for, public_pem
from ..support.platform import bearer, platform_of
from .test_approvals import balance
from .test_payments_api import certified, checkout, confirm_order, fund

AMOUNT = 5_000


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def host_invite(api: TestClient, merchant_id: str, role: str = "owner") -> str:
    """What ``paywarden merchants users invite`` does on the host: the one-time token."""
    made = platform_of(api).merchant_users.invite(merchant_id, email=f"{role}@shop.example",
                                                  role=role, actor="cli:test",
                                                  first_owner=True)
    return made.token


def accept(api: TestClient, token: str, username: str) -> Any:
    return api.post("/v1/merchant-invitations/accept",
                    json={"token": token, "username": username})


def join(api: TestClient, token: str, username: str) -> Staff:
    """Accept the invitation, register a passkey with the enrolment token, sign in."""
    r = accept(api, token, username)
    assert r.status_code == 201, r.text
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert register(api, r.json()["enrolment_token"], authenticator).status_code == 201
    r2 = sign_in(api, authenticator, username)
    assert r2.status_code == 200, r2.text
    user = get_user_of(api, r.json()["user_id"])
    return Staff(user, r2.json()["token"], authenticator)


def get_user_of(api: TestClient, user_id: str) -> Any:
    platform = platform_of(api)
    with platform.database.engine.connect() as conn:
        return get_user(conn, user_id, keys=platform.keys)


def invited(api: TestClient, owner: Staff, role: str, username: str) -> Staff:
    r = api.post("/v1/merchants/me/users/invitations", headers=owner.headers,
                 json={"email": f"{username}@shop.example", "role": role})
    assert r.status_code == 201, r.text
    assert r.json()["url"].endswith(f"/merchant/join#{r.json()['token']}")
    return join(api, r.json()["token"], username)


def paid(api: TestClient, shop: Creds, buyer: str) -> tuple[str, AccountRef]:
    platform = platform_of(api)
    who, token, authenticator = passkey_customer(api, buyer)
    wallet = AccountRef("wallet", who.id, "EUR")
    fund(platform, wallet, 20_000)
    session = checkout(api, shop)
    proof = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": proof})
    assert r.status_code == 200, r.text
    return session["payment_id"], wallet


def test_an_invitation_becomes_a_passkey_user_signed_in_as_the_merchant(
        api: TestClient) -> None:
    shop = certified(platform_of(api))
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    assert olga.user.merchant_id == shop.merchant_id
    assert olga.user.password_hash is None  # passkeys only
    me = api.get("/v1/merchants/me", headers=olga.headers)
    assert me.status_code == 200 and me.json()["id"] == shop.merchant_id
    dev = invited(api, olga, "developer", "dan-dev")
    people = api.get("/v1/merchants/me/users", headers=olga.headers).json()["data"]
    assert {(p["username"], p["role"], p["status"]) for p in people} == {
        ("olga-owner", "owner", "active"), ("dan-dev", "developer", "active")}
    assert dev.user.roles == frozenset({"merchant_developer"})


def test_an_invitation_used_twice_or_expired_is_refused(api: TestClient) -> None:
    shop = certified(platform_of(api))
    token = host_invite(api, shop.merchant_id)
    assert accept(api, token, "first-one").status_code == 201
    again = accept(api, token, "second-one")
    assert again.status_code == 410 and again.json()["code"] == "invitation_unusable"
    late = platform_of(api).merchant_users.invite(shop.merchant_id, email="s@shop.example",
                                                  role="support", actor="usr_test").token
    clock: FakeClock = platform_of(api).clock  # type: ignore[assignment]
    clock.advance(24 * 3600 + 1)
    r = accept(api, late, "too-late")
    assert r.status_code == 410 and r.json()["code"] == "invitation_unusable"
    forged = accept(api, "pwi_" + "A" * 43, "forger")
    assert forged.status_code == 410


def test_the_enrolment_token_of_an_invitation_does_nothing_but_add_a_passkey(
        api: TestClient) -> None:
    shop = certified(platform_of(api))
    r = accept(api, host_invite(api, shop.merchant_id), "enrolling")
    token = bearer(r.json()["enrolment_token"])
    assert api.get("/v1/merchants/me/users", headers=token).status_code == 403
    assert api.post("/v1/merchants/me/users/invitations", headers=token,
                    json={"email": "x@shop.example", "role": "owner"}).status_code == 403


def test_roles_are_enforced_within_a_merchant(api: TestClient) -> None:
    shop = certified(platform_of(api))
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    dev = invited(api, olga, "developer", "dan-dev")
    sue = invited(api, olga, "support", "sue-support")
    payment_id, _ = paid(api, shop, "bob")
    key = {"public_key": public_pem(new_key()).decode(), "label": "ci"}
    r = api.post("/v1/merchants/me/keys", headers=sue.headers, json=key)
    assert r.status_code == 403  # support manages no keys
    assert api.post("/v1/merchants/me/keys", headers=dev.headers, json=key).status_code == 201
    r = api.post(f"/v1/payments/{payment_id}/refunds", headers=dev.headers,
                 json={"amount": 100, "refund_id": "dev-1"})
    assert r.status_code == 403  # a developer refunds nothing
    assert api.get(f"/v1/payments/{payment_id}", headers=dev.headers).status_code == 200
    for who in (dev, sue):  # only the owner manages people and settings
        assert api.get("/v1/merchants/me/users", headers=who.headers).status_code == 403
        assert api.put("/v1/merchants/me/settings", headers=who.headers,
                       json={"refund_approval_min": None}).status_code == 403
        assert api.post("/v1/merchants/me/users/invitations", headers=who.headers,
                        json={"email": "x@shop.example", "role": "owner"}).status_code == 403
    r = api.post(f"/v1/payments/{payment_id}/refunds", headers=sue.headers,
                 json={"amount": 100, "refund_id": "sue-1"})
    assert r.status_code == 201, r.text  # no threshold set: support refunds as before


def test_a_merchant_user_cannot_see_another_merchants_payments_or_approvals(
        api: TestClient) -> None:
    shop, other = certified(platform_of(api)), certified(platform_of(api), "Other")
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    otto = join(api, host_invite(api, other.merchant_id), "otto-other")
    sue = invited(api, olga, "support", "sue-support")
    payment_id, _ = paid(api, shop, "bob")
    assert api.get(f"/v1/payments/{payment_id}", headers=otto.headers).status_code == 404
    r = api.post(f"/v1/payments/{payment_id}/refunds", headers=otto.headers,
                 json={"amount": 100, "refund_id": "otto-1"})
    assert r.status_code == 404
    assert api.put("/v1/merchants/me/settings", headers=olga.headers,
                   json={"refund_approval_min": 1_000}).status_code == 200
    asked = api.post(f"/v1/payments/{payment_id}/refunds", headers=sue.headers,
                     json={"amount": AMOUNT, "refund_id": "sue-1"})
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["approval_id"]
    assert api.get(f"/v1/approvals/{approval_id}", headers=otto.headers).status_code == 404
    assert api.get("/v1/approvals?state=pending", headers=otto.headers).json()["data"] == []
    mine = api.get("/v1/approvals?state=pending", headers=olga.headers).json()["data"]
    assert [a["id"] for a in mine] == [approval_id]
    r = api.post(f"/v1/merchants/me/users/{sue.user.id}/disable", headers=otto.headers)
    assert r.status_code == 404  # another merchant's person does not exist for otto


def test_a_merchant_users_refund_over_the_threshold_needs_a_second_owner_of_the_same_merchant(
        api: TestClient) -> None:
    shop, other = certified(platform_of(api)), certified(platform_of(api), "Other")
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    oscar = invited(api, olga, "owner", "oscar-owner")
    otto = join(api, host_invite(api, other.merchant_id), "otto-other")
    risk = passkey_staff(api, "rita-risk", "risk")
    payment_id, wallet = paid(api, shop, "bob")
    r = api.put("/v1/merchants/me/settings", headers=olga.headers,
                json={"refund_approval_min": AMOUNT})
    assert r.status_code == 200 and r.json() == {"refund_approval_min": AMOUNT}
    before = balance(api, wallet)
    r = api.post(f"/v1/payments/{payment_id}/refunds", headers=olga.headers,
                 json={"amount": AMOUNT, "refund_id": "big-1"})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert (approval["kind"], approval["state"]) == ("merchant_refund", "pending")
    assert approval["params"]["merchant_id"] == shop.merchant_id
    assert balance(api, wallet) == before  # nothing moved
    r = decide(api, olga, approval)
    assert r.status_code == 403 and r.json()["code"] == "four_eyes_required"
    r = decide(api, otto, approval)
    assert r.status_code == 404  # another merchant's owner cannot reach it
    r = decide(api, risk, approval)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"  # nor can staff
    assert balance(api, wallet) == before
    r = decide(api, oscar, approval)
    assert r.status_code == 200 and r.json()["state"] == "executed", r.text
    assert r.json()["result"]["refund_id"] == "big-1"
    assert balance(api, wallet) == before + AMOUNT
    again = api.post(f"/v1/approvals/{approval['id']}/approve", headers=oscar.headers,
                     json={"evidence_id": "evd_" + "b" * 20})
    assert again.status_code in (403, 409)
    assert balance(api, wallet) == before + AMOUNT  # refunded once


def test_under_the_threshold_and_from_the_signed_backend_a_refund_is_as_before(
        api: TestClient) -> None:
    from ..support.merchants import signed

    shop = certified(platform_of(api))
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    payment_id, _ = paid(api, shop, "bob")
    assert api.put("/v1/merchants/me/settings", headers=olga.headers,
                   json={"refund_approval_min": 1_000}).status_code == 200
    r = api.post(f"/v1/payments/{payment_id}/refunds", headers=olga.headers,
                 json={"amount": 999, "refund_id": "small-1"})
    assert r.status_code == 201, r.text
    r = signed(api, shop, "POST", f"/v1/payments/{payment_id}/refunds",
               b'{"amount":2000,"refund_id":"backend-1"}')
    assert r.status_code == 201, r.text  # a signed backend: unchanged
    assert api.get("/v1/merchants/me/settings", headers=olga.headers).json() == {
        "refund_approval_min": 1_000}


def test_a_staff_member_cannot_submit_a_merchant_refund_nor_a_merchant_user_a_staff_kind(
        api: TestClient) -> None:
    shop = certified(platform_of(api))
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    payment_id, _ = paid(api, shop, "bob")
    risk = passkey_staff(api, "rita-risk", "risk")
    body = {"payment_id": payment_id, "amount": 100, "refund_id": "x-1"}
    r = api.post("/v1/approvals", headers=risk.headers,
                 json={"kind": "merchant_refund", "params": body})
    assert r.status_code == 403, r.text
    r = api.post("/v1/approvals", headers=olga.headers, json={"kind": "refund", "params": body})
    assert r.status_code == 403, r.text
    staff_inbox = api.get("/v1/approvals", headers=olga.headers).json()["data"]
    assert staff_inbox == []


def test_a_disabled_merchant_user_is_signed_out_at_once(api: TestClient) -> None:
    shop = certified(platform_of(api))
    olga = join(api, host_invite(api, shop.merchant_id), "olga-owner")
    sue = invited(api, olga, "support", "sue-support")
    assert api.get("/v1/merchants/me", headers=sue.headers).status_code == 200
    r = api.post(f"/v1/merchants/me/users/{olga.user.id}/disable", headers=olga.headers)
    assert r.status_code == 409 and r.json()["code"] == "merchant_user_self"
    r = api.post(f"/v1/merchants/me/users/{sue.user.id}/disable", headers=olga.headers)
    assert r.status_code == 200, r.text
    assert api.get("/v1/merchants/me", headers=sue.headers).status_code == 401


def test_a_signed_backend_manages_no_people(api: TestClient) -> None:
    from ..support.merchants import signed

    shop = certified(platform_of(api))
    r = signed(api, shop, "POST", "/v1/merchants/me/users/invitations",
               b'{"email":"x@shop.example","role":"owner"}')
    assert r.status_code == 403, r.text


def test_the_host_invites_only_a_merchants_first_owner(api: TestClient) -> None:
    from paywarden.domain.errors import DomainError

    shop = certified(platform_of(api))
    join(api, host_invite(api, shop.merchant_id), "olga-owner")
    with pytest.raises(DomainError) as refused:
        host_invite(api, shop.merchant_id)
    assert refused.value.code == "merchant_has_owner"

"""Step-up over HTTP: the authenticator signs the exact operation, and nothing else passes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webauthn.helpers import bytes_to_base64url

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import step_up_evidence
from paywarden.domain.errors import DomainError
from paywarden.domain.identity.stepup import FIELDS, Operation, challenge_for
from tests.support.authenticator import SoftAuthenticator
from tests.support.identity import (
    PHISHING_ORIGIN,
    api_client,
    bearer,
    new_customer,
    passkey_customer,
    platform_of,
    signed_in_token,
)

PAYMENT_A = {"type": "payment", "amount": 100_00, "currency": "EUR", "payee": "Payee A",
             "reference": "INV-1"}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


def options(api: TestClient, token: str, operation: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/v1/auth/step-up/options", headers=bearer(token), json=operation)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def confirm(api: TestClient, token: str, authenticator: SoftAuthenticator,
            operation: dict[str, Any] = PAYMENT_A, **get: Any) -> Any:
    body = options(api, token, operation)
    return api.post("/v1/auth/step-up/verify", headers=bearer(token), json={
        "ceremony_id": body["ceremony_id"], "credential": authenticator.get(body["options"],
                                                                            **get)})


def operation_of(approved: dict[str, Any]) -> Operation:
    return Operation(**{name: approved[name] for name in FIELDS})


def approve(api: TestClient, token: str, authenticator: SoftAuthenticator,
            operation: dict[str, Any] = PAYMENT_A) -> tuple[str, Operation]:
    r = confirm(api, token, authenticator, operation)
    assert r.status_code == 201, r.text
    return r.json()["evidence_id"], operation_of(r.json()["operation"])


def execute(api: TestClient, user: str, operation: Operation, evidence_id: str) -> str | None:
    """What payment code does before it moves money: the refusal's code, or None."""
    platform = platform_of(api)
    try:
        with platform.database.engine.begin() as conn:
            platform.step_up.require(conn, user, operation, evidence_id)
    except DomainError as exc:
        return exc.code
    return None


def evidence_rows(api: TestClient) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(step_up_evidence)).scalar_one())


def test_the_options_show_the_operation_and_derive_the_challenge_from_it(
        api: TestClient) -> None:
    user, token, _ = passkey_customer(api, "alice")
    body = options(api, token, PAYMENT_A)
    shown = body["operation"]
    assert {k: shown[k] for k in PAYMENT_A} == PAYMENT_A and shown["user"] == user.id
    assert shown["amount_display"] == "100.00 EUR" and len(shown["nonce"]) >= 16
    assert body["options"]["challenge"] == bytes_to_base64url(challenge_for(operation_of(shown)))
    assert body["options"]["userVerification"] == "required"


def test_a_confirmed_operation_is_executed_once(api: TestClient) -> None:
    user, token, authenticator = passkey_customer(api, "alice")
    evidence_id, operation = approve(api, token, authenticator)
    assert evidence_id.startswith("evd_")
    assert execute(api, user.id, operation, evidence_id) is None
    assert execute(api, user.id, operation, evidence_id) == "step_up_required"


def test_an_approval_of_100_eur_to_payee_a_does_not_pay_1000_eur_or_payee_b(
        api: TestClient) -> None:
    user, token, authenticator = passkey_customer(api, "alice")
    evidence_id, operation = approve(api, token, authenticator)
    for changed in (replace(operation, amount=1000_00), replace(operation, payee="Payee B"),
                    replace(operation, currency="USD"), replace(operation, reference="INV-2")):
        assert execute(api, user.id, changed, evidence_id) == "step_up_mismatch"
    assert execute(api, user.id, operation, evidence_id) is None  # a mismatch used nothing


def test_a_stale_confirmation_is_refused(api: TestClient, clock: FakeClock) -> None:
    user, token, authenticator = passkey_customer(api, "alice")
    evidence_id, operation = approve(api, token, authenticator)
    clock.advance(platform_of(api).settings.webauthn_timeout_s + 1)
    assert execute(api, user.id, operation, evidence_id) == "step_up_required"


def test_another_users_confirmation_is_refused(api: TestClient) -> None:
    _, alice_token, alice_key = passkey_customer(api, "alice")
    bob, _, _ = passkey_customer(api, "bob")
    evidence_id, operation = approve(api, alice_token, alice_key)
    assert execute(api, bob.id, replace(operation, user=bob.id), evidence_id) == \
        "step_up_required"
    assert execute(api, bob.id, operation, "evd_0000000000000000") == "step_up_required"


def test_an_assertion_over_another_operations_challenge_is_refused(api: TestClient) -> None:
    """A signature over payee B's operation does not confirm payee A's, nor the reverse."""
    _, token, authenticator = passkey_customer(api, "alice")
    payee_a = options(api, token, PAYMENT_A)
    payee_b = options(api, token, {**PAYMENT_A, "payee": "Payee B", "amount": 1000_00})
    for ceremony, other in ((payee_a, payee_b), (payee_b, payee_a)):
        credential = authenticator.get(ceremony["options"],
                                       challenge=other["options"]["challenge"])
        r = api.post("/v1/auth/step-up/verify", headers=bearer(token), json={
            "ceremony_id": ceremony["ceremony_id"], "credential": credential})
        assert r.status_code == 401 and r.json()["code"] == "passkey_refused"
    assert evidence_rows(api) == 0


@pytest.mark.parametrize("attack", [{"origin": PHISHING_ORIGIN}, {"rp_id": "evil.example"},
                                    {"user_verified": False}, {"kind": "webauthn.create"}])
def test_a_step_up_assertion_failing_a_strict_check_is_refused(
        api: TestClient, attack: dict[str, Any]) -> None:
    _, token, authenticator = passkey_customer(api, "alice")
    r = confirm(api, token, authenticator, **attack)
    assert r.status_code == 401 and r.json()["code"] == "passkey_refused"
    assert evidence_rows(api) == 0


def test_a_step_up_ceremony_cannot_be_replayed_or_answered_by_another_user(
        api: TestClient) -> None:
    _, token, authenticator = passkey_customer(api, "alice")
    _, bob_token, bob_key = passkey_customer(api, "bob")
    body = options(api, token, PAYMENT_A)
    request = {"ceremony_id": body["ceremony_id"],
               "credential": authenticator.get(body["options"])}
    r = api.post("/v1/auth/step-up/verify", headers=bearer(bob_token), json={
        "ceremony_id": body["ceremony_id"], "credential": bob_key.get(body["options"])})
    assert r.status_code == 401  # and the ceremony is now spent
    assert api.post("/v1/auth/step-up/verify", headers=bearer(token),
                    json=request).status_code == 401
    body = options(api, token, PAYMENT_A)
    request = {"ceremony_id": body["ceremony_id"],
               "credential": authenticator.get(body["options"])}
    assert api.post("/v1/auth/step-up/verify", headers=bearer(token),
                    json=request).status_code == 201
    assert api.post("/v1/auth/step-up/verify", headers=bearer(token),
                    json=request).status_code == 401
    assert evidence_rows(api) == 1


def test_step_up_needs_a_passkey_and_a_well_formed_operation(api: TestClient) -> None:
    platform = platform_of(api)
    token = signed_in_token(platform, new_customer(platform, "carol"))
    r = api.post("/v1/auth/step-up/options", headers=bearer(token), json=PAYMENT_A)
    assert r.status_code == 409 and r.json()["code"] == "passkey_required"
    _, token, _ = passkey_customer(api, "alice")
    for bad in ({**PAYMENT_A, "amount": "100.00"}, {**PAYMENT_A, "amount": 1.5},
                {**PAYMENT_A, "currency": "eur"}, {**PAYMENT_A, "nonce": "mine"},
                {**PAYMENT_A, "payee": " padded"}):
        r = api.post("/v1/auth/step-up/options", headers=bearer(token), json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] in ("validation_failed", "operation_invalid")


def test_which_operations_need_step_up_follows_the_setting(api: TestClient) -> None:
    step_up = platform_of(api).step_up
    base = Operation(type="payment", amount=99_99, currency="EUR", payee="A", reference="",
                     nonce="n" * 16, user="usr_1")
    assert not step_up.needed(base)
    assert step_up.needed(replace(base, amount=100_00))
    assert step_up.needed(replace(base, type="new_payee", amount=0))

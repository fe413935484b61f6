"""Helpers for banking tests: a customer with accounts, money from the rail, step-ups."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.testclient import TestClient

from .authenticator import SoftAuthenticator
from .platform import bearer, platform_of, service_token


def open_account(api: TestClient, token: str, product: str = "current", currency: str = "EUR",
                 name: str = "Everyday") -> dict[str, Any]:
    r = api.post("/v1/me/accounts", headers=bearer(token),
                 json={"product": product, "currency": currency, "name": name})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def deposit(api: TestClient, iban: str, amount: int, currency: str = "EUR",
            rail_id: str | None = None) -> dict[str, Any]:
    """Money in from another bank through the simulated rail, booked by a machine
    principal: a person crediting an account alone would mint money (decision 0044)."""
    rail = service_token(platform_of(api), "rail")
    r = api.post("/v1/staff/rail/deposits", headers=bearer(rail), json={
        "rail_id": rail_id or "rail-" + secrets.token_hex(8), "iban": iban, "amount": amount,
        "currency": currency, "debtor_iban": "DE89370400440532013000",
        "debtor_name": "Employer GmbH", "reference": "salary"})
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def step_up(api: TestClient, token: str, authenticator: SoftAuthenticator, *, type: str,
            amount: int, currency: str, payee: str, reference: str) -> str:
    """A passkey step-up over exactly this operation; its evidence id."""
    r = api.post("/v1/auth/step-up/options", headers=bearer(token), json={
        "type": type, "amount": amount, "currency": currency, "payee": payee,
        "reference": reference})
    assert r.status_code == 200, r.text
    body = r.json()
    r = api.post("/v1/auth/step-up/verify", headers=bearer(token), json={
        "ceremony_id": body["ceremony_id"], "credential": authenticator.get(body["options"])})
    assert r.status_code == 201, r.text
    return r.json()["evidence_id"]  # type: ignore[no-any-return]


def balance_of(api: TestClient, token: str, account_id: str) -> int:
    r = api.get(f"/v1/me/accounts/{account_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["booked"]  # type: ignore[no-any-return]

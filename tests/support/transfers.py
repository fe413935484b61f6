"""Helpers for tests of transfers to other parties: payees added with a step-up, transfers
sent with one, and customers with a funded current account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app

from .authenticator import SoftAuthenticator
from .banking import deposit, open_account, step_up
from .identity import passkey_customer, sign_in
from .merchants import client_for, platform_for
from .platform import bearer

DAY_S = 24 * 3600
COOLING_S = 3600  # the tests' payee cooling-off and limit raise delay
ELSEWHERE = "DE89370400440532013000"  # a valid IBAN at another bank


@dataclass
class Customer:
    username: str
    token: str  # signed in again by ``wait``
    authenticator: SoftAuthenticator
    account: dict[str, Any]  # a EUR current account

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def transfer_api(database: Database, clock: FakeClock, tmp_path: Path,
                 **settings: Any) -> Iterator[TestClient]:
    """An API whose sessions outlive the cooling-off (customers sign in again after
    longer waits: ``wait``)."""
    platform = platform_for(database, clock, tmp_path, rate_limit_account="100000/minute",
                            rate_limit_address="100000/minute", payee_cooling_off_s=COOLING_S,
                            limit_raise_delay_s=COOLING_S, session_idle_s=4 * COOLING_S,
                            **settings)
    with client_for(create_app(platform)) as client:
        yield client


def customer(api: TestClient, username: str, funds: int = 0) -> Customer:
    _, token, authenticator = passkey_customer(api, username)
    account = open_account(api, token)
    if funds:
        deposit(api, account["iban"], funds)
    return Customer(username, token, authenticator, account)


def confirm(api: TestClient, who: Customer, type: str, amount: int, payee: str,
            reference: str, currency: str = "EUR") -> str:
    return step_up(api, who.token, who.authenticator, type=type, amount=amount,
                   currency=currency, payee=payee, reference=reference)


def add_payee(api: TestClient, who: Customer, name: str, iban: str) -> dict[str, Any]:
    evidence = confirm(api, who, "new_payee", 0, iban, name)
    r = api.post("/v1/me/payees", headers=who.headers, json={
        "name": name, "iban": iban, "currency": "EUR", "evidence_id": evidence})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def send(api: TestClient, who: Customer, payee: dict[str, Any], amount: int,
         reference: str = "", *, evidence_id: str | None = None, **body: Any) -> Any:
    """POST /v1/me/transfers with a step-up over exactly this transfer (unless given)."""
    evidence = evidence_id or confirm(api, who, "transfer", amount, payee["iban"], reference)
    return api.post("/v1/me/transfers", headers=who.headers, json={
        "from_account": who.account["id"], "payee_id": payee["id"], "amount": amount,
        "currency": "EUR", "reference": reference, "evidence_id": evidence, **body})


def wait(api: TestClient, seconds: int, *awake: Customer) -> None:
    """Let ``seconds`` pass; the ``awake`` customers sign in again with their passkeys."""
    api.app.state.platform.clock.advance(seconds)  # type: ignore[attr-defined]
    for who in awake:
        r = sign_in(api, who.authenticator, who.username)
        assert r.status_code == 200, r.text
        who.token = r.json()["token"]


def balances(api: TestClient, who: Customer) -> tuple[int, int]:
    """(booked, available) of the customer's current account."""
    r = api.get(f"/v1/me/accounts/{who.account['id']}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["booked"], r.json()["available"]

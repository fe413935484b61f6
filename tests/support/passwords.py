"""Helpers for password + TOTP tests: a cheap-Argon2 API, and customers set up through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.services.identity import otp
from paywarden.settings import Settings

from .platform import bearer, platform_of

ORIGIN = "https://pay.example"
PASSWORD = "mauve kettle 83 orbit"
NEW_PASSWORD = "violet teapot 47 comet"


def settings_for(database: Database, data_dir: Path, **extra: Any) -> Settings:
    # Argon2id at OWASP's floor (t=2, 19 MiB): the same code path, a fraction of the time.
    options: dict[str, Any] = {
        "database_url": database.url, "data_dir": data_dir, "public_url": ORIGIN,
        "webauthn_rp_id": "pay.example", "password_time_cost": 2,
        "password_memory_kib": 19 * 1024, "rate_limit_address": "100000/minute",
        "rate_limit_account": "100000/minute"}
    options.update(extra)
    return Settings(**options)


@contextmanager
def password_api(database: Database, clock: FakeClock, data_dir: Path,
                 **extra: Any) -> Iterator[TestClient]:
    platform = build(settings_for(database, data_dir, **extra), clock=clock, database=database)
    with TestClient(create_app(platform), base_url=ORIGIN) as client:
        yield client


def code_now(client: TestClient, secret: str, *, offset: int = 0) -> str:
    """The code an authenticator app would show now (``offset`` steps later)."""
    return otp.code_at(secret, otp.step_at(platform_of(client).clock.now_ns()) + offset)


def next_step(client: TestClient) -> None:
    """Let the clock move on to the next 30-second step, so a fresh code exists."""
    platform_of(client).clock.advance(otp.INTERVAL_S)  # type: ignore[attr-defined]


@dataclass
class Account:
    username: str
    user_id: str
    secret: str
    recovery_codes: list[str]
    token: str  # a full session from finishing enrolment
    password: str = PASSWORD


def sign_up(client: TestClient, username: str, *, password: str | None = PASSWORD,
            **extra: Any) -> Any:
    body: dict[str, Any] = {"username": username, "display_name": username.title(), **extra}
    if password is not None:
        body["password"] = password
    return client.post("/v1/customers", json=body)


def enrol_totp(client: TestClient, token: str) -> tuple[str, Any]:
    """Enrol and confirm TOTP with ``token``; the secret and the confirm response."""
    r = client.post("/v1/me/totp", headers=bearer(token))
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    confirmed = client.post("/v1/me/totp/confirm", headers=bearer(token),
                            json={"code": code_now(client, secret)})
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed


def customer(client: TestClient, username: str = "alice") -> Account:
    """A customer signed up with a password and a confirmed TOTP factor."""
    r = sign_up(client, username)
    assert r.status_code == 201, r.text
    secret, confirmed = enrol_totp(client, r.json()["enrolment_token"])
    body = confirmed.json()
    next_step(client)  # the confirming code is spent
    return Account(username, r.json()["customer_id"], secret, body["recovery_codes"],
                   body["session"]["token"])


def password_sign_in(client: TestClient, username: str, password: str = PASSWORD,
                     **second: str) -> Any:
    return client.post("/v1/auth/password",
                       json={"username": username, "password": password, **second})

"""Helpers for identity tests: an API over a real database, customers, passkeys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.domain.identity import Kind
from paywarden.services.identity.users import User, create_user
from paywarden.settings import Settings

from .authenticator import SoftAuthenticator
from .platform import bearer, platform_of, staff_token  # noqa: F401 - re-exported

ORIGIN = "https://pay.example"
RP_ID = "pay.example"
PHISHING_ORIGIN = "https://pay-example.evil"


def settings_for(database: Database, data_dir: Path) -> Settings:
    return Settings(database_url=database.url, data_dir=data_dir, public_url=ORIGIN,
                    webauthn_rp_id=RP_ID, step_up_amount_min=100_00)


@contextmanager
def api_client(database: Database, clock: FakeClock, data_dir: Path) -> Iterator[TestClient]:
    platform = build(settings_for(database, data_dir), clock=clock, database=database)
    with TestClient(create_app(platform), base_url=ORIGIN) as client:
        yield client


def new_customer(platform: Platform, username: str) -> User:
    with platform.database.engine.begin() as conn:
        return create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                           display_name=username.title(), roles=frozenset({"customer"}),
                           now_ns=platform.clock.now_ns())


def enrolment_token(platform: Platform, user: User) -> str:
    """A session as sign-up issues it: no roles, good only for registering a factor."""
    with platform.database.engine.begin() as conn:
        return platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=user.id,
                                       owner=user.owner, roles=frozenset(),
                                       auth_methods=frozenset({"enrolment"})).token


def signed_in_token(platform: Platform, user: User, methods: str = "password,totp") -> str:
    with platform.database.engine.begin() as conn:
        return platform.sessions.start(conn, kind=user.kind, user_id=user.id, owner=user.owner,
                                       roles=user.roles,
                                       auth_methods=frozenset(methods.split(","))).token


def register(client: TestClient, token: str, authenticator: SoftAuthenticator,
             **create: Any) -> Any:
    """Run a registration ceremony; returns the verify response."""
    r = client.post("/v1/auth/passkeys/register/options", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    credential = authenticator.create(body["options"], **create)
    return client.post("/v1/auth/passkeys/register/verify", headers=bearer(token),
                       json={"ceremony_id": body["ceremony_id"], "credential": credential})


def sign_in_options(client: TestClient, username: str | None = None) -> dict[str, Any]:
    r = client.post("/v1/auth/passkeys/signin/options",
                    json={} if username is None else {"username": username})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def sign_in(client: TestClient, authenticator: SoftAuthenticator, username: str | None = None,
            **get: Any) -> Any:
    body = sign_in_options(client, username)
    credential = authenticator.get(body["options"], **get)
    return client.post("/v1/auth/passkeys/signin/verify",
                       json={"ceremony_id": body["ceremony_id"], "credential": credential})


def passkey_customer(client: TestClient, username: str) -> tuple[User, str, SoftAuthenticator]:
    """A customer with one registered passkey, signed in with it: user, token, authenticator."""
    platform = platform_of(client)
    user = new_customer(platform, username)
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    assert register(client, enrolment_token(platform, user), authenticator).status_code == 201
    r = sign_in(client, authenticator, username)
    assert r.status_code == 200, r.text
    return user, r.json()["token"], authenticator

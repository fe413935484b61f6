"""Password + TOTP sign-in over HTTP, and every attack on it the issue names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import notifications, users
from tests.support.passwords import (
    PASSWORD,
    Account,
    bearer,
    code_now,
    customer,
    next_step,
    password_api,
    password_sign_in,
    platform_of,
)


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with password_api(database, clock, tmp_path) as client:
        yield client


@pytest.fixture
def alice(api: TestClient) -> Account:
    return customer(api, "alice")


def kinds_of_notices(client: TestClient, user_id: str) -> list[str]:
    with platform_of(client).database.engine.connect() as conn:
        return list(conn.execute(select(notifications.c.kind).where(
            notifications.c.user_id == user_id).order_by(notifications.c.created_at)).scalars())


def test_password_and_totp_sign_in_returns_a_token_and_a_strict_cookie(
        api: TestClient, alice: Account) -> None:
    api.cookies.clear()  # a device new to us: it is given an id
    r = password_sign_in(api, "alice", totp=code_now(api, alice.secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"].startswith("pws_") and body["user_id"] == alice.user_id
    assert body["auth_methods"] == ["password", "totp"]
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("__Host-pw_session="))
    assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/"} <= {
        part.strip() for part in session.split(";")}
    device = next(c for c in cookies if c.startswith("__Host-pw_device="))
    assert "HttpOnly" in device and "Secure" in device
    me = api.get("/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["roles"] == ["customer"]


def test_a_totp_code_used_twice_is_refused(api: TestClient, alice: Account) -> None:
    code = code_now(api, alice.secret)
    assert password_sign_in(api, "alice", totp=code).status_code == 200
    again = password_sign_in(api, "alice", totp=code)
    assert again.status_code == 401 and again.json()["code"] == "sign_in_failed"


def test_a_password_alone_never_signs_in(api: TestClient, alice: Account) -> None:
    r = password_sign_in(api, "alice")
    assert r.status_code == 200 and r.json()["status"] == "second_factor_required"
    assert "token" not in r.json()
    first = r.json()["first_factor_token"]
    # The first-factor token is no session: it reaches nothing but the second step.
    for path in ("/v1/me/notifications", "/v1/me/sessions"):
        assert api.get(path, headers=bearer(first)).status_code in (401, 403)


def test_two_steps_show_the_phrase_only_after_the_password(api: TestClient,
                                                           alice: Account) -> None:
    r = api.put("/v1/me/phrase", headers=bearer(alice.token), json={"phrase": "blue heron"})
    assert r.status_code == 204, r.text
    # By username alone, a phishing site learns nothing.
    api.cookies.clear()
    assert api.get("/v1/auth/phrase", params={"username": "alice"}).status_code == 401
    step1 = password_sign_in(api, "alice").json()
    assert step1["anti_phishing_phrase"] == "blue heron"
    assert step1["second_factors"] == ["totp", "recovery_code"]
    first = step1["first_factor_token"]
    phrase = api.get("/v1/auth/phrase", params={"username": "alice"}, headers=bearer(first))
    assert phrase.json()["anti_phishing_phrase"] == "blue heron"
    customer(api, "bob")
    other = api.get("/v1/auth/phrase", params={"username": "bob"}, headers=bearer(first))
    assert other.status_code == 401 and other.json()["code"] == "sign_in_failed"
    done = api.post("/v1/auth/password/second-factor", headers=bearer(first),
                    json={"totp": code_now(api, alice.secret)})
    assert done.status_code == 200 and done.json()["auth_methods"] == ["password", "totp"]
    # The first-factor token is spent.
    assert api.post("/v1/auth/password/second-factor", headers=bearer(first),
                    json={"totp": code_now(api, alice.secret, offset=1)}).status_code == 401


def test_a_recovery_code_works_once_and_only_with_the_password(api: TestClient,
                                                               alice: Account) -> None:
    code = alice.recovery_codes[0]
    assert len(alice.recovery_codes) == 10
    wrong = password_sign_in(api, "alice", "not the password at all", recovery_code=code)
    assert wrong.status_code == 401
    r = password_sign_in(api, "alice", recovery_code=code.lower().replace("-", " "))
    assert r.status_code == 200 and r.json()["auth_methods"] == ["password", "recovery_code"]
    assert password_sign_in(api, "alice", recovery_code=code).status_code == 401
    assert "recovery_code_used" in kinds_of_notices(api, alice.user_id)
    assert password_sign_in(api, "alice", recovery_code=alice.recovery_codes[1]
                            ).status_code == 200


def test_the_lock_after_the_limit_holds_for_the_whole_period(api: TestClient,
                                                             alice: Account) -> None:
    clock = platform_of(api).clock
    limit = platform_of(api).settings.signin_failures_max
    for _ in range(limit):
        clock.advance(100)  # past each growing delay (64 s at most here)
        r = password_sign_in(api, "alice", "wrong password guess", totp="000000")
        assert r.status_code == 401
    assert "locked" in kinds_of_notices(api, alice.user_id)
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(users.c.locked_until).where(
            users.c.id == alice.user_id)).scalar_one() is not None
    # The right password and code are refused all through the lock…
    clock.advance(29 * 60)
    locked = password_sign_in(api, "alice", totp=code_now(api, alice.secret))
    assert locked.status_code == 401 and locked.json()["code"] == "sign_in_failed"
    # …and accepted once it is over.
    clock.advance(60)
    next_step(api)
    assert password_sign_in(api, "alice", totp=code_now(api, alice.secret)).status_code == 200


def test_after_three_failures_an_attempt_must_wait_a_growing_delay(api: TestClient,
                                                                   alice: Account) -> None:
    for _ in range(3):
        assert password_sign_in(api, "alice", "wrong password guess").status_code == 401
    right = {"totp": code_now(api, alice.secret)}
    assert password_sign_in(api, "alice", **right).status_code == 401  # too soon
    platform_of(api).clock.advance(1)
    assert password_sign_in(api, "alice", **right).status_code == 200


def test_one_address_failing_too_often_is_slowed_down_whatever_the_accounts(
        api: TestClient) -> None:
    for i in range(10):
        assert password_sign_in(api, f"nobody{i}", "wrong password guess").status_code == 401
    r = password_sign_in(api, "nobody-else", "wrong password guess")
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) >= 1


def test_staff_cannot_sign_in_with_a_password_alone(api: TestClient) -> None:
    from paywarden.services.identity.enrolment import create_staff

    platform = platform_of(api)
    staff = create_staff(platform.credentials, username="sam", role="support",
                         display_name="Sam", actor="cli:test", ttl_s=3600, ttl_s_max=3600)
    r = api.put("/v1/me/password", headers=bearer(staff.enrolment.token),
                json={"new_password": PASSWORD})
    assert r.status_code == 200, r.text
    first = password_sign_in(api, "sam")
    assert first.status_code == 401 and first.json()["code"] == "sign_in_failed"
    assert password_sign_in(api, "sam", totp="123456").status_code == 401
    # The same staff member with a confirmed TOTP factor can.
    from tests.support.passwords import enrol_totp

    secret, confirmed = enrol_totp(api, staff.enrolment.token)
    assert confirmed.json()["session"]["auth_methods"] == ["password", "totp"]
    next_step(api)
    assert password_sign_in(api, "sam", totp=code_now(api, secret)).status_code == 200


def test_hashing_beyond_the_cap_is_refused_as_busy(database: Database, clock: FakeClock,
                                                   tmp_path: Path) -> None:
    with password_api(database, clock, tmp_path, password_hashing_concurrency_max=1,
                      password_hashing_wait_s=0.05) as client:
        slot = platform_of(client).credentials.passwords._slot()
        slot.__enter__()
        try:
            r = password_sign_in(client, "alice", totp="123456")
        finally:
            slot.__exit__(None, None, None)
    assert r.status_code == 503 and r.json()["code"] == "busy"
    assert int(r.headers["Retry-After"]) >= 1


def test_every_failure_has_the_same_status_and_body_byte_for_byte(api: TestClient,
                                                                  alice: Account) -> None:
    clock = platform_of(api).clock
    api.cookies.clear()
    answers = {
        "unknown user": password_sign_in(api, "mallory", totp="123456"),
        "wrong password": password_sign_in(api, "alice", "wrong password guess",
                                           totp=code_now(api, alice.secret)),
        "wrong totp": password_sign_in(api, "alice", totp="000000"),
        "unknown user, first step": password_sign_in(api, "mallory"),
        "wrong password, first step": password_sign_in(api, "alice", "wrong password guess"),
    }
    for _ in range(8):  # to the limit of 10, each past its growing delay
        clock.advance(100)
        password_sign_in(api, "alice", "wrong password guess")
    platform_of(api).credentials.addresses._records.clear()  # this test is not about addresses
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(users.c.locked_until).where(
            users.c.id == alice.user_id)).scalar_one() > clock.now_ns()
    answers["locked"] = password_sign_in(api, "alice", totp=code_now(api, alice.secret))
    shapes = {name: (r.status_code, r.content, r.headers["content-type"])
              for name, r in answers.items()}
    assert len(set(shapes.values())) == 1, shapes
    status, content, _ = shapes["locked"]
    assert status == 401 and b'"code":"sign_in_failed"' in content


def test_an_unknown_user_takes_as_long_as_a_wrong_password(api: TestClient,
                                                           alice: Account) -> None:
    """Medians of 30 tries each, interleaved; generous: within a third of each other."""
    import statistics
    import time

    from paywarden.services.identity.password_signin import SecondFactor, SignInFailed
    from paywarden.services.identity.password_signin import sign_in as service_sign_in
    from paywarden.services.identity.signin import RequestMeta

    creds = platform_of(api).credentials
    clock = platform_of(api).clock
    timings: dict[str, list[float]] = {"unknown": [], "known": []}
    for i in range(30):
        for kind, username in (("unknown", f"nobody{i}"), ("known", "alice")):
            clock.advance(3600)  # past any delay or lock: every try does the full work
            meta = RequestMeta(address=f"10.0.{i}.{len(kind)}", user_agent="t", device_id="")
            started = time.perf_counter()
            with pytest.raises(SignInFailed):
                service_sign_in(creds, username=username, password="wrong password guess",
                                second=SecondFactor(totp="123456"), meta=meta)
            timings[kind].append(time.perf_counter() - started)
    unknown, known = (statistics.median(timings[k]) for k in ("unknown", "known"))
    assert abs(unknown - known) < max(unknown, known) / 3, (unknown, known)

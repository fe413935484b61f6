"""Changing factors, resets, sign-up, staff enrolment and notifications, over HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, notifications, users
from paywarden.services.identity.tokens import issue_staff_token
from tests.support.passwords import (
    NEW_PASSWORD,
    PASSWORD,
    Account,
    bearer,
    code_now,
    customer,
    next_step,
    password_api,
    password_sign_in,
    platform_of,
    sign_up,
)


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with password_api(database, clock, tmp_path) as client:
        yield client


@pytest.fixture
def alice(api: TestClient) -> Account:
    return customer(api, "alice")


def staff(api: TestClient, role: str) -> str:
    platform = platform_of(api)
    return issue_staff_token(platform.database, platform.sessions, role=role, ttl_s=3600,
                             ttl_s_max=3600, actor="cli:test",
                             now_ns=platform.clock.now_ns()).token


def notice_kinds(api: TestClient, user_id: str) -> list[str]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(notifications.c.kind).where(
            notifications.c.user_id == user_id)).scalars())


def test_a_weak_password_at_sign_up_is_refused_and_nothing_is_created(api: TestClient) -> None:
    r = sign_up(api, "carol", password="password1234")
    assert r.status_code == 422 and r.json()["code"] == "password_common"
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 0
    taken = (sign_up(api, "carol"), sign_up(api, "CAROL"))
    assert taken[0].status_code == 201 and taken[1].status_code == 409


def test_an_enrolment_token_only_registers_factors_and_expires(api: TestClient) -> None:
    token = sign_up(api, "dave", password=None).json()["enrolment_token"]
    assert api.get("/v1/ledgers", headers=bearer(token)).status_code == 403
    assert api.get("/v1/me/notifications", headers=bearer(token)).status_code == 403
    assert api.put("/v1/me/password", headers=bearer(token),
                   json={"new_password": PASSWORD}).status_code == 200
    platform_of(api).clock.advance(31 * 60)
    assert api.post("/v1/me/totp", headers=bearer(token)).status_code == 401


def test_a_password_change_needs_both_factors_and_ends_every_other_session(
        api: TestClient, alice: Account) -> None:
    other = password_sign_in(api, "alice", totp=code_now(api, alice.secret)).json()["token"]
    next_step(api)
    no_code = api.put("/v1/me/password", headers=bearer(alice.token),
                      json={"new_password": NEW_PASSWORD, "current_password": PASSWORD})
    assert no_code.status_code == 403 and no_code.json()["code"] == "reauthentication_required"
    wrong = api.put("/v1/me/password", headers=bearer(alice.token),
                    json={"new_password": NEW_PASSWORD, "current_password": "not it at all!",
                          "totp": code_now(api, alice.secret)})
    assert wrong.status_code == 403 and wrong.json()["code"] == "reauthentication_failed"
    r = api.put("/v1/me/password", headers=bearer(alice.token),
                json={"new_password": NEW_PASSWORD, "current_password": PASSWORD,
                      "totp": code_now(api, alice.secret)})
    assert r.status_code == 200, r.text
    fresh = r.json()["session"]["token"]
    assert api.get("/v1/me", headers=bearer(fresh)).status_code == 200
    assert api.get("/v1/me", headers=bearer(other)).status_code == 401
    assert api.get("/v1/me", headers=bearer(alice.token)).status_code == 401  # rotated
    assert "factor_changed" in notice_kinds(api, alice.user_id)
    next_step(api)
    assert password_sign_in(api, "alice", totp=code_now(api, alice.secret)).status_code == 401
    next_step(api)
    assert password_sign_in(api, "alice", NEW_PASSWORD,
                            totp=code_now(api, alice.secret)).status_code == 200


def test_a_reset_needs_the_second_factor(api: TestClient, alice: Account) -> None:
    body = {"username": "alice", "new_password": NEW_PASSWORD}
    assert api.post("/v1/auth/reset", json=body).status_code == 422
    wrong = api.post("/v1/auth/reset", json={**body, "totp": "000000"})
    unknown = api.post("/v1/auth/reset", json={**body, "username": "zed", "totp": "000000"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == "sign_in_failed"
    assert password_sign_in(api, "alice", totp=code_now(api, alice.secret)).status_code == 200
    next_step(api)
    ok = api.post("/v1/auth/reset", json={**body, "totp": code_now(api, alice.secret)})
    assert ok.status_code == 204, ok.text
    assert api.get("/v1/me", headers=bearer(alice.token)).status_code == 401  # all sessions end
    next_step(api)
    assert password_sign_in(api, "alice", NEW_PASSWORD,
                            recovery_code=alice.recovery_codes[0]).status_code == 200


def test_support_can_start_a_reset_but_never_set_a_password(api: TestClient,
                                                            alice: Account) -> None:
    support = bearer(staff(api, "support"))
    path = f"/v1/staff/customers/{alice.user_id}/reset"
    assert api.post(path, headers=bearer(staff(api, "risk"))).status_code == 403
    assert api.post(path, headers=bearer(alice.token)).status_code == 403
    r = api.post(path, headers=support)
    assert r.status_code == 202, r.text
    assert "reset_started" in notice_kinds(api, alice.user_id)
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(audit_entries.c.actor).where(
            audit_entries.c.action == "customer.reset_start")).scalar_one().startswith("cli:test")
    # No way for support to set it: not their own factors, and no such endpoint for others.
    assert api.put("/v1/me/password", headers=support,
                   json={"new_password": NEW_PASSWORD}).status_code == 403
    assert api.put(f"/v1/staff/customers/{alice.user_id}/password", headers=support,
                   json={"new_password": NEW_PASSWORD}).status_code in (404, 405)
    assert api.post("/v1/auth/reset", headers=support, json={
        "username": "alice", "new_password": NEW_PASSWORD, "totp": "000000"}).status_code == 401
    assert password_sign_in(api, "alice", totp=code_now(api, alice.secret)).status_code == 200


def test_regenerating_recovery_codes_replaces_them_all(api: TestClient, alice: Account) -> None:
    assert api.post("/v1/me/recovery-codes", headers=bearer(alice.token),
                    json={}).status_code == 403
    r = api.post("/v1/me/recovery-codes", headers=bearer(alice.token),
                 json={"totp": code_now(api, alice.secret)})
    assert r.status_code == 200 and len(r.json()["recovery_codes"]) == 10
    next_step(api)
    assert password_sign_in(api, "alice", recovery_code=alice.recovery_codes[0]
                            ).status_code == 401
    assert password_sign_in(api, "alice", recovery_code=r.json()["recovery_codes"][0]
                            ).status_code == 200


def test_totp_cannot_be_removed_when_it_is_the_only_second_factor(api: TestClient,
                                                                  alice: Account) -> None:
    r = api.post("/v1/me/totp/remove", headers=bearer(alice.token),
                 json={"totp": code_now(api, alice.secret)})
    assert r.status_code == 409 and r.json()["code"] == "last_second_factor"


def test_my_notifications_are_mine_only(api: TestClient, alice: Account) -> None:
    bob = customer(api, "bob")
    api.put("/v1/me/phrase", headers=bearer(alice.token), json={"phrase": "blue heron"})
    mine = api.get("/v1/me/notifications", headers=bearer(alice.token), params={"limit": 1})
    assert mine.status_code == 200
    first = mine.json()
    assert len(first["data"]) == 1 and first["next_cursor"]
    rest = api.get("/v1/me/notifications", headers=bearer(alice.token),
                   params={"cursor": first["next_cursor"]}).json()["data"]
    ids = {n["id"] for n in first["data"] + rest}
    theirs = api.get("/v1/me/notifications", headers=bearer(bob.token)).json()["data"]
    assert ids and not ids & {n["id"] for n in theirs}
    assert len(ids) == len(notice_kinds(api, alice.user_id))


def test_no_password_totp_secret_or_code_reaches_logs_or_the_audit_record(
        api: TestClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    acct = customer(api, "erin")
    code = code_now(api, acct.secret)
    password_sign_in(api, "erin", totp=code)
    password_sign_in(api, "erin", "wrong password guess", totp=code)
    password_sign_in(api, "mistyped-my-password-here", totp=code)
    next_step(api)
    api.put("/v1/me/password", headers=bearer(acct.token),
            json={"new_password": NEW_PASSWORD, "current_password": PASSWORD,
                  "totp": code_now(api, acct.secret)})
    with platform_of(api).database.engine.connect() as conn:
        audit = json.dumps([list(r) for r in conn.execute(select(audit_entries)).all()],
                           default=bytes.decode)  # the leaf: canonical JSON bytes
    out = capsys.readouterr()
    text = f"{caplog.text}\n{out.out}\n{out.err}\n{audit}"
    secrets = [PASSWORD, NEW_PASSWORD, "wrong password guess", acct.secret, code,
               "mistyped-my-password-here", *acct.recovery_codes]
    assert "session.sign_in" in audit and "sign_in.failed" in text  # it was recorded…
    assert [s for s in secrets if s in text] == []  # …without any secret


def test_staff_create_deactivate_review_and_service_tokens_from_the_cli(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from paywarden.cli import app

    monkeypatch.setenv("PAYWARDEN_DATABASE_URL", database.url)
    monkeypatch.setenv("PAYWARDEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAYWARDEN_LOG_JSON", "true")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:  # the command configures logging onto the runner's stream: put it back after
        first = CliRunner().invoke(app, ["staff", "create", "--username", "Ada", "--role",
                                         "security_admin", "--json"])
        r = CliRunner().invoke(app, ["staff", "create", "--username", "Sam", "--role",
                                     "support", "--display-name", "Sam Support", "--json"])
        bad = CliRunner().invoke(app, ["staff", "create", "--username", "x1y", "--role",
                                       "god"])
        gone = CliRunner().invoke(app, ["staff", "deactivate", "sam", "--json"])
        review = CliRunner().invoke(app, ["staff", "access-review", "--json"])
        service = CliRunner().invoke(app, ["tokens", "service", "--name", "feed", "--ttl-s",
                                           "600", "--amount-max", "100000", "--json"])
    finally:
        root.handlers[:], root.level = handlers, level
    assert first.exit_code == 0, first.output
    boot = json.loads(first.stdout.strip().splitlines()[-1])
    assert boot["bootstrap"] is True and boot["approval_id"] is None
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["username"] == "sam" and out["role"] == "support"
    assert out["enrolment_token"].startswith("pws_") and out["approval_id"].startswith("apr_")
    assert out["enrolment_url"].endswith(f"/staff/enrol#{out['enrolment_token']}")
    with database.engine.connect() as conn:
        actors = conn.execute(select(audit_entries.c.actor).where(audit_entries.c.action.in_(
            ["staff.create", "staff.bootstrap", "staff.deactivate"]))).scalars().all()
    assert len(actors) == 3 and all(a.startswith("cli:") for a in actors)
    assert bad.exit_code == 2
    assert gone.exit_code == 0 and json.loads(gone.stdout)["status"] == "disabled"
    people = {h["name"]: h for h in json.loads(review.stdout.strip().splitlines()[-1])["data"]}
    assert people["ada"]["privileges"][0]["role"] == "security_admin"
    assert people["sam"]["status"] == "disabled" and people["sam"]["privileges"] == []
    assert json.loads(service.stdout.strip().splitlines()[-1])["approval_id"].startswith("apr_")

"""Sessions and staff tokens: digests only at rest, expiry, revocation, least privilege."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, sessions
from paywarden.domain.errors import DomainError
from paywarden.domain.identity import Kind
from paywarden.services.identity import Sessions
from paywarden.services.identity.tokens import issue_staff_token, revoke_token
from paywarden.services.identity.users import create_user

from ..support.sealing import field_keys


@pytest.fixture
def store(database: Database, clock: FakeClock) -> Sessions:
    return Sessions(database, clock=clock, keys=field_keys(database, clock), idle_s=15 * 60,
                    absolute_s=12 * 3600)


def customer_session(database: Database, store: Sessions, clock: FakeClock,
                     username: str = "alice") -> tuple[str, str, str]:
    with database.engine.begin() as conn:
        user = create_user(conn, keys=store.keys, kind=Kind.CUSTOMER, username=username,
                           display_name=username,
                           roles=frozenset({"customer"}), now_ns=clock.now_ns())
        new = store.start(conn, kind=Kind.CUSTOMER, user_id=user.id, owner=user.id,
                          roles=frozenset({"customer"}), auth_methods=frozenset({"passkey"}))
    return user.id, new.session.id, new.token


def test_a_token_is_stored_only_as_its_digest(database: Database, store: Sessions,
                                              clock: FakeClock) -> None:
    _, _, token = customer_session(database, store, clock)
    assert len(token) >= 4 + 43  # prefix and 256 bits in base64url
    with database.engine.connect() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(select(sessions)).all()]
    assert rows and not any(token in value or token[4:] in value for r in rows for value in r)


def test_a_session_speaks_for_its_user_and_nobody_else(database: Database, store: Sessions,
                                                       clock: FakeClock) -> None:
    user_id, session_id, token = customer_session(database, store, clock)
    principal = store.authenticate(token)
    assert principal is not None
    assert (principal.kind, principal.id, principal.owner, principal.session_id) == (
        Kind.CUSTOMER, user_id, user_id, session_id)
    for forged in (token[:-1], token + "x", "pws_" + "A" * 43, token.replace("pws_", "pwo_"),
                   "", "pws_" + "x" * 500):
        assert store.authenticate(forged) is None


def test_an_idle_session_expires_after_fifteen_minutes_and_activity_keeps_it(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    _, _, token = customer_session(database, store, clock)
    clock.advance(14 * 60)
    assert store.authenticate(token) is not None  # slides the idle expiry
    clock.advance(14 * 60)
    assert store.authenticate(token) is not None
    clock.advance(15 * 60)
    assert store.authenticate(token) is None


def test_activity_never_extends_a_session_past_its_absolute_expiry(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    _, _, token = customer_session(database, store, clock)
    for _ in range(12 * 60 // 10 - 1):
        clock.advance(10 * 60)
        assert store.authenticate(token) is not None
    clock.advance(10 * 60)
    assert store.authenticate(token) is None


def test_revoking_all_but_the_current_session_leaves_only_it(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    user_id, first, first_token = customer_session(database, store, clock)
    with database.engine.begin() as conn:
        others = [store.start(conn, kind=Kind.CUSTOMER, user_id=user_id, owner=user_id,
                              roles=frozenset({"customer"}),
                              auth_methods=frozenset({"passkey"})) for _ in range(3)]
    assert len(store.live_for(user_id)) == 4
    with database.engine.begin() as conn:
        assert store.revoke_all(conn, user_id, keep=first) == 3
    assert [s.id for s in store.live_for(user_id)] == [first]
    assert store.authenticate(first_token) is not None
    assert all(store.authenticate(o.token) is None for o in others)


def test_a_staff_token_carries_one_staff_role_and_its_issue_is_recorded(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    new = issue_staff_token(database, store, role="supervisor", ttl_s=3600, ttl_s_max=86_400,
                            actor="cli:alice", now_ns=clock.now_ns())
    principal = store.authenticate(new.token)
    assert principal is not None and principal.roles == {"supervisor"}
    assert principal.kind is Kind.STAFF and principal.owner is None
    with database.engine.connect() as conn:
        events = conn.execute(select(audit_entries.c.actor, audit_entries.c.action,
                                     audit_entries.c.object, audit_entries.c.detail)
                              .where(audit_entries.c.action.not_like("key.%"))).all()
    assert events == [("cli:alice", "token.issue", new.session.id,
                       '{"role":"supervisor","ttl_s":3600}')]
    assert new.token not in str(events)
    clock.advance(3600)
    assert store.authenticate(new.token) is None


def test_a_staff_token_used_then_left_idle_past_fifteen_minutes_still_works(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    new = issue_staff_token(database, store, role="supervisor", ttl_s=6 * 3600,
                            ttl_s_max=86_400, actor="cli:alice", now_ns=clock.now_ns())
    clock.advance(60)
    assert store.authenticate(new.token) is not None  # first use: the row is touched
    for idle_s in (16 * 60, 45 * 60, 2 * 3600):
        clock.advance(idle_s)
        assert store.authenticate(new.token) is not None, f"refused after {idle_s} s idle"
    row = store.get(new.session.id)
    assert row is not None and row.idle_expires_at == row.absolute_expires_at


def test_a_staff_token_is_refused_from_its_absolute_expiry_on(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    new = issue_staff_token(database, store, role="supervisor", ttl_s=3 * 3600,
                            ttl_s_max=86_400, actor="cli:alice", now_ns=clock.now_ns())
    clock.advance(60)
    assert store.authenticate(new.token) is not None
    clock.advance(3 * 3600 - 61)
    assert store.authenticate(new.token) is not None
    clock.advance(1)
    assert store.authenticate(new.token) is None


def test_a_browser_session_keeps_its_idle_window_after_a_touch(
        database: Database, store: Sessions, clock: FakeClock) -> None:
    _, session_id, token = customer_session(database, store, clock)
    clock.advance(60)
    assert store.authenticate(token) is not None
    row = store.get(session_id)
    assert row is not None and row.idle_expires_at - row.last_seen_at == 15 * 60 * 10**9
    clock.advance(15 * 60)
    assert store.authenticate(token) is None


@pytest.mark.parametrize(("role", "ttl_s", "code"), [("customer", 60, "role_unknown"),
                                                     ("root", 60, "role_unknown"),
                                                     ("supervisor", 86_401, "ttl_invalid"),
                                                     ("supervisor", 0, "ttl_invalid")])
def test_a_token_for_a_non_staff_role_or_longer_than_a_day_is_refused(
        database: Database, store: Sessions, clock: FakeClock, role: str, ttl_s: int,
        code: str) -> None:
    with pytest.raises(DomainError) as caught:
        issue_staff_token(database, store, role=role, ttl_s=ttl_s, ttl_s_max=86_400,
                          actor="cli:alice", now_ns=clock.now_ns())
    assert caught.value.code == code
    with database.engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).first() is None


def test_a_revoked_token_is_refused_at_once(database: Database, store: Sessions,
                                           clock: FakeClock) -> None:
    new = issue_staff_token(database, store, role="operator", ttl_s=3600, ttl_s_max=86_400,
                            actor="cli:alice", now_ns=clock.now_ns())
    assert revoke_token(database, store, session_id=new.session.id, actor="cli:bob",
                        now_ns=clock.now_ns())
    assert store.authenticate(new.token) is None
    assert not revoke_token(database, store, session_id=new.session.id, actor="cli:bob",
                            now_ns=clock.now_ns())


def test_the_tokens_command_issues_a_supervisor_token_as_json(database_url: str,
                                                              tmp_path: Path) -> None:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path)}
    run = [sys.executable, "-m", "paywarden"]
    assert subprocess.run([*run, "init"], env=env, check=False, capture_output=True,
                          timeout=120).returncode == 0
    out = subprocess.run([*run, "tokens", "issue", "--role", "supervisor", "--json"], env=env,
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    issued = json.loads(out.stdout)
    assert issued["token"].startswith("pws_") and issued["role"] == "supervisor"
    bad = subprocess.run([*run, "tokens", "issue", "--role", "customer", "--json"], env=env,
                         check=False, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not a staff role" in bad.stderr

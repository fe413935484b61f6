"""Who the second set of back-office pages lets in, and what each shows by role (decision
0048): customers for support, risk and supervisors (a supervisor reveals nothing); staff
and roles for security admins (supervisors read, with no action); alerts for the roles
that read them, acknowledged only by those that may; keys for security admins and
supervisors, with no secret on the page. Every page keeps the strict CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import key_versions
from paywarden.api import create_app
from paywarden.api.auth import SESSION_COOKIE
from paywarden.services.alerts import Severity

from ..support.approvals import passkey_staff
from ..support.merchants import client_for, platform_for
from ..support.platform import platform_of, staff_token

PAGES = ("/staff/customers", "/staff/people", "/staff/alerts", "/staff/keys")


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def page(api: TestClient, path: str, token: str | None) -> tuple[int, str, str]:
    api.cookies.clear()
    if token is not None:
        api.cookies.set(SESSION_COOKIE, token)
    r = api.get(path, follow_redirects=False)
    if r.status_code == 200:
        assert "script-src 'self'" in r.headers["content-security-policy"]
    return r.status_code, r.headers.get("location", ""), r.text


@pytest.mark.parametrize("path", PAGES)
def test_someone_signed_out_or_without_a_passkey_is_not_let_in(api: TestClient,
                                                                path: str) -> None:
    status, location, _ = page(api, path, None)
    assert status == 303 and location == "/signin?next=" + path
    status, _, text = page(api, path, staff_token(platform_of(api), "security_admin"))
    assert status == 403 and "passkeys only" in text


def test_each_role_is_let_into_its_pages_and_told_plainly_about_the_others(
        api: TestClient) -> None:
    allowed = {"support": {"/staff/customers", "/staff/alerts"},
               "operator": {"/staff/alerts"},
               "security_admin": {"/staff/people", "/staff/keys"},
               "supervisor": set(PAGES)}
    for role, pages in allowed.items():
        who = passkey_staff(api, f"p-{role}".replace("_", "-"), role)
        for path in PAGES:
            status, _, text = page(api, path, who.token)
            if path in pages:
                assert status == 200, (role, path)
            else:
                assert status == 403 and "Not for this role" in text, (role, path)
        status, _, text = page(api, "/staff", who.token)
        assert status == 200 and 'id="to-customers"' in text and 'id="to-keys"' in text


def test_a_supervisor_reads_but_is_offered_no_reveal_no_role_change_and_no_destruction(
        api: TestClient) -> None:
    sam = passkey_staff(api, "sam", "supervisor")
    _, _, text = page(api, "/staff/customers", sam.token)
    assert 'id="no-reveal"' in text and "button secondary small reveal" not in text
    _, _, text = page(api, "/staff/people", sam.token)
    assert "staff_people.js" not in text and "grant-button" not in text
    assert 'data-a="operator" data-b="risk"' in text  # the conflict table, in words
    _, _, text = page(api, "/staff/keys", sam.token)
    assert "staff_keys.js" not in text and "confirm-destroy" not in text
    sue = passkey_staff(api, "sue", "support")
    _, _, text = page(api, "/staff/customers", sue.token)
    assert 'id="no-reveal"' not in text and "button secondary small reveal" in text


def test_the_people_page_offers_a_security_admin_grants_for_others_but_not_for_themselves(
        api: TestClient) -> None:
    ada = passkey_staff(api, "ada", "security_admin")
    bob = passkey_staff(api, "bob", "support")
    _, _, text = page(api, "/staff/people", ada.token)
    assert f'id="grant-{bob.user.id}"' in text and f'id="grant-{ada.user.id}"' not in text
    assert "another security admin changes your roles" in text


def test_alerts_show_in_words_and_only_acknowledgers_get_the_button(api: TestClient) -> None:
    platform = platform_of(api)
    platform.alerts.raise_(kind="insider.view_burst", severity=Severity.WARNING,
                           subject="usr_0000000000000000: 31 views this hour",
                           detail={"staff": "usr_0000000000000000", "count": 31})
    rita = passkey_staff(api, "rita", "risk")
    _, _, text = page(api, "/staff/alerts", rita.token)
    assert "Unusual number of customer lookups" in text and "button primary acknowledge" in text
    sue = passkey_staff(api, "sue", "support")
    _, _, text = page(api, "/staff/alerts", sue.token)
    assert "Unusual number of customer lookups" in text
    assert "button primary acknowledge" not in text and "staff_alerts.js" not in text


def test_the_keys_page_lists_every_version_and_no_secret(api: TestClient) -> None:
    platform = platform_of(api)
    platform.keys.ensure()
    ada = passkey_staff(api, "ada", "security_admin")
    _, _, text = page(api, "/staff/keys", ada.token)
    with platform.database.engine.connect() as conn:
        rows = conn.execute(select(key_versions.c.kid, key_versions.c.wrapped_secret)).all()
    assert rows
    for kid, wrapped in rows:
        assert f'data-kid="{kid}"' in text
        assert wrapped is None or bytes(wrapped).hex() not in text

"""Who the back office pages let in (decision 0045): a member of staff signed in with a
passkey; not a customer, not a host token without a passkey, not someone signed out; and
the audit browser says plainly to a role that may not read the log that it may not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.api.auth import SESSION_COOKIE

from ..support.approvals import passkey_staff
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import platform_of, staff_token

PAGES = ("/staff", "/staff/approvals", "/staff/approvals?tab=decided", "/staff/audit")


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
    return r.status_code, r.headers.get("location", ""), r.text


@pytest.mark.parametrize("path", PAGES)
def test_someone_signed_out_is_sent_to_the_passkey_sign_in_and_back(api: TestClient,
                                                                     path: str) -> None:
    status, location, _ = page(api, path, None)
    assert status == 303 and location == "/signin?next=" + path.split("?")[0]


def test_a_customer_is_shown_the_door(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "bob")
    for path in PAGES:
        status, _, text = page(api, path, token)
        assert status == 403 and "for PayWarden staff" in text


def test_a_host_token_without_a_passkey_is_told_to_sign_in_with_one(api: TestClient) -> None:
    token = staff_token(platform_of(api), "risk")
    for path in PAGES:
        status, _, text = page(api, path, token)
        assert status == 403 and "passkeys only" in text


def test_a_passkey_member_sees_the_pages_and_the_audit_log_is_for_supervisors(
        api: TestClient) -> None:
    rita = passkey_staff(api, "rita", "risk")
    for path in PAGES:
        status, _, text = page(api, path, rita.token)
        assert status == 200, path
        assert "script-src 'self'" in api.get(path).headers["content-security-policy"]
    _, _, text = page(api, "/staff/audit", rita.token)
    assert 'id="audit-denied"' in text and "staff_audit.js" not in text
    sam = passkey_staff(api, "sam", "supervisor")
    _, _, text = page(api, "/staff/audit", sam.token)
    assert 'id="audit-denied"' not in text and "staff_audit.js" in text

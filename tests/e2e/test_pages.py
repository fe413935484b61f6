"""The buyer's pages in a real headless Chromium, against a real server process.

A virtual WebAuthn authenticator (DevTools protocol) stands in for the buyer's
device: sign-up with a passkey, sign-out, passkey sign-in, the anti-phishing
phrase, step-up approval with the page's module, and the same pages served from
another origin, where no assertion can be had.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS, _drop_pg_database, _fresh_pg_database
from tests.support.browser import VirtualAuthenticator

from .server import free_port, paywarden, serving

PHRASE = "Blue heron at dawn <b>&"  # markup in it must come back as text
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy")


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[str, dict[str, str]]]:
    """One server per backend for the module (each test signs up its own customer)."""
    data = tmp_path_factory.mktemp(f"pages-{request.param}")
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{data}/paywarden.db"
    else:
        url, pg_name = _fresh_pg_database()
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": url,
           "PAYWARDEN_DATA_DIR": str(data), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://localhost:{port}",
           "PAYWARDEN_WEBAUTHN_RP_ID": "localhost"}
    try:
        paywarden(env, "init")
        with serving(env, port, data / "server.log"):
            # WebAuthn takes a domain, not an IP address, as relying party id: the genuine
            # origin is localhost (a secure context on plain http, as 127.0.0.1 is).
            yield f"http://localhost:{port}", env
    finally:
        if pg_name is not None:
            _drop_pg_database(pg_name)


def csp_violations(page: Any) -> list[str]:
    """Console messages of the page that report a blocked script, style or connection."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if any(w in m.text for w in CSP_WORDS)
            else None)
    return seen


def sign_up(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/signup")
    page.fill("#username", username)
    page.fill("#display-name", "Alice Liddell")
    page.fill("#phrase", PHRASE)
    page.click("#create")
    arrive(page, f"{base}/account")


def arrive(page: Any, url: str) -> None:
    """Wait for ``url``; if the page reports an error instead, fail with its words."""
    page.wait_for_function("""(url) => location.href === url
        || document.querySelector("#status[data-kind='error']") !== null""", arg=url)
    if page.url != url:
        status = page.locator("#status")
        pytest.fail(f"{status.get_attribute('data-code')}: {status.text_content()}")


def test_a_customer_signs_up_with_a_passkey_signs_out_and_back_in_and_sees_the_phrase(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator]) -> None:
    base, _ = site
    page, authenticator = passkey_page
    violations = csp_violations(page)
    sign_up(page, base, "alice")
    expect(page.locator("#phrase")).to_have_text(PHRASE)
    expect(page.locator("#display-name")).to_have_text("Alice Liddell")
    held = authenticator.credentials()
    assert [(c["rpId"], c["isResidentCredential"]) for c in held] == [("localhost", True)]
    cookie = {c["name"]: c for c in page.context.cookies()}["__Host-pw_session"]
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Strict")

    page.click("#sign-out")
    page.wait_for_url(f"{base}/signin")
    page.goto(f"{base}/account")  # signed out: the account page sends you to sign in
    page.wait_for_url(f"{base}/signin?next=/account")

    page.fill("#username", "alice")
    page.click("#sign-in")
    page.wait_for_url(f"{base}/account")
    expect(page.locator("#phrase")).to_have_text(PHRASE)

    page.click("#sign-out")
    page.wait_for_url(f"{base}/signin")
    page.goto(f"{base}/signin?next=//evil.example/account")  # no way off the site
    page.click("#sign-in")  # no username: the discoverable passkey is found
    page.wait_for_url(f"{base}/account")
    expect(page.locator("#phrase")).to_have_text(PHRASE)
    assert authenticator.credentials()[0]["signCount"] >= 3
    assert violations == []


def test_the_page_module_approves_an_exact_operation_with_a_step_up_assertion(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator]) -> None:
    base, _ = site
    page, _authenticator = passkey_page
    sign_up(page, base, "bob")
    result = page.evaluate("""async () => {
        const m = await import("/static/webauthn.js");
        const shown = [];
        const approved = await m.confirmOperation(
            "/v1/auth/step-up/options", "/v1/auth/step-up/verify",
            {type: "payment", amount: 1234, currency: "EUR", payee: "Shop", reference: "o-1"},
            {onOptions: (started) => { shown.push(started.operation); }});
        const evidence = await m.api(`/v1/evidence/${approved.evidence_id}`);
        return {shown, approved, verified: evidence.verified};
    }""")
    assert result["verified"] is True
    assert result["shown"] == [result["approved"]["operation"]]
    assert result["approved"]["evidence_id"]


def test_the_same_pages_on_another_origin_get_no_session(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator],
        tmp_path: Path) -> None:
    base, env = site
    if env["PAYWARDEN_DATABASE_URL"].startswith("sqlite"):
        pytest.skip("one server per SQLite file (cli/serving.py); PostgreSQL runs this one")
    page, authenticator = passkey_page
    sign_up(page, base, "carol")
    page.click("#sign-out")
    page.wait_for_url(f"{base}/signin")

    # A look-alike site on another origin of the same host serves the very same pages
    # and API (a second server on the same database): the browser lets it ask for the
    # passkey, but the assertion names the origin it was made on, and the API refuses it.
    signed = authenticator.credentials()[0]["signCount"]
    port = free_port()
    with serving(env, port, tmp_path / "phishing.log") as phishing_ip:
        phishing = phishing_ip.replace("127.0.0.1", "localhost")
        page.goto(f"{phishing}/signin")
        page.fill("#username", "carol")
        page.click("#sign-in")
        refused = page.locator("#status[data-kind='error']")
        expect(refused).to_have_attribute("data-code", "passkey_refused")
        assert authenticator.credentials()[0]["signCount"] > signed  # it did sign
        assert not [c for c in page.context.cookies() if c["name"] == "__Host-pw_session"]
        page.goto(f"{phishing}/account")
        page.wait_for_url(f"{phishing}/signin?next=/account")
    page.goto(f"{base}/account")
    page.wait_for_url(f"{base}/signin?next=/account")

    # From an address that is no domain of the relying party, the browser itself refuses.
    before = authenticator.credentials()
    page.goto(base.replace("localhost", "127.0.0.1") + "/signin")
    page.fill("#username", "carol")
    page.click("#sign-in")
    expect(refused).to_have_attribute("data-code", "SecurityError")
    assert authenticator.credentials() == before  # nothing was signed


def test_pages_carry_strict_security_headers(site: tuple[str, dict[str, str]]) -> None:
    base, _ = site
    for path in ("/signup", "/signin"):
        r = httpx.get(f"{base}{path}")
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "<script>" not in r.text and " on" + "click=" not in r.text
    account = httpx.get(f"{base}/account")  # personal, and nobody is signed in
    assert account.status_code == 303 and account.headers["location"] == "/signin?next=/account"
    assert account.headers["cache-control"] == "no-store"
    script = httpx.get(f"{base}/static/webauthn.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    for bad in ("/static/..%2Fpages.py", "/static/pages.py", "/static/.hidden.js",
                "/static/nope.js"):
        assert httpx.get(f"{base}{bad}").status_code == 404

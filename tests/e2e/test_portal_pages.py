"""The customer portal in a real headless Chromium: the security centre (devices, passkeys,
sign-in alerts, tips) and the buyer's payments (confirm delivery, open a dispute), each
page at desktop and phone width with no sideways scrolling, and every change checked
through the API.

Screenshots go to ``PAYWARDEN_SCREENSHOT_DIR`` when it is set, else to the test's
temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.client import PayWardenClient
from tests.support.browser import VirtualAuthenticator, add_virtual_authenticator

from .server import free_port, paywarden, serving
from .test_checkout_page import ORDER, api_in_page, certified_merchant, fund_wallet
from .test_pages import csp_violations, sign_up

WIDTHS = {"desktop": 1280, "phone": 390}
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("portal")
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": f"sqlite:///{data}/paywarden.db",
           "PAYWARDEN_DATA_DIR": str(data), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://localhost:{port}",
           "PAYWARDEN_WEBAUTHN_RP_ID": "localhost"}
    paywarden(env, "init")
    with serving(env, port, data / "server.log"):
        yield f"http://localhost:{port}", env


@pytest.fixture
def screens(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    chosen = os.environ.get("PAYWARDEN_SCREENSHOT_DIR")
    if not chosen:
        return tmp_path
    folder = Path(chosen) / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Any, screens: Path, name: str) -> None:
    """A full-page screenshot at each width; at none may the page scroll sideways."""
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screens / f"{name}-{label}.png"), full_page=True)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} scrolls sideways at {width} px ({scroll} px wide)"
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def second_device(browser: Any, authenticator: VirtualAuthenticator) -> Any:
    """Another browser (an iPhone, by its User-Agent) holding a copy of the same passkey."""
    context = browser.new_context(user_agent=IPHONE)
    page = context.new_page()
    other = add_virtual_authenticator(page)
    for held in authenticator.credentials():
        other.cdp.send("WebAuthn.addCredential", {"authenticatorId": other.id, "credential": {
            key: held[key] for key in ("credentialId", "isResidentCredential", "rpId",
                                       "privateKey", "userHandle", "signCount")}})
    return page


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("#username", username)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/account")


def test_a_customer_signs_out_a_strange_device_and_manages_their_passkeys(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator],
        browser: Any, screens: Path) -> None:
    base, _ = site
    page, authenticator = passkey_page
    violations = csp_violations(page)
    sign_up(page, base, "sam")
    phone = second_device(browser, authenticator)
    try:
        sign_in(phone, base, "sam")  # a new device: the owner is told

        page.goto(f"{base}/account/security")
        expect(page.locator("nav.portal-nav a[aria-current='page']")).to_have_text("Security")
        site_links = page.locator("header nav a")  # signed in: no sign-in or sign-up offered
        expect(site_links.filter(has_text="Sign in")).to_have_count(0)
        expect(site_links.filter(has_text="Create an account")).to_have_count(0)
        expect(site_links.filter(has_text="Your bank")).to_have_count(1)
        rows = page.locator("tr.session")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("This device")
        expect(rows.nth(1)).to_contain_text("Safari on iPhone")
        expect(page.locator("[data-tip='new_sign_in']")).to_be_visible()
        expect(page.locator("[data-tip='one_passkey']")).to_be_visible()
        expect(page.locator("#notices li[data-kind='new_sign_in_origin']")).to_have_count(1)
        expect(page.locator(".revoke-passkey")).to_have_count(0)  # never the last one
        shoot(page, screens, "security")

        # The strange device is signed out: its next page asks it to sign in.
        rows.nth(1).locator(".revoke-session").click()
        page.wait_for_url("**/account/security?done=session_revoked#sessions")
        expect(page.locator("[data-tip='session_revoked']")).to_be_visible()
        assert len(api_in_page(page, "GET", "/v1/me/sessions")["body"]["data"]) == 1
        phone.goto(f"{base}/account")
        phone.wait_for_url(f"{base}/signin?next=/account")

        # Signed in there again, then every other device at once.
        sign_in(phone, base, "sam")
        page.reload()
        page.click("#revoke-others")
        page.wait_for_url("**/account/security?done=others_revoked#sessions")
        expect(page.locator("tr.session")).to_have_count(1)
        sessions = api_in_page(page, "GET", "/v1/me/sessions")["body"]["data"]
        assert [s["current"] for s in sessions] == [True]
    finally:
        phone.context.close()

    # A second passkey, on a new authenticator (the first one holds this account's already).
    authenticator.remove()
    add_virtual_authenticator(page)
    page.fill("#passkey-name", "blue security key")
    page.click("#add-passkey")
    page.wait_for_url("**/account/security?done=passkey_added#passkeys")
    expect(page.locator("[data-tip='passkey_added']")).to_be_visible()
    expect(page.locator("li.passkey")).to_have_count(2)
    shoot(page, screens, "security-two-passkeys")

    added = page.locator("li.passkey", has_text="blue security key")
    added.locator("summary").click()
    added.locator(".rename-name").fill("")
    added.locator(".rename-form button").click()
    error = added.locator(".form-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-code", "validation_failed")
    added.locator(".rename-name").fill("spare key, in the drawer")
    added.locator(".rename-form button").click()
    page.wait_for_url("**/account/security?done=passkey_renamed#passkeys")
    names = [p["name"] for p in api_in_page(page, "GET", "/v1/auth/passkeys")["body"]["data"]]
    assert names == ["passkey", "spare key, in the drawer"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("li.passkey", has_text="spare key").locator(".revoke-passkey").click()
    page.wait_for_url("**/account/security?done=passkey_revoked#passkeys")
    expect(page.locator("[data-tip='passkey_revoked']")).to_be_visible()
    listed = api_in_page(page, "GET", "/v1/auth/passkeys")["body"]["data"]
    assert [p["name"] for p in listed] == ["passkey"]
    kinds = [n["kind"] for n in api_in_page(page, "GET", "/v1/me/notifications")["body"]["data"]]
    assert kinds.count("factor_changed") >= 2 and "new_sign_in_origin" in kinds
    assert violations == []


def test_a_buyer_confirms_one_delivery_and_disputes_another_from_their_payments_page(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator],
        screens: Path, tmp_path: Path) -> None:
    base, env = site
    key, key_id, _ = certified_merchant(env, tmp_path)
    page, _ = passkey_page
    violations = csp_violations(page)
    page.goto(f"{base}/account/payments")  # signed out: sign in first, then back here
    page.wait_for_url(f"{base}/signin?next=/account/payments")
    sign_up(page, base, "pat")
    page.goto(f"{base}/account/payments")
    expect(page.locator("#no-payments")).to_be_visible()
    shoot(page, screens, "payments-empty")
    buyer = api_in_page(page, "GET", "/v1/me")["body"]["id"]
    fund_wallet(env, buyer, 20_000)

    paid = []
    with PayWardenClient(base, key_id, key, timeout_s=30) as sdk:
        for ref in ("C-1", "C-2"):
            session = sdk.request("POST", "/v1/checkout/sessions",
                                  json={**ORDER, "order_ref": ref})
            page.goto(session["url"])
            page.click("#pay")
            expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
            sdk.request("POST", f"/v1/payments/{session['payment_id']}/shipments",
                        json={"carrier": "DHL", "tracking": f"JD-{ref}"})
            paid.append(session["payment_id"])
        sdk.request("POST", "/v1/checkout/sessions", json={**ORDER, "order_ref": "C-3"})

        page.goto(f"{base}/account")
        expect(page.locator("#to-confirm")).to_contain_text("2 orders have been shipped")
        shoot(page, screens, "overview")

        page.goto(f"{base}/account/payments")
        cards = page.locator("li.payment")
        expect(cards).to_have_count(2)  # the unpaid checkout is nobody's yet
        expect(cards.first).to_have_attribute("data-payment", paid[1])  # newest first
        expect(cards.first.locator(".payment-merchant")).to_have_text("Tea Trading Ltd")
        expect(cards.first.locator(".payment-amount")).to_have_text("€54.50")
        expect(cards.first.locator(".badge")).to_have_text("Shipped")
        shoot(page, screens, "payments")

        first = page.locator(f"li.payment[data-payment='{paid[0]}']")
        first.locator(".confirm-delivery").click()
        page.wait_for_url(f"**/account/payments?done=confirmed#{paid[0]}")
        expect(page.locator("#done-note")).to_contain_text("released to the shop")
        assert sdk.request("GET", f"/v1/payments/{paid[0]}")["state"] == "released"
        expect(page.locator(f"li.payment[data-payment='{paid[0]}'] .badge")).to_have_text(
            "Complete")

        second = page.locator(f"li.payment[data-payment='{paid[1]}']")
        second.locator(".dispute summary").click()
        second.locator(".dispute-form button[type=submit]").click()  # no reason chosen
        error = second.locator(".dispute-form .form-error")
        expect(error).to_have_attribute("data-code", "reason_missing")
        expect(error).to_contain_text("Choose what is wrong")
        shoot(page, screens, "payments-dispute-form")
        second.locator(".dispute-reason").select_option("damaged")
        second.locator(".dispute-detail").fill("The teapot arrived in pieces.")
        second.locator(".dispute-form button[type=submit]").click()
        page.wait_for_url(f"**/account/payments?done=disputed#{paid[1]}")
        expect(page.locator("#done-note")).to_contain_text("Your dispute is open")
        disputed = sdk.request("GET", f"/v1/payments/{paid[1]}")
        assert (disputed["state"], disputed["dispute"]) == (
            "disputed", {"status": "open", "reason": "damaged"})
        expect(page.locator(f"li.payment[data-payment='{paid[1]}']")).to_contain_text(
            "It arrived damaged")
        shoot(page, screens, "payments-after")
    assert violations == []


@pytest.mark.parametrize("path", ["/", "/signin", "/signup", "/registry"])
def test_public_pages_fit_a_phone_and_collapse_their_menu(
        site: tuple[str, dict[str, str]], browser_page: Any, path: str) -> None:
    base, _ = site
    page = browser_page
    page.set_viewport_size({"width": WIDTHS["phone"], "height": 844})
    page.goto(f"{base}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]
    links = page.locator("#site-links")
    expect(links).to_be_hidden()
    page.click("#menu-button")
    expect(links).to_be_visible()
    expect(page.locator("#menu-button")).to_have_attribute("aria-expanded", "true")

"""Issue 11's "done when", from the pages alone: a new customer signs up in the browser,
opens accounts, tops up their wallet, pays a certified merchant's checkouts with it and
from their current account, adds another customer as a payee and pays them after the
payee's (short) cooling-off, writes a cheque that a third customer presents, and downloads
a camt.053 statement that validates and reconciles.

Only the money that arrives from another bank (the simulated rail's inbound side) and
the merchant's side of the checkout (its SDK) are not pages. Every effect is checked
through the API; the screenshots are taken at desktop and phone widths.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from paywarden.adapters.iso20022 import CAMT_053, schema
from paywarden.client import PayWardenClient
from paywarden.services.banking.statements.verify import keys_from_jwks, verify
from tests.support.bank_browser import (
    accounts,
    add_card,
    csp_violations,
    deposit,
    shoot,
    shots_dir,
    sign_up,
)
from tests.support.browser import VirtualAuthenticator, add_virtual_authenticator

from .server import free_port, paywarden, serving
from .test_checkout_page import certified_merchant

COOLING_OFF_S = 3  # a new payee's, shortened so the journey can wait through it
ORDER = {"order_ref": "J-1", "items": [{"name": "Teapot", "quantity": 1, "unit_amount": 3_450}],
         "amount": 3_450, "currency": "EUR", "return_url": "https://tea.example/thanks",
         "escrow": {"days_to_ship": 3, "release_after_days": 7}}


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://localhost:{port}",
           "PAYWARDEN_WEBAUTHN_RP_ID": "localhost",
           "PAYWARDEN_PAYEE_COOLING_OFF_S": str(COOLING_OFF_S)}
    paywarden(env, "init")
    with serving(env, port, tmp_path / "server.log"):
        yield f"http://localhost:{port}", env


def open_account(page: Any, product: str, name: str) -> None:
    before = page.locator("#accounts > li").count()
    page.select_option("#open-product", product)
    page.fill("#open-name", name)
    page.click("#open")
    expect(page.locator("#accounts > li")).to_have_count(before + 1)


def booked(page: Any) -> dict[str, int]:
    return {name: a["booked"] for name, a in accounts(page).items()}


def test_a_new_customer_banks_and_pays_a_checkout_from_the_pages_alone(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator],
        browser: Any, tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    violations = csp_violations(page)
    shots = shots_dir(tmp_path)
    key, key_id, _merchant = certified_merchant(env, tmp_path)

    # Sign up, open a current account and a wallet.
    sign_up(page, base, "journey")
    page.goto(f"{base}/bank")
    open_account(page, "current", "Everyday")
    open_account(page, "wallet", "Wallet")
    mine = accounts(page)
    deposit(env, mine["Everyday"]["iban"], 100_000)  # a salary from another bank
    page.reload()
    shoot(page, shots, "journey-1-accounts")

    # Top up the wallet: by card with a passkey, and from the current account.
    add_card(page, base)
    page.goto(f"{base}/bank/top-up")
    page.fill("#card-amount", "20.00")
    page.click("#top-up-card")
    expect(page.locator("#status[data-kind='ok']")).to_have_text(
        "Your wallet was topped up with €20.00.")
    page.fill("#account-amount", "30")
    page.click("#top-up-account")
    expect(page.locator("#status[data-kind='ok']")).to_have_text(
        "Your wallet was topped up with €30.00.")
    shoot(page, shots, "journey-2-topped-up")
    assert booked(page) == {"Everyday": 97_000, "Wallet": 5_000}

    # Pay a certified merchant's checkout from the wallet.
    with PayWardenClient(base, key_id, key, timeout_s=30) as sdk:
        session = sdk.request("POST", "/v1/checkout/sessions", json=ORDER)
        page.goto(session["url"])
        page.check("input[name=method][value=wallet]")
        page.click("#pay")
        expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
        assert sdk.request("GET", f"/v1/payments/{session['payment_id']}")["state"] == "held"
        # And a second order from the current account, named on the checkout page.
        second = sdk.request("POST", "/v1/checkout/sessions", json={**ORDER, "order_ref": "J-2"})
        page.goto(second["url"])
        page.check(f"input[name=method][data-account='{mine['Everyday']['id']}']")
        page.click("#pay")
        expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
        assert sdk.request("GET", f"/v1/payments/{second['payment_id']}")["state"] == "held"
    shoot(page, shots, "journey-3-paid")
    assert booked(page) == {"Everyday": 97_000 - 3_450, "Wallet": 5_000 - 3_450}
    page.goto(f"{base}/bank")
    wallet = page.locator(f"li[data-account='{mine['Wallet']['id']}']")
    expect(wallet.locator(".booked")).to_have_text("€15.50")

    # Add a friend, another PayWarden customer, as a payee (confirmation of payee, a
    # passkey), wait through the cooling-off, and pay them more than a cooling payee may
    # receive.
    friend_context = browser.new_context()
    try:
        friend_page = friend_context.new_page()
        add_virtual_authenticator(friend_page)
        sign_up(friend_page, base, "journey-friend", "Grace Hopper")
        friend_page.goto(f"{base}/bank")
        open_account(friend_page, "current", "Everyday")
        friend = accounts(friend_page)["Everyday"]
        page.goto(f"{base}/bank/payees")
        page.fill("#payee-name", "Grace Hopper")
        page.fill("#payee-iban", friend["iban"])
        expect(page.locator("#cop")).to_have_attribute("data-result", "match")
        page.click("#add-payee")
        expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
        payee_id = page.locator("#status").get_attribute("data-payee")
        shoot(page, shots, "journey-4-payee-added")
        page.click(f"li[data-payee='{payee_id}'] a")  # Send money
        page.wait_for_url(f"{base}/bank/transfers?payee={payee_id}")
        expect(page.locator("#payee-cooling")).to_be_visible()
        time.sleep(COOLING_OFF_S + 0.5)
        page.reload()
        expect(page.locator("#payee-cooling")).to_be_hidden()
        expect(page.locator("#transfer-payee")).to_have_value(str(payee_id))
        page.fill("#transfer-amount", "75.25")
        page.fill("#transfer-reference", "Concert tickets")
        page.click("#send")
        expect(page.locator("#status[data-kind='ok']")).to_have_text(
            "Sent €75.25 to Grace Hopper.")
        shoot(page, shots, "journey-5-transferred")
        assert booked(page) == {"Everyday": 97_000 - 3_450 - 7_525, "Wallet": 5_000 - 3_450}
        assert accounts(friend_page)["Everyday"]["booked"] == 7_525
    finally:
        friend_context.close()

    # -- cheque step: writes a cheque that another customer presents ---------------------
    writes_a_cheque_that_another_customer_presents(page, base, shots)
    # -- end of the cheque step ----------------------------------------------------------

    # Download a camt.053 statement of the current account from the statements page: it
    # validates against the official schema and reconciles with the account's balance.
    page.click("nav.portal-nav a[data-section='statements']")
    page.wait_for_url(f"{base}/bank/statements")
    page.select_option("#statement-account", mine["Everyday"]["id"])
    page.select_option("#statement-format", "camt053")
    with page.expect_download() as caught:
        page.click("#statement-download")
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    schema(CAMT_053).validate(saved.read_bytes())
    report = verify(saved.read_bytes(),
                    keys_from_jwks(httpx.get(f"{base}/.well-known/jwks.json").json()))
    assert report.ok and report.sealed is not None, report.checks
    s = report.sealed.statement
    assert s.iban == mine["Everyday"]["iban"]
    assert s.opening_balance_minor + sum(e.amount_minor for e in s.entries) == (
        s.closing_balance_minor) == booked(page)["Everyday"]
    shoot(page, shots, "journey-6-statement")
    assert violations == []


# -- the cheque step (issue 11, "done when": writes a cheque that another customer presents)

CHEQUE_MINOR = 2_500


def writes_a_cheque_that_another_customer_presents(page: Any, base: str, shots: Path) -> None:
    """From the pages alone: the journey's customer writes a cheque on their current
    account (a passkey step-up over the exact cheque) to a second customer, who signs up
    in their own browser, pastes the cheque's text and presents it. The money moves once,
    from the drawer's Everyday to the payee's."""
    context = page.context.browser.new_context()
    try:
        payee = context.new_page()
        add_virtual_authenticator(payee)
        payee_violations = csp_violations(payee)
        sign_up(payee, base, "journey-cheque-payee", "Grace Hopper")
        payee.goto(f"{base}/bank")
        open_account(payee, "current", "Everyday")
        theirs = accounts(payee)["Everyday"]
        drawer_before = booked(page)["Everyday"]

        page.click("nav.portal-nav a[data-section='cheques']")
        page.wait_for_url(f"{base}/bank/cheques")
        page.click("nav.bank-nav a[href='/bank/cheques/write']")
        page.fill("#write-payee-name", "Grace Hopper")
        page.fill("#write-payee-iban", theirs["iban"])
        page.fill("#write-amount", "25")
        page.click("#write")
        page.wait_for_url(f"{base}/bank/cheques/chq_*?done=written")
        expect(page.locator("#cheque-state")).to_have_text("Issued")
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.click("#copy-cheque")
        text = page.evaluate("navigator.clipboard.readText()")  # what the drawer sends
        shoot(page, shots, "journey-5-cheque-written")

        payee.goto(f"{base}/bank/cheques/present")
        payee.fill("#present-text", text)
        payee.click("#present")
        expect(payee.locator("#status[data-kind='ok']")).to_have_text(
            "The cheque is paid: €25.00 is in your account Everyday.")
        expect(payee.locator("#present-balance")).to_have_text("€25.00")
        shoot(payee, shots, "journey-6-cheque-presented")
        assert booked(payee) == {"Everyday": CHEQUE_MINOR}
        assert booked(page)["Everyday"] == drawer_before - CHEQUE_MINOR
        page.reload()
        expect(page.locator("#cheque-state")).to_have_text("Paid")
        assert payee_violations == []
    finally:
        context.close()

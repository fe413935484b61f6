"""The whole escrow flow against a real server: the merchant side through the SDK, the buyer
side in headless Chromium with a virtual passkey. The buyer sees the certified merchant's
legal name and domain, the exact items and amount and their own anti-phishing phrase,
confirms the exact order with the passkey, and the money is held, shipped and released."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import expect

from paywarden.bootstrap import build
from paywarden.client import PayWardenClient
from paywarden.domain.ledger import Transfer, TransferResult
from paywarden.domain.risk import Decision, Rule, RuleState
from paywarden.services.ledger.accounts import AccountRef, ensure, platform_account
from paywarden.settings import Settings
from tests.support.bank_browser import shoot, shots_dir
from tests.support.browser import VirtualAuthenticator
from tests.support.risk_rules import rule_enabled

from .server import free_port, paywarden, serving

PHRASE = "green kettle 42"
ORDER = {"order_ref": "B-77", "items": [{"name": "Teapot", "quantity": 1, "unit_amount": 3_450},
                                         {"name": "Cups", "quantity": 4, "unit_amount": 500}],
         "amount": 5_450, "currency": "EUR", "return_url": "https://tea.example/thanks",
         "escrow": {"days_to_ship": 3, "release_after_days": 7}}


def site_env(database_url: str, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """A server's environment on ``port``, initialised."""
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://localhost:{port}",
           "PAYWARDEN_WEBAUTHN_RP_ID": "localhost", **extra}
    paywarden(env, "init")
    return env


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = site_env(database_url, tmp_path, port)
    with serving(env, port, tmp_path / "server.log"):
        yield f"http://localhost:{port}", env


def certified_merchant(env: dict[str, str], tmp_path: Path) -> tuple[Ed25519PrivateKey, str, str]:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "tea.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    made = json.loads(paywarden(env, "merchants", "create", "--name", "Tea", "--public-key",
                                str(tmp_path / "tea.pem"), "--json").stdout)
    mid = made["merchant_id"]
    paywarden(env, "merchants", "certification", "apply", mid, "--legal-name",
              "Tea Trading Ltd", "--registration-number", "HRB 1", "--address", "1 Tea Lane",
              "--contact-email", "owner@tea.example", "--domain", "tea.example")
    paywarden(env, "merchants", "certification", "verify", mid, "tea.example", "--attest")
    paywarden(env, "merchants", "certify", mid)
    return key, made["key_id"], mid


def fund_wallet(env: dict[str, str], user_id: str, amount: int) -> None:
    """A deposit, made by a second process on the same database (as a bank counter would)."""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    try:
        wallet, clearing = AccountRef("wallet", user_id, "EUR"), platform_account(
            "bank_clearing", "EUR")
        if platform.queries.ledger_by_currency("EUR") is None:
            platform.queries.create_ledger("EUR", now_ns=platform.clock.now_ns())
        ensure(platform.engine, [wallet, clearing])
        assert platform.engine.execute([Transfer(f"dep-{user_id}", clearing.id, wallet.id,
                                                 amount, wallet.ledger, 1)]) == [
            TransferResult.OK]
    finally:
        platform.stop()


def sign_up(page: Any, base: str, username: str, display_name: str) -> str:
    """A buyer signs up with a passkey and the anti-phishing phrase; their user id."""
    page.goto(f"{base}/signup")
    page.fill("#username", username)
    page.fill("#display-name", display_name)
    page.fill("#phrase", PHRASE)
    page.click("#create")
    page.wait_for_url(f"{base}/account")
    return str(api_in_page(page, "GET", "/v1/me")["body"]["id"])


def api_in_page(page: Any, method: str, path: str) -> Any:
    return page.evaluate("""async ([method, path]) => {
        const r = await fetch(path, {method, headers: {"Content-Type": "application/json"}});
        return {status: r.status, body: await r.json()};
    }""", [method, path])


def test_a_buyer_pays_a_certified_merchant_on_the_hosted_page(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator],
        tmp_path: Path) -> None:
    base, env = site
    key, key_id, merchant_id = certified_merchant(env, tmp_path)
    page, _ = passkey_page
    buyer = sign_up(page, base, "tea-lover", "Tea Lover")
    fund_wallet(env, buyer, 10_000)

    with PayWardenClient(base, key_id, key, timeout_s=30) as sdk:
        session = sdk.request("POST", "/v1/checkout/sessions", json=ORDER)
        page.goto(session["url"])
        expect(page.locator("#legal-name")).to_have_text("Tea Trading Ltd")
        expect(page.locator("#domain")).to_have_text("tea.example")
        expect(page.locator("#amount")).to_have_text("54.50 EUR")
        expect(page.locator("#items tbody tr")).to_have_count(2)
        expect(page.locator("#phrase")).to_have_text(PHRASE)
        page.click("#pay")
        expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
        expect(page.locator("#return")).to_have_attribute("href", ORDER["return_url"])
        pid = session["payment_id"]
        assert sdk.request("GET", f"/v1/payments/{pid}")["state"] == "held"
        shipped = sdk.request("POST", f"/v1/payments/{pid}/shipments",
                              json={"carrier": "DHL", "tracking": "JD1"})
        assert shipped["state"] == "shipped"
        confirmed = api_in_page(page, "POST", f"/v1/payments/{pid}/confirm")
        assert confirmed["status"] == 200 and confirmed["body"]["state"] == "released"
        paid = sdk.request("GET", f"/v1/payments/{pid}")
        assert (paid["released"], paid["fee"]) == (5_450 - 81, 81)  # 1.5 % rounded down
    page.goto(session["url"])  # a paid order cannot be paid again
    expect(page.locator("#status")).to_contain_text("released")
    assert merchant_id.startswith("mer_")


INTERNAL_WORDS = ("exceeds_credits", "insufficient_funds", "ledger refused", "[", "_")


def test_a_buyer_who_cannot_pay_reads_what_happened_and_what_to_do_in_plain_words(
        site: tuple[str, dict[str, str]], passkey_page: tuple[Any, VirtualAuthenticator],
        tmp_path: Path) -> None:
    base, env = site
    key, key_id, _ = certified_merchant(env, tmp_path)
    page, _ = passkey_page
    buyer = sign_up(page, base, "short-of-money", "Short Of Money")
    fund_wallet(env, buyer, 1_000)  # 10.00 EUR for a 54.50 EUR order

    with PayWardenClient(base, key_id, key, timeout_s=30) as sdk:
        session = sdk.request("POST", "/v1/checkout/sessions", json=ORDER)
        page.goto(session["url"])
        page.click("#pay")
        status = page.locator("#status[data-kind='error']")
        expect(status).to_have_attribute("data-code", "insufficient_funds")
        shown = status.text_content() or ""
        page.screenshot(path=str(tmp_path / "insufficient-funds.png"), full_page=True)
        assert "balance is too low" in shown and "nothing was taken" in shown
        assert "Top up your wallet on your bank page (/bank), or choose another way to pay." in shown
        assert not [w for w in INTERNAL_WORDS if w in shown], shown

        small = sdk.request("POST", "/v1/checkout/sessions", json={
            **ORDER, "order_ref": "B-78", "amount": 500,
            "items": [{"name": "Tea bags", "quantity": 1, "unit_amount": 500}]})
        page.goto(small["url"])
        page.click("#pay")
        expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
    page.goto(small["url"])  # paid: held, and the page says what comes next
    held = page.locator("#status")
    expect(held).to_contain_text("You have already paid for this order.")
    expect(held).to_contain_text("until you confirm the goods arrived")
    expect(page.locator("#return")).to_have_attribute("href", ORDER["return_url"])
    expect(page.locator("#done")).to_be_visible()
    page.screenshot(path=str(tmp_path / "already-held.png"), full_page=True)


def hold_pays_for_review(env: dict[str, str]) -> None:
    """A rule sending every pay to an analyst, enabled as rules are (shadow, back-test, a
    second staff member's approval), by a second process on the same database."""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    try:
        rules = platform.risk.rules
        rules.publish([*rules.current().rules, Rule(
            "check_pays", 'kind == "pay" and amount_minor >= 1', Decision.REVIEW,
            "check_pays", RuleState.SHADOW)], actor="ann")
        rule_enabled(platform, "check_pays")
    finally:
        platform.stop()


def test_a_pay_held_for_review_reads_as_being_checked_until_an_analyst_releases_it(
        database_url: str, tmp_path: Path, passkey_page: tuple[Any, VirtualAuthenticator]
        ) -> None:
    """Decision 0039 from the buyer's side: the hosted page and the payments page say the
    payment is being checked (not an error); an analyst's release makes it an ordinary
    held payment."""
    port = free_port()
    env = site_env(database_url, tmp_path, port, PAYWARDEN_RISK_RULES_CACHE_S="0")
    shots = shots_dir(tmp_path)
    key, key_id, _ = certified_merchant(env, tmp_path)
    hold_pays_for_review(env)
    with serving(env, port, tmp_path / "server.log"):
        base = f"http://localhost:{port}"
        page, _ = passkey_page
        fund_wallet(env, sign_up(page, base, "careful-buyer", "Careful Buyer"), 10_000)
        with PayWardenClient(base, key_id, key, timeout_s=30) as sdk:
            session = sdk.request("POST", "/v1/checkout/sessions", json=ORDER)
            pid = session["payment_id"]
            page.goto(session["url"])
            page.click("#pay")
            expect(page.locator("#status")).to_have_attribute("data-kind", "info")
            expect(page.locator("#status")).to_contain_text("security check")
            shoot(page, shots, "review-1-checkout-being-checked")
            assert sdk.request("GET", f"/v1/payments/{pid}")["state"] == "under_review"
            page.goto(f"{base}/account/payments")
            expect(page.get_by_text("Being checked")).to_be_visible()
            shoot(page, shots, "review-2-payments-being-checked")

            token = json.loads(paywarden(env, "tokens", "issue", "--role", "risk",
                                         "--json").stdout)["token"]
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=auth, timeout=30) as staff:
                cases = staff.get("/v1/risk/cases").json()["data"]
                [case] = [c for g in cases for c in g["cases"] if c["object_id"] == pid]
                r = staff.post(f"/v1/risk/cases/{case['id']}/release",
                               json={"reason": "a known customer's usual shop"})
                assert r.status_code == 200, r.text
            assert sdk.request("GET", f"/v1/payments/{pid}")["state"] == "held"
        page.reload()
        expect(page.get_by_text("Being checked")).to_have_count(0)
        shoot(page, shots, "review-3-payments-released")

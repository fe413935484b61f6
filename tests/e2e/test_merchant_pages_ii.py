"""The merchant dashboard's balance, certification and webhooks pages in a real headless
Chromium against a real server (decision 0052): an owner sees the balance a released
payment credited and that payouts are not built; sees the certificate and downloads it;
sets the webhook endpoint to a local receiver, sends a test event that arrives signed and
shows in the delivery log. Support is refused all three. Photographed at desktop and
phone widths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from playwright.sync_api import expect

from paywarden.api import create_app
from paywarden.client.webhooks import verify_webhook
from paywarden.domain.escrow import ConfirmReceipt, PartyRole, Ship
from paywarden.services.payments import Party
from tests.conftest import BACKENDS
from tests.integration.test_approvals import paid
from tests.support.bank_browser import api_in_page, csp_violations, shoot, shots_dir
from tests.support.merchants import client_for
from tests.support.webhook_receiver import webhook_receiver

from .bank_site import Site, bank_site
from .test_merchant_pages import invite, joiner, platform_of_site

DELIVERY_WAIT_MS = 15_000  # the dispatcher runs every webhook_dispatch_interval_s


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"mpages2-{request.param}"),
                   webhook_allow_http="true", webhook_allow_private_addresses="true",
                   webhook_dispatch_interval_s="0.5") as site:
        yield site


def released_shop(env: dict[str, str]) -> tuple[str, str]:
    """A certified shop whose 50.00 EUR payment was shipped and released to it, and the
    host's invitation of its first owner: (merchant id, token)."""
    platform = platform_of_site(env)
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        payment_id, _ = paid(api)
        view = platform.payments.get(payment_id)
        shop_id = view.merchant_id
        platform.payments.apply(payment_id, Ship("DHL", "JD0123456789"),
                                party=Party(PartyRole.MERCHANT, shop_id))
        platform.payments.apply(payment_id, ConfirmReceipt(),
                                party=Party(PartyRole.BUYER, view.buyer_id))
    token = platform.merchant_users.invite(shop_id, email="owner@shop.example", role="owner",
                                           actor="cli:test", first_owner=True).token
    platform.database.dispose()  # no connection left for the garbage collector to warn of
    return shop_id, token


def test_an_owner_reads_the_balance_downloads_the_certificate_and_tests_the_webhook(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    _, token = released_shop(env)
    ctx, owner = joiner(browser, f"{base}/merchant/join#{token}", "olga")
    blocked = csp_violations(owner)

    # The balance: what the released payment credited, and no pretended payouts.
    owner.click("#to-balance")
    eur = owner.locator("section.balance[data-currency='EUR']")
    available = eur.locator(".available .money")
    expect(available).to_have_count(1)
    assert int(available.get_attribute("data-amount") or "0") > 0
    expect(owner.locator("#payouts")).to_contain_text("not built")
    api_balance = api_in_page(owner, "GET", "/v1/merchants/me/balance")["body"]
    assert api_balance["payouts"] == "not_built"
    assert [b["available"] for b in api_balance["data"] if b["currency"] == "EUR"] == [
        int(available.get_attribute("data-amount") or "0")]
    shoot(owner, shots, "merchant-balance")

    # Certification: active, the domain verified, the certificate downloads as PEM.
    owner.goto(f"{base}/merchant")
    owner.click("#to-certification")
    expect(owner.locator("#cert-status")).to_have_text("active")
    expect(owner.locator("li.domain[data-verified='true']")).to_have_count(1)
    with owner.expect_download() as saving:
        owner.click("#download-cert")
    pem = Path(saving.value.path()).read_bytes()
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert x509.load_pem_x509_certificate(pem).not_valid_after_utc is not None
    shoot(owner, shots, "merchant-certification")

    # Webhooks: the endpoint set to a local receiver; a test event arrives signed.
    with webhook_receiver() as receiver:
        owner.goto(f"{base}/merchant")
        owner.click("#to-webhooks")
        owner.fill("#url", receiver.url)
        owner.click("#save-endpoint")
        expect(owner.locator("#current-url")).to_have_text(receiver.url)
        owner.click("#send-test")
        expect(owner.locator("#status")).to_contain_text("queued")
        event_id = owner.locator("#status").get_attribute("data-event")
        for _ in range(DELIVERY_WAIT_MS // 500):
            if any(b"test.ping" in r.body for r in receiver.received):
                break
            owner.wait_for_timeout(500)
        (got,) = [r for r in receiver.received if b"test.ping" in r.body]
        jwks = httpx.get(f"{base}/.well-known/jwks.json").json()
        event = verify_webhook(got.method, receiver.url, got.headers, got.body, jwks)
    assert event["id"] == event_id and event["type"] == "test.ping"
    assert event["data"]["test"] is True
    owner.reload()
    logged = owner.locator(f"article.event[data-id='{event_id}']")
    expect(logged).to_have_attribute("data-state", "delivered")
    expect(logged.locator(".answer").first).to_have_text("HTTP 200")
    shoot(owner, shots, "merchant-webhooks")

    # Support sees none of the three pages, and the balance API refuses them.
    sue_ctx, sue = joiner(browser, invite(owner, "sue@shop.example", "support"), "sue")
    blocked += csp_violations(sue)
    for link in ("#to-balance", "#to-certification", "#to-webhooks"):
        expect(sue.locator(link)).to_have_count(0)
    for path in ("balance", "certification", "webhooks", "certification/certificate.pem"):
        sue.goto(f"{base}/merchant/{path}")
        expect(sue.locator("#denied")).to_be_visible()
    assert api_in_page(sue, "GET", "/v1/merchants/me/balance")["status"] == 403
    assert api_in_page(sue, "POST", "/v1/merchants/me/webhook-events/test")["status"] == 403

    assert blocked == []
    for c in (ctx, sue_ctx):
        c.close()

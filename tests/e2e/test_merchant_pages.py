"""The merchant dashboard in a real headless Chromium against a real server (decision 0052):
an owner invited from the host joins from the link, sets the refund threshold and invites
support and a second owner, who join from theirs; support ships a paid order and refunds
over the threshold (202: it waits); the second owner approves it in the inbox with a
passkey and the money moves once; an owner of another merchant sees none of it.
Photographed at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.client import PayWardenClient
from paywarden.client.errors import AuthenticationFailed
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.integration.test_approvals import paid
from tests.support.bank_browser import api_in_page, csp_violations, shoot, shots_dir
from tests.support.browser import PAGE_TIMEOUT_MS, add_virtual_authenticator
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for, make_merchant

from .bank_site import Site, bank_site


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"mpages-{request.param}")) as site:
        yield site


def platform_of_site(env: dict[str, str]) -> Any:
    """The site's platform built in this process, as the host CLI would (test origin)."""
    return build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                          data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                          webauthn_rp_id=RP_ID))


def setup(env: dict[str, str]) -> tuple[str, str, str]:
    """A held 50.00 EUR payment of a certified shop, and host invitations of the first
    owner of that shop and of another merchant, as ``paywarden merchants users invite``
    makes them: (payment id, the shop owner's token, the other owner's token)."""
    platform = platform_of_site(env)
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        payment_id, _ = paid(api)
    shop_id = platform.payments.get(payment_id).merchant_id
    other_id = make_merchant(platform, "Elsewhere").merchant_id
    tokens = [platform.merchant_users.invite(mid, email=f"owner@{n}.example", role="owner",
                                             actor="cli:test", first_owner=True).token
              for n, mid in (("shop", shop_id), ("elsewhere", other_id))]
    platform.database.dispose()  # no connection left for the garbage collector to warn of
    return payment_id, tokens[0], tokens[1]


def joiner(browser: Any, url: str, username: str, shots: Path | None = None
           ) -> tuple[Any, Any]:
    """A person opens their invitation link, chooses a username, makes a passkey and
    lands on the merchant dashboard, signed in with it; (context, page)."""
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    add_virtual_authenticator(page)
    page.goto(url)
    assert "#" not in page.url  # the token leaves the address bar at once
    expect(page.locator("html[data-ready='true']")).to_have_count(1)
    page.fill("#username", username)
    page.fill("#display-name", username.title())
    if shots is not None:
        shoot(page, shots, "merchant-join")
    page.click("#create")
    expect(page).to_have_url(url.split("/merchant/")[0] + "/merchant")
    return context, page


def invite(page: Any, email: str, role: str) -> str:
    """An owner invites someone from the people page; the one-time link it shows."""
    page.goto(page.url.split("/merchant")[0] + "/merchant/people")
    page.fill("#email", email)
    page.select_option("#role", role)
    page.click("#send-invite")
    expect(page.locator("#invitation")).to_be_visible()
    link: str = page.locator("#invite-link").inner_text()
    assert "/merchant/join#pwi_" in link
    return link


def test_support_refunds_over_the_threshold_and_a_second_owner_approves_it_in_the_inbox(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    payment_id, owner_token, other_token = setup(env)

    # The first owner joins from the host's link and sees their merchant and role.
    olive_ctx, olive = joiner(browser, f"{base}/merchant/join#{owner_token}", "olive", shots)
    blocked = csp_violations(olive)
    expect(olive.locator("#merchant-name")).to_have_text("Shop")
    expect(olive.locator("#role")).to_have_text("Owner")
    shoot(olive, shots, "merchant-home")

    # She sets the threshold at 10.00 and invites support and a second owner.
    olive.click("#to-settings")
    olive.fill("#least", "1000")
    olive.click("#save")
    expect(olive.locator("#current")).to_contain_text("1000 minor units")
    shoot(olive, shots, "merchant-settings")
    sue_link = invite(olive, "sue@shop.example", "support")
    otto_link = invite(olive, "otto@shop.example", "owner")
    shoot(olive, shots, "merchant-people")

    # Support joins, ships the paid order and refunds 20.00: it waits for a second owner.
    sue_ctx, sue = joiner(browser, sue_link, "sue")
    blocked += csp_violations(sue)
    expect(sue.locator("#role")).to_have_text("Support")
    expect(sue.locator("#to-people")).to_have_count(0)
    sue.click("#to-payments")
    order = sue.locator(f"article.payment[data-id='{payment_id}']")
    order.locator("input[name='carrier']").fill("DHL")
    order.locator("input[name='tracking']").fill("JD0123456789")
    order.locator("form.ship button").click()
    expect(order.locator(".outcome[data-kind='ok']")).to_contain_text("Shipped with DHL")
    order.locator("input[name='amount']").fill("20.00")
    order.locator("form.refund button").click()
    expect(order.locator(".outcome[data-code='waits_for_approval']")).to_contain_text(
        "waits for a second owner")
    shoot(sue, shots, "merchant-payments")
    assert api_in_page(sue, "GET", f"/v1/payments/{payment_id}")["body"]["refunded"] == 0
    order.locator("a.to-approvals").click()
    mine = sue.locator("article.approval").first
    expect(mine).to_contain_text("Waiting for someone else")
    expect(mine.locator("button.approve")).to_have_count(0)
    approval_id = mine.get_attribute("data-id")

    # The second owner joins and approves it with a passkey: the money moves once.
    otto_ctx, otto = joiner(browser, otto_link, "otto")
    blocked += csp_violations(otto)
    otto.click("#to-approvals")
    theirs = otto.locator(f"article.approval[data-id='{approval_id}']")
    expect(theirs.locator("h2")).to_contain_text("€20.00")
    expect(theirs.locator(".submitter")).to_have_text("Sue (sue)")
    shoot(otto, shots, "merchant-inbox")
    theirs.locator("button.approve").click()
    expect(theirs.locator(".outcome[data-kind='ok']")).to_contain_text("Executed")
    shoot(otto, shots, "merchant-inbox-executed")
    after = api_in_page(otto, "GET", f"/v1/payments/{payment_id}")["body"]
    assert after["refunded"] == 20_00 and after["held"] == 30_00

    # An owner of another merchant sees none of it, from the pages or the API.
    xena_ctx, xena = joiner(browser, f"{base}/merchant/join#{other_token}", "xena")
    blocked += csp_violations(xena)
    expect(xena.locator("#merchant-name")).to_have_text("Elsewhere")
    xena.click("#to-approvals")
    expect(xena.locator("#empty")).to_be_visible()
    xena.goto(f"{base}/merchant/approvals?tab=decided")
    expect(xena.locator("article.approval")).to_have_count(0)
    xena.goto(f"{base}/merchant/payments")
    expect(xena.locator("#empty")).to_be_visible()
    assert api_in_page(xena, "GET", f"/v1/payments/{payment_id}")["status"] == 404
    assert api_in_page(xena, "GET", f"/v1/approvals/{approval_id}")["status"] == 404
    assert api_in_page(xena, "GET", "/v1/merchants/me/payments")["body"]["data"] == []

    assert blocked == []
    for ctx in (olive_ctx, sue_ctx, otto_ctx, xena_ctx):
        ctx.close()


def test_a_developer_makes_a_key_in_the_browser_signs_with_it_and_revokes_it(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    platform = platform_of_site(env)
    shop_id = make_merchant(platform, "Key Shop").merchant_id
    token = platform.merchant_users.invite(shop_id, email="owner@keys.example", role="owner",
                                           actor="cli:test", first_owner=True).token
    platform.database.dispose()
    owner_ctx, owner = joiner(browser, f"{base}/merchant/join#{token}", "kim")
    dev_link = invite(owner, "dev@keys.example", "developer")
    support_link = invite(owner, "sam@keys.example", "support")

    # The developer makes a key: the browser saves the private key; the server has the public.
    dev_ctx, dev = joiner(browser, dev_link, "dave")
    blocked = csp_violations(dev)
    expect(dev.locator("#role")).to_have_text("Developer")
    expect(dev.locator("#to-approvals")).to_have_count(0)
    dev.click("#to-keys")
    with dev.expect_download() as saving:
        dev.click("#make-key")
    private_pem = Path(saving.value.path()).read_bytes()
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    key_id = dev.locator("#new-key-id").inner_text()
    shoot(dev, shots, "merchant-keys")
    assert private_pem.decode().split("-----")[2].strip()[:40] not in (
        Path(env["PAYWARDEN_DATA_DIR"]) / "server.log").read_text()

    # A request signed with the downloaded private key is accepted as the merchant.
    with PayWardenClient(base, key_id, private_pem) as client:
        assert client.me()["id"] == shop_id

        # Revoked from the page, the key signs nothing more.
        dev.reload()
        dev.locator(f"li.key[data-id='{key_id}'] button.revoke").click()
        expect(dev.locator(f"li.key[data-id='{key_id}'][data-active='false']")).to_have_count(1)
        with pytest.raises(AuthenticationFailed):
            client.me()

    # Support holds no keys: the page says so, and the API refuses.
    sam_ctx, sam = joiner(browser, support_link, "sam")
    expect(sam.locator("#to-keys")).to_have_count(0)
    sam.goto(f"{base}/merchant/keys")
    expect(sam.locator("#denied")).to_contain_text("owners and developers")
    assert api_in_page(sam, "POST", "/v1/merchants/me/keys", {"public_key": "x"})[
        "status"] == 403

    assert blocked == []
    for ctx in (owner_ctx, dev_ctx, sam_ctx):
        ctx.close()

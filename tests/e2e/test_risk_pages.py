"""The analysts' pages in a real headless Chromium against a real server: a risk analyst
signs in with password + TOTP (the phrase shown before the code), sees the queue grouped per
customer with SLA timers, opens a case (evidence, held movement, history), re-runs it,
labels it, releases one case and declines another — each checked through the API and the
customer's notifications. A customer's session is shown the door. Photographed at desktop
and phone widths."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from paywarden.bootstrap import build
from paywarden.domain.money import Money
from paywarden.services.banking.movements import Movement, MovementKind
from paywarden.services.identity import otp
from paywarden.services.identity.enrolment import create_staff
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.support.bank_browser import api_in_page, csp_violations, deposit, shoot, shots_dir
from tests.support.bank_browser import sign_up as customer_sign_up
from tests.support.browser import add_virtual_authenticator

from .bank_site import Site, bank_site

PASSWORD = "correct horse battery staple 42"
QUICK = 12  # transfers in a minute: the last two are held for review


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"risk-{request.param}"),
                   risk_case_sla_s="3600") as site:
        yield site


def platform_on(env: dict[str, str]) -> Any:
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    return platform


def analyst(base: str, env: dict[str, str], username: str) -> str:
    """A risk staff member enrolled with a password and TOTP, as the CLI and API do; the
    TOTP secret. The confirming code is the previous step's, so the current one is free."""
    platform = platform_on(env)
    try:
        made = create_staff(platform.credentials, username=username, role="risk",
                            display_name="Rita Analyst", actor="cli:test", ttl_s=3600,
                            ttl_s_max=platform.settings.staff_token_ttl_s_max)
    finally:
        platform.stop()
    auth = {"Authorization": f"Bearer {made.enrolment.token}"}
    with httpx.Client(base_url=base) as http:
        r = http.put("/v1/me/password", headers=auth, json={"new_password": PASSWORD})
        assert r.status_code == 200, r.text
        r = http.post("/v1/me/totp", headers=auth)
        assert r.status_code == 201, r.text
        secret = str(r.json()["secret"])
        code = otp.code_at(secret, otp.step_at(time.time_ns()) - 1)
        r = http.post("/v1/me/totp/confirm", headers=auth, json={"code": code})
        assert r.status_code == 200, r.text
    return secret


def quick_transfers(env: dict[str, str], from_account: str, to_account: str,
                    user_id: str) -> None:
    """Twelve 5.00 EUR transfers in a minute, as the customer's own API calls would make."""
    platform = platform_on(env)
    try:
        for i in range(QUICK):
            platform.banking.movements.execute(Movement(
                "web-" + secrets.token_hex(8), MovementKind.INTERNAL, user_id, from_account,
                to_account, Money(5_00, "EUR"), f"quick {i}"), stepped_up=True)
    finally:
        platform.stop()


def test_an_analyst_works_the_queue_from_the_pages(browser: Any, site: Site,
                                                   tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    tag = secrets.token_hex(3)
    # A customer whose quick transfers are held, and the payee's customer.
    ada_ctx = browser.new_context()
    ada = ada_ctx.new_page()
    add_virtual_authenticator(ada)
    ada_id = customer_sign_up(ada, base, f"ada{tag}")
    ada_acc = api_in_page(ada, "POST", "/v1/me/accounts",
                          {"product": "current", "currency": "EUR", "name": "Everyday"})["body"]
    deposit(env, ada_acc["iban"], 500_00)
    bob_ctx = browser.new_context()
    bob = bob_ctx.new_page()
    add_virtual_authenticator(bob)
    customer_sign_up(bob, base, f"bob{tag}", "Bob Payee")
    bob_acc = api_in_page(bob, "POST", "/v1/me/accounts",
                          {"product": "current", "currency": "EUR", "name": "Everyday"})["body"]
    quick_transfers(env, ada_acc["id"], bob_acc["id"], ada_id)

    # A customer is not let into the queue.
    ada.goto(f"{base}/risk")
    expect(ada.locator("h1")).to_have_text("Not for this account")

    # The analyst signs in: password, the phrase, then the code.
    secret = analyst(base, env, f"rita{tag}")
    context = browser.new_context()
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{base}/risk")
    expect(page).to_have_url(f"{base}/staff/signin")
    page.fill("#username", f"rita{tag}")
    page.fill("#password", PASSWORD)
    page.click("#next")
    expect(page.locator("#code-form")).to_be_visible()
    shoot(page, shots, "risk-signin-code")
    page.fill("#totp", otp.code_at(secret, otp.step_at(time.time_ns())))
    page.click("#sign-in")
    expect(page).to_have_url(f"{base}/risk")

    # The queue: Ada's group, two held cases with their SLA.
    group = page.locator(f".risk-group[data-subject='{ada_id}']")
    expect(group.locator("tbody tr")).to_have_count(2)
    expect(group.locator(".sla").first).to_contain_text("left")
    shoot(page, shots, "risk-queue")

    # The first case: evidence, the held movement, history; re-run and label.
    group.locator("a.open-case").first.click()
    expect(page.locator("#held-state")).to_have_text("held")
    expect(page.locator("#held-amount")).to_contain_text("5.00")
    expect(page.locator("#reasons")).to_contain_text("velocity_customer")
    expect(page.locator("#history tbody tr")).to_have_count(QUICK)
    page.click("#rerun")
    expect(page.locator("#rerun-result")).to_contain_text("the same answer")
    page.click("#label-fp")
    expect(page.locator("#status[data-kind='ok']")).to_contain_text("false positive")
    shoot(page, shots, "risk-case")
    expect(page.locator("html[data-ready='true']")).to_have_count(1)  # buttons wired
    page.fill("#reason", "customer confirmed by phone")
    page.click("#release")
    expect(page.locator("#outcome")).to_contain_text("Released", timeout=10_000)
    expect(page.locator("#held-state")).to_have_text("posted")
    shoot(page, shots, "risk-case-released")

    # The second case: declined; the customer is told.
    page.goto(f"{base}/risk")
    expect(group.locator("tbody tr")).to_have_count(1)
    group.locator("a.open-case").first.click()
    expect(page.locator("html[data-ready='true']")).to_have_count(1)  # buttons wired
    page.fill("#reason", "pattern matches a mule chain")
    page.click("#decline")
    expect(page.locator("#outcome")).to_contain_text("Declined", timeout=10_000)
    expect(page.locator("#held-state")).to_have_text("voided")
    page.goto(f"{base}/risk")
    expect(page.locator(f".risk-group[data-subject='{ada_id}']")).to_have_count(0)
    shoot(page, shots, "risk-queue-empty")

    told = api_in_page(ada, "GET", "/v1/me/notifications")["body"]
    kinds = [n["kind"] for n in (told["data"] if isinstance(told, dict) else told)]
    assert "review_release" in kinds and "review_decline" in kinds
    assert blocked == []
    for ctx in (ada_ctx, bob_ctx, context):
        ctx.close()

"""Helpers for the bank pages in a real browser: sign-up, the API as the page sees it,
money from the simulated rail, and screenshots at desktop and phone widths."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.bootstrap import build
from paywarden.domain.money import Money
from paywarden.settings import Settings

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PHRASE = "Otters <hold> hands & sleep"  # markup must come back as text
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy")


def csp_violations(page: Any) -> list[str]:
    """Console messages of the page that report a blocked script, style or connection."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if any(w in m.text for w in CSP_WORDS)
            else None)
    return seen


def arrive(page: Any, url: str) -> None:
    """Wait for ``url``; if the page reports an error instead, fail with its words."""
    page.wait_for_function("""(url) => location.href === url
        || document.querySelector("#status[data-kind='error']") !== null""", arg=url)
    if page.url != url:
        status = page.locator("#status")
        pytest.fail(f"{status.get_attribute('data-code')}: {status.text_content()}")


def sign_up(page: Any, base: str, username: str, display_name: str = "Ada Lovelace") -> str:
    """A new customer signed up with the page's passkey; their user id."""
    page.goto(f"{base}/signup")
    page.fill("#username", username)
    page.fill("#display-name", display_name)
    page.fill("#phrase", PHRASE)
    page.click("#create")
    arrive(page, f"{base}/account")
    return str(api_in_page(page, "GET", "/v1/me")["body"]["id"])


def api_in_page(page: Any, method: str, path: str, body: Any = None) -> Any:
    """The JSON API called from the page (its cookie and Origin): {status, body}."""
    return page.evaluate("""async ([method, path, body]) => {
        const r = await fetch(path, {method, headers: {"Content-Type": "application/json"},
                                     body: body === null ? undefined : JSON.stringify(body)});
        const text = await r.text();
        return {status: r.status, body: text ? JSON.parse(text) : null};
    }""", [method, path, body])


def accounts(page: Any) -> dict[str, dict[str, Any]]:
    """The signed-in customer's accounts by name, as the API answers."""
    got = api_in_page(page, "GET", "/v1/me/accounts")
    assert got["status"] == 200, got
    return {a["name"]: a for a in got["body"]["data"]}


def deposit(env: dict[str, str], iban: str, amount: int, currency: str = "EUR") -> None:
    """Money in from another bank through the simulated rail, by a second process on the
    same database (as the rail's inbound side would)."""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    try:
        platform.banking.rail.deposit(
            rail_id="rail-" + secrets.token_hex(8), iban=iban, amount=Money(amount, currency),
            debtor_iban="DE89370400440532013000", debtor_name="Employer GmbH",
            reference="salary")
    finally:
        platform.stop()


def add_card(page: Any, base: str, number: str = "4242424242424242") -> None:
    """A card added on the account page, as a customer does."""
    page.goto(f"{base}/account")
    before = page.locator("#card-list li:not(#no-cards)").count()
    page.locator("#cards details").evaluate("d => { d.open = true; }")
    page.fill("#card-number", number)
    page.fill("#card-exp-month", "12")
    page.fill("#card-exp-year", "2035")
    page.fill("#card-holder", "Ada Lovelace")
    page.click("#add-card")
    expect(page.locator("#card-list li:not(#no-cards)")).to_have_count(before + 1)


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ``PAYWARDEN_SHOTS_DIR`` if set (to look at them), else tmp."""
    chosen = os.environ.get("PAYWARDEN_SHOTS_DIR")
    path = Path(chosen) if chosen else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def shoot(page: Any, directory: Path, name: str) -> list[Path]:
    """Full-page screenshots of what the page shows now, at desktop and phone widths; the
    page is back at desktop width afterwards. Also checks nothing is wider than the
    phone's viewport (a sideways scroll is a broken phone layout)."""
    taken = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.evaluate("window.scrollTo(0, 0)")  # the portal's sticky navigation at the top
        path = directory / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        if label == "phone":
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{name}: {wide}px wide on a {PHONE['width']}px phone"
    page.set_viewport_size(DESKTOP)
    return taken

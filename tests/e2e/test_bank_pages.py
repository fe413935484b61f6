"""The customer's bank pages in a real headless Chromium, against a real server process.

Each flow is walked as a customer would (a virtual passkey authenticator stands in for
their device), photographed at desktop and phone widths, and its effect checked through
the API: the money moved, or on a refusal nothing moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from paywarden.bootstrap import build
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.support.bank_browser import (
    PHRASE,
    accounts,
    add_card,
    api_in_page,
    csp_violations,
    deposit,
    shoot,
    shots_dir,
    sign_up,
)
from tests.support.browser import VirtualAuthenticator

from .bank_site import Site, bank_site

DECLINED_CARD = "4000000000000002"  # the simulated issuer: insufficient funds


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    """One server per backend for the module (each test signs up its own customer)."""
    with bank_site(request.param, tmp_path_factory.mktemp(f"bank-{request.param}")) as site:
        yield site


def open_account(page: Any, product: str, name: str, currency: str = "EUR") -> None:
    """Open an account with the overview's form; wait for the page to show it."""
    before = page.locator("#accounts > li").count()
    page.select_option("#open-product", product)
    page.fill("#open-currency", currency)
    page.fill("#open-name", name)
    page.click("#open")
    expect(page.locator("#accounts > li")).to_have_count(before + 1)


def balances(page: Any) -> dict[str, int]:
    return {name: a["booked"] for name, a in accounts(page).items()}


def ok(page: Any) -> Any:
    status = page.locator("#status[data-kind='ok']")
    expect(status).to_be_visible()
    return status


def refused(page: Any, code: str) -> str:
    status = page.locator("#status[data-kind='error']")
    expect(status).to_have_attribute("data-code", code)
    return status.text_content() or ""


def test_a_customer_opens_accounts_and_reads_balances_and_an_iban_grouped_in_fours(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    violations = csp_violations(page)
    shots = shots_dir(tmp_path)
    sign_up(page, base, "opener")
    page.goto(f"{base}/bank")
    expect(page.locator("#no-accounts")).to_be_visible()
    expect(page.locator("#phrase")).to_have_text(PHRASE)
    shoot(page, shots, "bank-empty")

    page.fill("#open-currency", "XYZ")  # not a currency: a plain sentence, nothing opened
    page.fill("#open-name", "Odd")
    page.click("#open")
    assert "three-letter ISO code" in refused(page, "currency_unknown")
    assert accounts(page) == {}

    open_account(page, "current", "Everyday")
    open_account(page, "savings", "Rainy day")
    open_account(page, "wallet", "Wallet")
    page.select_option("#open-product", "wallet")  # a second EUR wallet is refused
    page.fill("#open-name", "Second wallet")
    page.click("#open")
    assert "already have a wallet" in refused(page, "wallet_exists")

    mine = accounts(page)
    assert {(n, a["product"], a["currency"]) for n, a in mine.items()} == {
        ("Everyday", "current", "EUR"), ("Rainy day", "savings", "EUR"),
        ("Wallet", "wallet", "EUR")}
    deposit(env, mine["Everyday"]["iban"], 1_234_567)
    page.reload()
    card = page.locator(f"li[data-account='{mine['Everyday']['id']}']")
    expect(card.locator(".booked")).to_have_text("€12,345.67")
    expect(card.locator(".available")).to_have_text("€12,345.67")
    expect(card.locator(".product")).to_have_text("Current account · EUR")
    shoot(page, shots, "bank-overview")

    page.click(f"li[data-account='{mine['Everyday']['id']}'] a.account-name")
    page.wait_for_url(f"{base}/bank/accounts/{mine['Everyday']['id']}")
    iban = mine["Everyday"]["iban"]
    grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    expect(page.locator("#iban")).to_have_text(grouped)
    expect(page.locator("#booked")).to_have_text("€12,345.67")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-iban")
    expect(page.locator("#status")).to_have_text("IBAN copied.")
    assert page.evaluate("navigator.clipboard.readText()") == iban  # without the spaces
    shoot(page, shots, "bank-account")
    assert violations == []


def test_money_moves_between_own_accounts_and_a_refused_move_moves_nothing(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    shots = shots_dir(tmp_path)
    sign_up(page, base, "mover")
    page.goto(f"{base}/bank")
    open_account(page, "current", "Everyday")
    open_account(page, "savings", "Rainy day")
    mine = accounts(page)
    deposit(env, mine["Everyday"]["iban"], 50_000)

    page.goto(f"{base}/bank/move?from={mine['Everyday']['id']}")
    expect(page.locator("#move-currency")).to_have_text("(EUR)")
    page.select_option("#move-to", mine["Rainy day"]["id"])
    page.fill("#move-amount", "120.5")
    page.fill("#move-reference", "for the holidays")
    page.click("#move")
    expect(ok(page)).to_have_text("Moved €120.50.")
    assert balances(page) == {"Everyday": 37_950, "Rainy day": 12_050}
    expect(page.locator("#move-from option").first).to_contain_text("€379.50 available")
    shoot(page, shots, "bank-move-done")

    for typed, shown in (("12.345", "2 decimals at most"), ("-5", "as digits"),
                         ("0", "greater than zero"), ("1e3", "as digits"),
                         ("", "Enter an amount")):
        page.fill("#move-amount", typed)
        page.click("#move")
        assert shown in refused(page, "input_invalid"), typed
    page.fill("#move-amount", "379.51")  # one cent more than there is
    page.click("#move")
    text = refused(page, "insufficient_funds")
    assert "not enough money" in text and "nothing moved" in text
    shoot(page, shots, "bank-move-refused")
    assert balances(page) == {"Everyday": 37_950, "Rainy day": 12_050}

    freeze(env, mine["Everyday"]["id"])  # staff froze it: it sends nothing
    page.fill("#move-amount", "1.00")
    page.click("#move")
    assert "frozen" in refused(page, "account_frozen")
    assert balances(page) == {"Everyday": 37_950, "Rainy day": 12_050}
    page.goto(f"{base}/bank/accounts/{mine['Everyday']['id']}")
    expect(page.locator("#state")).to_have_text("Frozen")


def freeze(env: dict[str, str], account_id: str) -> None:
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    try:
        platform.banking.accounts.freeze(account_id, actor="staff:test", reason="test freeze")
    finally:
        platform.stop()


def test_a_card_top_up_is_confirmed_with_a_passkey_and_a_refusal_moves_nothing(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], tmp_path: Path) -> None:
    base, _ = site
    page, authenticator = passkey_page
    shots = shots_dir(tmp_path)
    sign_up(page, base, "topper")
    page.goto(f"{base}/bank/top-up")
    shoot(page, shots, "bank-topup-no-wallet")
    page.click("#open-wallet")
    expect(page.locator("#no-cards")).to_be_visible()
    add_card(page, base, DECLINED_CARD)
    add_card(page, base)
    page.goto(f"{base}/bank/top-up")
    wallet = accounts(page)["Wallet"]
    expect(page.locator("#card-currency")).to_have_text("(EUR)")

    page.select_option("#card-token", index=0)  # the declined card
    page.fill("#card-amount", "25")
    page.click("#top-up-card")
    assert "declined" in refused(page, "card_declined")
    assert balances(page) == {"Wallet": 0}

    authenticator.set_user_verified(False)  # the passkey is not confirmed: nothing signed
    page.select_option("#card-token", index=1)
    page.click("#top-up-card")
    refused(page, "NotAllowedError")
    assert balances(page) == {"Wallet": 0}
    authenticator.set_user_verified(True)

    signed = authenticator.credentials()[0]["signCount"]
    page.fill("#card-amount", "25")
    page.click("#top-up-card")
    expect(ok(page)).to_have_text("Your wallet was topped up with €25.00.")
    assert authenticator.credentials()[0]["signCount"] > signed
    assert balances(page) == {"Wallet": 2_500}
    shoot(page, shots, "bank-topup-done")
    evidence = api_in_page(page, "GET", "/v1/me/accounts/" + wallet["id"])["body"]
    assert evidence["booked"] == evidence["available"] == 2_500


def test_the_amount_script_turns_text_into_minor_units_without_floating_point(
        site: Site, browser_page: Any) -> None:
    base, _ = site
    browser_page.goto(f"{base}/signin")
    got = browser_page.evaluate("""async () => {
        const { toMinor, formatMinor } = await import("/static/bankkit.js");
        const run = (text, exp) => { try { return toMinor(text, exp); }
                                     catch (e) { return "refused: " + e.message; } };
        return {
          cents: run("12.34", 2), comma: run("0,10", 2), whole: run("7", 2),
          tenth: run("0.1", 2), float_trap: run("1.15", 2), yen: run("1200", 0),
          yen_decimals: run("12.5", 0), dinar: run("1.005", 3), spaced: run(" 1 000.00 ", 2),
          too_many: run("1.999", 2), negative: run("-1", 2), zero: run("0.00", 2),
          exponent: run("1e3", 2), huge: run("10000000000001", 2),
          shown: [formatMinor(123456789, 2, "EUR"), formatMinor(5, 2, "EUR"),
                  formatMinor(1200, 0, "JPY"), formatMinor(1005, 3, "BHD")],
        };
    }""")
    assert (got["cents"], got["comma"], got["whole"], got["tenth"]) == (1234, 10, 700, 10)
    assert (got["float_trap"], got["yen"], got["dinar"], got["spaced"]) == (115, 1200, 1005,
                                                                           100_000)
    for key in ("yen_decimals", "too_many", "negative", "zero", "exponent", "huge"):
        assert str(got[key]).startswith("refused: "), key
    assert [s.replace("\xa0", " ") for s in got["shown"]] == [
        "€1,234,567.89", "€0.05", "¥1,200", "BHD 1.005"]


def test_another_customers_account_is_the_same_404_page_as_a_missing_one(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], browser: Any) -> None:
    base, _ = site
    page, _ = passkey_page
    sign_up(page, base, "owner")
    page.goto(f"{base}/bank")
    open_account(page, "current", "Mine")
    theirs = accounts(page)["Mine"]["id"]

    other = browser.new_context()
    try:
        stranger = other.new_page()
        from tests.support.browser import add_virtual_authenticator
        add_virtual_authenticator(stranger)
        sign_up(stranger, base, "stranger")
        seen = stranger.goto(f"{base}/bank/accounts/{theirs}")
        assert seen is not None and seen.status == 404
        expect(stranger.locator("h1")).to_have_text("No such account")
        assert theirs not in stranger.content()
        missing = stranger.goto(f"{base}/bank/accounts/acc_{'0' * 24}")
        assert missing is not None and missing.status == 404
        bad = stranger.goto(f"{base}/bank/accounts/..%2F..%2Fv1")
        assert bad is not None and bad.status == 404
        moved = api_in_page(stranger, "POST", "/v1/me/transfers/own", {
            "from_account": theirs, "to_account": theirs, "amount": 1, "currency": "EUR"})
        assert moved["status"] == 404
    finally:
        other.close()


def test_bank_pages_need_a_session_and_carry_strict_headers(site: Site) -> None:
    base, _ = site
    for path in ("/bank", "/bank/move", "/bank/top-up", f"/bank/accounts/acc_{'1' * 24}"):
        r = httpx.get(f"{base}{path}")
        assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"
        assert r.headers["cache-control"] == "no-store"
    for name in ("bank.css", "bankkit.js", "bank_overview.js", "bank_account.js",
                 "bank_move.js", "bank_topup.js"):
        r = httpx.get(f"{base}/static/{name}")
        assert r.status_code == 200 and "unsafe-inline" not in r.headers[
            "content-security-policy"]
        assert "innerHTML" not in r.text and "eval(" not in r.text


def test_history_filters_and_pages_and_a_statement_downloads_that_verifies_and_reconciles(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    shots = shots_dir(tmp_path)
    sign_up(page, base, "historian")
    page.goto(f"{base}/bank")
    open_account(page, "current", "Everyday")
    open_account(page, "savings", "Rainy day")
    mine = accounts(page)
    current, savings = mine["Everyday"], mine["Rainy day"]
    deposit(env, current["iban"], 100_000)
    for n in range(24):
        moved = api_in_page(page, "POST", "/v1/me/transfers/own", {
            "from_account": current["id"], "to_account": savings["id"], "amount": 100 + n,
            "currency": "EUR", "reference": f"jar {n}"})
        assert moved["status"] == 201, moved

    page.goto(f"{base}/bank/accounts/{current['id']}")
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(20)  # one page
    booked_now = accounts(page)["Everyday"]["booked"]
    assert booked_now == 100_000 - sum(100 + n for n in range(24))
    expect(rows.first.locator("td").nth(3)).to_have_text("€973.24")  # the running balance
    expect(rows.first.locator("td.details small")).to_have_text("jar 23")
    page.click("#history-more")
    expect(rows).to_have_count(25)  # and the rest: 24 moves and the deposit
    expect(page.locator("#history-more")).to_be_hidden()
    shoot(page, shots, "bank-history")

    page.fill("#history-text", "employer")
    page.click("#history-search")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.num").first).to_have_text("€1,000.00")
    page.click("#history-clear")
    expect(rows).to_have_count(20)
    page.fill("#history-min", "1.2")  # 1.20 EUR and more: jar 20 to 23, and the deposit
    page.click("#history-search")
    expect(rows).to_have_count(5)
    page.fill("#history-min", "1.234")
    page.click("#history-search")
    expect(page.locator("#history-error")).to_have_attribute("data-code", "input_invalid")
    page.fill("#history-min", "")
    page.fill("#history-from", "2099-01-01")
    page.click("#history-search")
    expect(page.locator("#history-empty")).to_be_visible()

    from paywarden.adapters.iso20022 import CAMT_053, schema
    from paywarden.services.banking.statements.verify import keys_from_jwks, verify

    jwks = keys_from_jwks(httpx.get(f"{base}/.well-known/jwks.json").json())
    for fmt in ("camt053", "csv", "pdf"):
        page.select_option("#statement-format", fmt)
        with page.expect_download() as caught:
            page.click("#statement-download")
        saved = tmp_path / caught.value.suggested_filename
        caught.value.save_as(saved)
        assert saved.name.startswith(f"statement-{current['id']}-")
        content = saved.read_bytes()
        report = verify(content, jwks)
        assert report.ok, report.checks
        assert report.sealed is not None
        s = report.sealed.statement
        assert s.opening_balance_minor + sum(e.amount_minor for e in s.entries) == (
            s.closing_balance_minor) == booked_now
        if fmt == "camt053":
            schema(CAMT_053).validate(content)
    expect(ok(page)).to_contain_text("was downloaded")

    page.fill("#statement-from", "2020-01-01")  # more than a year: a plain refusal
    page.click("#statement-download")
    assert "at most a year" in refused(page, "statement_period_invalid")
    page.fill("#statement-from", "2099-01-02")
    page.fill("#statement-to", "2099-01-01")
    page.click("#statement-download")
    assert "must not be after" in refused(page, "input_invalid")
    shoot(page, shots, "bank-statement-refused")

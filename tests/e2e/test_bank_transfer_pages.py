"""Transfers to other parties from the pages, in a real headless Chromium against a real
server process: payees (confirmation of payee as the name and IBAN are typed, a passkey
step-up, the cooling-off shown), transfers with a step-up and their refusals, limits (a
raise waits, a lowering is at once) and standing orders.

The server runs with a short payee cooling-off and limit-raise delay so the tests can wait
through them. Each flow is photographed at desktop and phone widths, and its effect checked
through the API: on every refusal, nothing moved.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from paywarden.bootstrap import build
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.support.bank_browser import (
    accounts,
    api_in_page,
    csp_violations,
    deposit,
    shoot,
    shots_dir,
    sign_up,
)
from tests.support.browser import VirtualAuthenticator, add_virtual_authenticator

from .bank_site import Site, bank_site

COOLING_OFF_S = 6  # long enough to be refused while cooling on a slow machine
RAISE_DELAY_S = 3
ELSEWHERE = "DE89370400440532013000"  # a valid IBAN at another bank


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    """One server per backend for the module, with short cooling-off and raise delays and
    standing orders run every second."""
    with bank_site(request.param, tmp_path_factory.mktemp(f"transfers-{request.param}"),
                   payee_cooling_off_s=str(COOLING_OFF_S),
                   limit_raise_delay_s=str(RAISE_DELAY_S),
                   standing_order_interval_s="1") as site:
        yield site


# --- helpers ---------------------------------------------------------------------------

def customer(page: Any, base: str, env: dict[str, str], username: str, display_name: str,
             funds: int = 0) -> dict[str, Any]:
    """A customer signed up in ``page`` with a EUR current account (funded by the rail)."""
    sign_up(page, base, username, display_name)
    opened = api_in_page(page, "POST", "/v1/me/accounts",
                         {"product": "current", "currency": "EUR", "name": "Everyday"})
    assert opened["status"] == 201, opened
    if funds:
        deposit(env, opened["body"]["iban"], funds)
    return dict(opened["body"])


def someone_else(browser: Any, base: str, env: dict[str, str], username: str,
                 display_name: str) -> tuple[Any, dict[str, Any]]:
    """Another customer in their own browser context: (context, their account)."""
    context = browser.new_context()
    page = context.new_page()
    add_virtual_authenticator(page)
    return context, customer(page, base, env, username, display_name)


def booked(page: Any) -> int:
    return int(accounts(page)["Everyday"]["booked"])


def ok(page: Any) -> Any:
    status = page.locator("#status[data-kind='ok']")
    expect(status).to_be_visible()
    return status


def refused(page: Any, code: str) -> str:
    status = page.locator("#status[data-kind='error']")
    expect(status).to_have_attribute("data-code", code)
    return status.text_content() or ""


def add_payee(page: Any, base: str, name: str, iban: str) -> dict[str, Any]:
    """Add a payee on the payees page; the API's answer for it."""
    page.goto(f"{base}/bank/payees")
    page.fill("#payee-name", name)
    page.fill("#payee-iban", iban)
    expect(page.locator("#cop")).to_be_visible()
    page.click("#add-payee")
    ok(page)
    added = page.locator("#status").get_attribute("data-payee")
    got = api_in_page(page, "GET", f"/v1/me/payees/{added}")
    assert got["status"] == 200, got
    return dict(got["body"])


def send(page: Any, payee_id: str, amount: str, reference: str = "") -> None:
    page.select_option("#transfer-payee", payee_id)
    page.fill("#transfer-amount", amount)
    page.fill("#transfer-reference", reference)
    page.click("#send")


def wait_until(rfc3339: str) -> None:
    """Sleep past a moment the API named (its clock is this machine's)."""
    at = datetime.fromisoformat(rfc3339)
    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.5)


def freeze(env: dict[str, str], account_id: str) -> None:
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    try:
        platform.banking.accounts.freeze(account_id, actor="staff:test", reason="test freeze")
    finally:
        platform.stop()


def errors_of(page: Any) -> list[str]:
    """Uncaught script errors of the page."""
    seen: list[str] = []
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


# --- payees ----------------------------------------------------------------------------

def test_a_payee_is_confirmed_by_name_as_it_is_typed_and_added_with_a_passkey_cooling_off(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], browser: Any,
        tmp_path: Path) -> None:
    base, env = site
    page, authenticator = passkey_page
    violations, crashes = csp_violations(page), errors_of(page)
    shots = shots_dir(tmp_path)
    other, bob = someone_else(browser, base, env, "bob-p", "Bob Builder")
    other.close()
    customer(page, base, env, "ada-p", "Ada Lovelace")
    page.goto(f"{base}/bank/payees")
    expect(page.locator("#no-payees")).to_be_visible()
    shoot(page, shots, "payees-empty")

    cop = page.locator("#cop")
    answer = page.locator("#cop-answer")
    page.fill("#payee-iban", bob["iban"])
    page.fill("#payee-name", "Bob Builder")
    expect(cop).to_have_attribute("data-result", "match")
    expect(answer).to_contain_text("matches")
    page.fill("#payee-name", "Bob Bilder")  # a typo: the holder's name is offered
    expect(cop).to_have_attribute("data-result", "close_match")
    expect(answer).to_contain_text("Bob Builder")
    expect(page.locator("#cop-tip")).to_contain_text("never ask you")
    shoot(page, shots, "payees-close-match")
    page.click("#cop-use-name")
    expect(page.locator("#payee-name")).to_have_value("Bob Builder")
    expect(cop).to_have_attribute("data-result", "match")
    page.fill("#payee-name", "Mallory Thief")
    expect(cop).to_have_attribute("data-result", "no_match")
    expect(answer).not_to_contain_text("Bob")  # no name is given away on a no-match
    page.click("#add-payee")  # not without saying they checked it
    assert "tick the box" in refused(page, "input_invalid")
    assert api_in_page(page, "GET", "/v1/me/payees")["body"]["data"] == []
    shoot(page, shots, "payees-no-match")
    page.fill("#payee-iban", "DE89 3704 0044 0532 0130 01")  # a typo in the check digits
    expect(cop).to_have_attribute("data-result", "error")
    expect(answer).to_contain_text("not valid")
    page.fill("#payee-iban", "DE89 3704 0044 0532 0130 00")
    expect(cop).to_have_attribute("data-result", "unavailable")
    expect(answer).to_contain_text("another bank")
    shoot(page, shots, "payees-unavailable")

    # A no-match is not added unless the customer says so; the passkey is still asked.
    authenticator.set_user_verified(False)
    page.fill("#payee-name", "Erika Mustermann")
    page.click("#add-payee")
    refused(page, "NotAllowedError")
    assert api_in_page(page, "GET", "/v1/me/payees")["body"]["data"] == []
    authenticator.set_user_verified(True)

    added = add_payee(page, base, "Bob Builder", bob["iban"])
    assert added["state"] == "cooling" and added["cop"] == "match"
    expect(ok(page)).to_contain_text("€50.00 in all")
    expect(page.locator("#payee-tip")).to_contain_text("cooling-off")
    expect(page.locator("#cooling-rule")).to_contain_text(f"first {COOLING_OFF_S} seconds")
    item = page.locator(f"li[data-payee='{added['id']}']")
    expect(item).to_contain_text("Cooling off until")
    shoot(page, shots, "payees-added")

    page.fill("#payee-name", "Bob Builder")  # the same IBAN again: refused in plain words
    page.fill("#payee-iban", bob["iban"])
    expect(cop).to_have_attribute("data-result", "match")
    page.click("#add-payee")
    assert "already have a payee" in refused(page, "payee_exists")

    elsewhere = add_payee(page, base, "Erika Mustermann", ELSEWHERE)
    assert elsewhere["cop"] == "unavailable" and elsewhere["bank"] == "other"
    remove = page.locator(f"li[data-payee='{elsewhere['id']}'] .delete-payee")
    remove.click()
    expect(remove).to_contain_text("cancel its standing orders")  # a second click deletes
    remove.click()
    expect(page.locator(f"li[data-payee='{elsewhere['id']}']")).to_have_count(0)
    assert [p["id"] for p in api_in_page(page, "GET", "/v1/me/payees")["body"]["data"]] == [
        added["id"]]
    assert violations == [] and crashes == []


# --- transfers -------------------------------------------------------------------------

def test_a_transfer_to_a_payee_is_confirmed_with_a_passkey_and_each_refusal_moves_nothing(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], browser: Any,
        tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    violations, crashes = csp_violations(page), errors_of(page)
    shots = shots_dir(tmp_path)
    other, bob = someone_else(browser, base, env, "bob-t", "Bob Builder")
    bob_page = other.pages[0]
    mine = customer(page, base, env, "ada-t", "Ada Lovelace", funds=100_000)
    payee = add_payee(page, base, "Bob Builder", bob["iban"])

    # While it cools off the payee receives at most €50.00 in all.
    page.goto(f"{base}/bank/transfers")
    page.select_option("#transfer-payee", payee["id"])
    expect(page.locator("#payee-cooling")).to_contain_text("€50.00 in all")
    send(page, payee["id"], "60.00", "too soon")
    assert "cooling off" in refused(page, "payee_cooling_off")
    shoot(page, shots, "transfer-cooling-refused")
    assert booked(page) == 100_000
    send(page, payee["id"], "20", "a first small one")
    expect(ok(page)).to_have_text("Sent €20.00 to Bob Builder.")
    assert booked(page) == 98_000

    # After the cooling-off, any amount within the limits.
    wait_until(payee["cooling_off_until"])
    page.reload()
    expect(page.locator("#payee-cooling")).to_be_hidden()
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}"))
            if r.method == "POST" and r.url.endswith("/v1/me/transfers") else None)
    send(page, payee["id"], "120.50", "Invoice 42")
    expect(ok(page)).to_have_text("Sent €120.50 to Bob Builder.")
    assert booked(page) == 98_000 - 12_050
    # Its passkey evidence replayed under a new transfer id (a trojan's second helping).
    replayed = api_in_page(page, "POST", "/v1/me/transfers", {**sent[-1], "id": "replayed-1"})
    assert replayed["status"] == 403 and replayed["body"]["code"] == "step_up_required"
    assert booked(page) == 98_000 - 12_050
    assert accounts(bob_page)["Everyday"]["booked"] == 2_000 + 12_050
    rows = page.locator("#transfers tbody tr")
    expect(rows).to_have_count(3)  # two sent, and the salary in
    expect(rows.first).to_contain_text("Invoice 42")
    expect(rows.first.locator("td.num")).to_have_text("-€120.50")
    shoot(page, shots, "transfer-sent")

    # More than there is; a retried attempt is never applied twice.
    send(page, payee["id"], "900.00")
    assert "not enough money" in refused(page, "insufficient_funds")
    assert booked(page) == 98_000 - 12_050

    # A trojan rewrites the amount after the customer confirmed: the API refuses it.
    def tamper(route: Any) -> None:
        body = json.loads(route.request.post_data or "{}")
        route.continue_(post_data=json.dumps({**body, "amount": body["amount"] * 100}))

    page.route("**/v1/me/transfers", tamper)
    send(page, payee["id"], "5.00")
    assert "something other" in refused(page, "step_up_mismatch")
    page.unroute("**/v1/me/transfers")
    assert booked(page) == 98_000 - 12_050

    # A limit per transfer, lowered on the limits page, stops a larger one.
    page.goto(f"{base}/bank/limits")
    card = page.locator("form.limit[data-kind='per_transfer']")
    card.locator(".limit-amount").fill("100")
    card.locator(".limit-change").click()
    expect(ok(page)).to_have_text("Your limit is now €100.00.")
    page.goto(f"{base}/bank/transfers")
    send(page, payee["id"], "100.01")
    assert "limit per transfer" in refused(page, "limit_per_transfer_exceeded")
    assert booked(page) == 98_000 - 12_050

    # A frozen account sends nothing.
    freeze(env, mine["id"])
    send(page, payee["id"], "1.00")
    assert "frozen" in refused(page, "account_frozen")
    shoot(page, shots, "transfer-frozen-refused")
    assert booked(page) == 98_000 - 12_050
    assert accounts(bob_page)["Everyday"]["booked"] == 2_000 + 12_050
    page.reload()  # the page now says why nothing can be sent
    expect(page.locator("#no-source")).to_contain_text("Everyday cannot send money just now")
    other.close()
    assert violations == [] and crashes == []


# --- limits ----------------------------------------------------------------------------

def test_a_raised_limit_needs_a_passkey_and_waits_while_a_lowered_one_is_at_once(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], tmp_path: Path) -> None:
    base, env = site
    page, authenticator = passkey_page
    violations, crashes = csp_violations(page), errors_of(page)
    shots = shots_dir(tmp_path)
    customer(page, base, env, "ada-l", "Ada Lovelace")
    page.goto(f"{base}/bank/limits")
    cards = page.locator("form.limit")
    expect(cards).to_have_count(3)
    shoot(page, shots, "limits")

    def limit(kind: str) -> dict[str, Any]:
        got = api_in_page(page, "GET", "/v1/me/limits?currency=EUR")["body"]["data"]
        return next(x for x in got if x["kind"] == kind)

    day = page.locator("form.limit[data-kind='per_day']")
    day.locator(".limit-amount").fill("500")
    day.locator(".limit-change").click()
    expect(ok(page)).to_have_text("Your limit is now €500.00.")
    assert (limit("per_day")["amount"], limit("per_day")["pending_amount"]) == (50_000, None)

    day.locator(".limit-amount").fill("30000")  # over the bank's maximum
    day.locator(".limit-change").click()
    assert "more than the bank allows" in refused(page, "limit_above_bank_max")

    authenticator.set_user_verified(False)  # a raise is not confirmed: nothing changes
    day.locator(".limit-amount").fill("800")
    day.locator(".limit-change").click()
    refused(page, "NotAllowedError")
    assert limit("per_day")["pending_amount"] is None
    authenticator.set_user_verified(True)

    day.locator(".limit-amount").fill("800")
    day.locator(".limit-change").click()
    expect(ok(page)).to_contain_text("The raise to €800.00 takes effect at")
    expect(page.locator("#limit-tip")).to_contain_text("lower it again now")
    pending = limit("per_day")
    assert (pending["amount"], pending["pending_amount"]) == (50_000, 80_000)
    expect(day.locator(".limit-pending")).to_contain_text("€800.00")
    shoot(page, shots, "limits-raise-pending")

    wait_until(pending["pending_from"])
    page.reload()
    expect(day.locator(".limit-now")).to_contain_text("€800.00")
    expect(day.locator(".limit-pending")).to_have_count(0)
    assert limit("per_day")["amount"] == 80_000
    assert violations == [] and crashes == []


# --- standing orders -------------------------------------------------------------------

def test_a_standing_order_is_previewed_in_words_confirmed_run_listed_and_cancelled(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], browser: Any,
        tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    violations, crashes = csp_violations(page), errors_of(page)
    shots = shots_dir(tmp_path)
    other, bob = someone_else(browser, base, env, "bob-s", "Bob Builder")
    other.close()
    customer(page, base, env, "ada-s", "Ada Lovelace", funds=10_000)
    payee = add_payee(page, base, "Bob Builder", bob["iban"])
    today = datetime.now(UTC).date()

    page.goto(f"{base}/bank/standing-orders")
    expect(page.locator("#no-orders")).to_be_visible()
    page.select_option("#order-payee", payee["id"])
    page.fill("#order-amount", "12.50")
    page.fill("#order-reference", "Pocket money")
    page.select_option("#order-frequency", "monthly")
    page.fill("#order-start", today.isoformat())
    page.fill("#order-end", today.replace(year=today.year + 1).isoformat())
    expect(page.locator("#order-schedule")).to_contain_text(
        f"€12.50 to Bob Builder, monthly on day {today.day} from {today.isoformat()}")
    shoot(page, shots, "orders-preview")
    page.click("#order-create")
    expect(ok(page)).to_contain_text("Standing order set up")
    orders = api_in_page(page, "GET", "/v1/me/standing-orders")["body"]["data"]
    assert [(o["amount"], o["state"]) for o in orders] == [(1_250, "active")]

    # The maintenance loop pays today's occurrence; the list shows it.
    item = page.locator(f"li[data-order='{orders[0]['id']}']")
    expect(item.locator(".run").first).to_contain_text("Paid", timeout=20_000)
    assert booked(page) == 10_000 - 1_250

    # A one-off for more than there is: it runs, fails, and says why in plain words.
    page.select_option("#order-frequency", "once")
    page.fill("#order-amount", "200")
    page.fill("#order-reference", "Too much")
    page.fill("#order-start", today.isoformat())
    page.click("#order-create")
    expect(ok(page)).to_contain_text("once on")
    big = next(o for o in api_in_page(page, "GET", "/v1/me/standing-orders")["body"]["data"]
               if o["amount"] == 20_000)
    failed = page.locator(f"li[data-order='{big['id']}'] .run").first
    expect(failed).to_contain_text("Not paid, nothing moved", timeout=20_000)
    assert failed.get_attribute("data-reason") in {"payee_cooling_off", "insufficient_funds"}
    assert booked(page) == 10_000 - 1_250
    shoot(page, shots, "orders")

    item.locator(".cancel-order").click()
    expect(item.locator(".cancel-order")).to_contain_text("all its future payments")
    item.locator(".cancel-order").click()
    expect(item).to_have_attribute("data-state", "cancelled")
    expect(item.locator(".order-reason")).to_have_text("You cancelled it.")
    got = api_in_page(page, "GET", f"/v1/me/standing-orders/{orders[0]['id']}")["body"]
    assert got["state"] == "cancelled" and got["next_on"] is None

    page.fill("#order-amount", "5")
    page.fill("#order-start", today.replace(year=today.year - 1).isoformat())  # in the past
    expect(page.locator("#order-schedule")).to_contain_text("do not make a schedule")
    page.click("#order-create")
    assert "first and last dates" in refused(page, "schedule_invalid")
    shoot(page, shots, "orders-cancelled")
    assert violations == [] and crashes == []


def test_the_transfer_pages_need_a_session_and_their_scripts_write_only_text(site: Site) -> None:
    base, _ = site
    for path in ("/bank/transfers", "/bank/payees", "/bank/limits", "/bank/standing-orders"):
        r = httpx.get(f"{base}{path}")
        assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"
        assert r.headers["cache-control"] == "no-store"
    for name in ("bank_transfers.js", "bank_payees.js", "bank_limits.js", "bank_orders.js"):
        r = httpx.get(f"{base}/static/{name}")
        assert r.status_code == 200 and "unsafe-inline" not in r.headers[
            "content-security-policy"]
        assert "innerHTML" not in r.text and "eval(" not in r.text

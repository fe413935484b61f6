"""The cheque pages in a real headless Chromium, against a real server process.

Two (or three) customers, each in their own browser context with their own virtual
passkey authenticator: the drawer writes a cheque on the pages (a passkey step-up over the
exact cheque) and hands its text over; the payee pastes it and presents it. Every bounce
— twice, stopped, altered, not the payee, not enough money — and the early refusal are
shown in plain words, and in each nothing moves (checked through the API).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from playwright.sync_api import expect

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

CHEQUE_PAGE = re.compile(r".*/bank/cheques/(chq_[0-9a-f]{24})\?done=written$")


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    """One server per backend for the module (each test signs up its own customers)."""
    with bank_site(request.param, tmp_path_factory.mktemp(f"cheques-{request.param}")) as site:
        yield site


@pytest.fixture
def second_context(browser: Any) -> Iterator[Any]:
    """Another customer's browser: its own cookies and its own passkey authenticator."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context()
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        add_virtual_authenticator(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def customer(page: Any, base: str, username: str, display_name: str) -> dict[str, Any]:
    """Signed up on the pages with a current account opened there; that account."""
    sign_up(page, base, username, display_name)
    page.goto(f"{base}/bank")
    page.fill("#open-name", "Everyday")
    page.click("#open")
    expect(page.locator("#accounts > li")).to_have_count(1)
    return accounts(page)["Everyday"]


def write_cheque(page: Any, base: str, payee: dict[str, Any], name: str, amount: str, *,
                 date: str | None = None) -> str:
    """A cheque written on the write page and approved with the passkey; its id."""
    page.goto(f"{base}/bank/cheques/write")
    page.fill("#write-payee-name", name)
    page.fill("#write-payee-iban", " ".join(re.findall(".{1,4}", payee["iban"])))  # as printed
    page.fill("#write-amount", amount)
    if date is not None:
        page.fill("#write-date", date)
    page.click("#write")
    page.wait_for_url(CHEQUE_PAGE)
    found = CHEQUE_PAGE.fullmatch(page.url)
    assert found is not None
    return found[1]


def cheque_text(page: Any, cheque_id: str) -> str:
    got = api_in_page(page, "GET", f"/v1/me/cheques/{cheque_id}")
    assert got["status"] == 200, got
    return str(got["body"]["jws"])


def present(page: Any, base: str, text: str) -> Any:
    """Paste ``text`` on the present page and present it into the account it chose."""
    page.goto(f"{base}/bank/cheques/present")
    page.fill("#present-text", text)
    page.click("#present")
    status = page.locator("#status[data-kind='ok'], #status[data-kind='error']")
    expect(status).to_be_visible()
    return page.locator("#status")


def bounced(page: Any, base: str, text: str, reason: str) -> str:
    status = present(page, base, text)
    expect(status).to_have_attribute("data-reason", reason)
    expect(status).to_have_attribute("data-code", "cheque_bounced")
    expect(page.locator("#present-result")).to_be_hidden()
    words = status.text_content() or ""
    assert "nothing was paid" in words, words
    return words


def altered(text: str, **changes: Any) -> str:
    """The cheque's text with claims changed and the original signature kept."""
    header, payload, signature = text.split(".")
    claims = json.loads(urlsafe_b64decode(payload.encode()))
    claims.update(changes)
    body = json.dumps(claims, separators=(",", ":")).encode()
    return f"{header}.{urlsafe_b64encode(body).decode()}.{signature}"


def booked(page: Any) -> int:
    return int(accounts(page)["Everyday"]["booked"])


def test_a_cheque_written_on_the_pages_is_paid_once_to_the_payee_who_pastes_it(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], second_context: Any,
        tmp_path: Path) -> None:
    base, env = site
    ada, authenticator = passkey_page
    bob = second_context()
    seen = [csp_violations(ada), csp_violations(bob)]
    shots = shots_dir(tmp_path)
    mine = customer(ada, base, "ada-drawer", "Ada Lovelace")
    theirs = customer(bob, base, "bob-payee", "Bob Builder")
    deposit(env, mine["iban"], 100_000)

    ada.goto(f"{base}/bank/cheques")
    expect(ada.locator("#no-written")).to_be_visible()
    expect(ada.locator("nav.portal-nav a[data-section='cheques']")).to_have_attribute(
        "aria-current", "page")
    shoot(ada, shots, "cheques-empty")
    ada.goto(f"{base}/bank/cheques/write")
    expect(ada.locator("#write-currency")).to_have_text("(EUR)")
    ada.fill("#write-payee-name", "Bob Builder")
    ada.fill("#write-payee-iban", theirs["iban"])
    ada.fill("#write-amount", "123.45")
    shoot(ada, shots, "cheques-write")
    for typed, shown in (("12.345", "2 decimals at most"), ("0", "greater than zero")):
        ada.fill("#write-amount", typed)
        ada.click("#write")
        expect(ada.locator("#status[data-code='input_invalid']")).to_contain_text(shown)

    signed = authenticator.credentials()[0]["signCount"]
    cheque_id = write_cheque(ada, base, theirs, "Bob Builder", "123.45")
    assert authenticator.credentials()[0]["signCount"] > signed  # the passkey approved it
    expect(ada.locator("#done-note")).to_contain_text("written and signed")
    expect(ada.locator("#cheque-state")).to_have_text("Issued")
    expect(ada.locator("#cheque-amount")).to_have_text("€123.45")
    expect(ada.locator("#how-to")).to_contain_text("Only the account")
    text = cheque_text(ada, cheque_id)
    expect(ada.locator("#cheque-text")).to_have_text(text)
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ada.click("#copy-cheque")
    expect(ada.locator("#status[data-kind='ok']")).to_contain_text("copied")
    handed = ada.evaluate("navigator.clipboard.readText()")
    assert handed == text
    shoot(ada, shots, "cheque-written")
    assert booked(ada) == 100_000  # nothing moves until it is presented

    bob.goto(f"{base}/bank/cheques")
    row = bob.locator(f"#received tr[data-cheque='{cheque_id}']")
    expect(row.locator(".state")).to_have_text("Issued")
    expect(row.locator("a")).to_have_text("Present")
    shoot(bob, shots, "cheques-received")

    bob.goto(f"{base}/bank/cheques/present")
    bob.fill("#present-text", handed)  # pasted from the drawer's message
    expect(bob.locator("#preview-payee")).to_have_attribute("data-mine", "true")
    expect(bob.locator("#preview-summary")).to_contain_text("for €123.45")
    shoot(bob, shots, "cheques-present")
    bob.click("#present")
    expect(bob.locator("#status[data-kind='ok']")).to_have_text(
        "The cheque is paid: €123.45 is in your account Everyday.")
    expect(bob.locator("#present-balance")).to_have_text("€123.45")
    shoot(bob, shots, "cheques-present-paid")
    assert (booked(ada), booked(bob)) == (100_000 - 12_345, 12_345)

    words = bounced(bob, base, handed, "duplicate")  # presented twice: nothing moves again
    assert "presented before" in words
    shoot(bob, shots, "cheques-present-duplicate")
    assert (booked(ada), booked(bob)) == (100_000 - 12_345, 12_345)

    ada.goto(f"{base}/bank/cheques")
    expect(ada.locator(f"#written tr[data-cheque='{cheque_id}'] .state")).to_have_text("Paid")
    shoot(ada, shots, "cheques-lists")
    ada.goto(f"{base}/bank/cheques/{cheque_id}")
    expect(ada.locator("#cheque-state")).to_have_text("Paid")
    expect(ada.locator("#stop-cheque")).to_have_count(0)  # a paid cheque cannot be stopped
    outcomes = ada.locator("#presentations tbody tr")
    expect(outcomes).to_have_count(2)
    expect(outcomes.first).to_have_attribute("data-reason", "duplicate")
    expect(outcomes.nth(1)).to_have_attribute("data-outcome", "paid")
    shoot(ada, shots, "cheque-paid")
    assert seen == [[], []]


def test_stopped_altered_foreign_early_and_uncovered_cheques_move_nothing(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], second_context: Any,
        tmp_path: Path) -> None:
    base, env = site
    ada, _ = passkey_page
    bob, mallory = second_context(), second_context()
    seen = [csp_violations(p) for p in (ada, bob, mallory)]
    shots = shots_dir(tmp_path)
    mine = customer(ada, base, "ada-stops", "Ada Lovelace")
    theirs = customer(bob, base, "bob-holds", "Bob Builder")
    customer(mallory, base, "mallory", "Mallory Thief")
    deposit(env, mine["iban"], 10_000)
    cheque_id = write_cheque(ada, base, theirs, "Bob Builder", "50")
    text = cheque_text(ada, cheque_id)

    # The amount changed in the text: the signatures no longer match.
    words = bounced(bob, base, altered(text, amount_minor=500_000), "altered")
    assert "changed after it was signed" in words
    shoot(bob, shots, "cheques-present-altered")
    # Someone who is not the payee: the page warns, and the bank refuses it.
    mallory.goto(f"{base}/bank/cheques/present")
    mallory.fill("#present-text", text)
    expect(mallory.locator("#preview-payee")).to_have_attribute("data-mine", "false")
    assert "made out to an account that is not this one" in bounced(mallory, base, text,
                                                                    "not_payee")
    shoot(mallory, shots, "cheques-present-not-payee")
    seen_page = mallory.goto(f"{base}/bank/cheques/{cheque_id}")  # not theirs: a 404
    assert seen_page is not None and seen_page.status == 404
    expect(mallory.locator("h1")).to_have_text("No such cheque")
    assert cheque_id not in mallory.content() and text not in mallory.content()
    mallory.goto(f"{base}/bank/cheques/present?cheque={cheque_id}")  # nothing prefilled
    expect(mallory.locator("#present-text")).to_have_value("")
    assert (booked(ada), booked(bob), booked(mallory)) == (10_000, 0, 0)

    # Neither refusal spoiled the cheque; the drawer stops it, after a confirmation.
    ada.goto(f"{base}/bank/cheques/{cheque_id}")
    expect(ada.locator("#cheque-state")).to_have_text("Issued")
    attempts = ada.locator("#presentations tbody tr")  # an altered text names no cheque
    expect(attempts).to_have_count(1)
    expect(attempts.first).to_have_attribute("data-reason", "not_payee")
    ada.click("#stop-cheque")
    expect(ada.locator("#stop-confirm")).to_be_visible()
    expect(ada.locator("#stop-question")).to_contain_text("Stop cheque no. 1 for €50.00")
    shoot(ada, shots, "cheque-stop-confirm")
    ada.click("#stop-no")  # changed their mind: still issued
    expect(ada.locator("#stop-confirm")).to_be_hidden()
    assert api_in_page(ada, "GET", f"/v1/me/cheques/{cheque_id}")["body"]["state"] == "issued"
    ada.click("#stop-cheque")
    ada.click("#stop-yes")
    expect(ada.locator("#done-note")).to_contain_text("The cheque is stopped")
    expect(ada.locator("#cheque-state")).to_have_text("Stopped")
    shoot(ada, shots, "cheque-stopped")
    assert "stopped it" in bounced(bob, base, text, "stopped")
    assert (booked(ada), booked(bob)) == (10_000, 0)

    # Dated tomorrow: refused today, and still good.
    ada.goto(f"{base}/bank/cheques/write")
    today = ada.locator("#write-date").get_attribute("value")  # the bank's day (UTC)
    assert today is not None
    later = (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()
    early_id = write_cheque(ada, base, theirs, "Bob Builder", "10", date=later)
    status = present(bob, base, cheque_text(ada, early_id))
    expect(status).to_have_attribute("data-code", "cheque_not_yet_due")
    expect(status).to_contain_text("stays good")
    bob.goto(f"{base}/bank/cheques")
    expect(bob.locator(f"#received tr[data-cheque='{early_id}'] .state")).to_have_text("Issued")

    # More than the drawer holds: bounced for good, nothing moves.
    big_id = write_cheque(ada, base, theirs, "Bob Builder", "1000")
    assert "does not hold enough money" in bounced(bob, base, cheque_text(ada, big_id),
                                                    "insufficient_funds")
    assert (booked(ada), booked(bob)) == (10_000, 0)
    ada.goto(f"{base}/bank/cheques")
    expect(ada.locator(f"#written tr[data-cheque='{big_id}'] .state")).to_have_text(
        "Bounced not enough money in the drawer's account")
    expect(ada.locator(f"#written tr[data-cheque='{cheque_id}'] .state")).to_have_text(
        "Stopped")
    shoot(ada, shots, "cheques-bounced-and-stopped")
    assert seen == [[], [], []]


def lose_the_next_answer(page: Any, path: str) -> list[int]:
    """The next POST to ``path`` reaches the server, but its answer never reaches the page
    (the connection drops); the statuses the server answered are collected."""
    answered: list[int] = []

    def handle(route: Any) -> None:
        if route.request.method == "POST" and not answered:
            answered.append(route.fetch().status)  # the server does the work
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**{path}", handle)
    return answered


def test_a_lost_answer_retried_writes_one_cheque_and_pays_it_once(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], second_context: Any) -> None:
    base, env = site
    ada, authenticator = passkey_page
    bob = second_context()
    mine = customer(ada, base, "ada-retries", "Ada Lovelace")
    theirs = customer(bob, base, "bob-retries", "Bob Builder")
    deposit(env, mine["iban"], 10_000)

    ada.goto(f"{base}/bank/cheques/write")
    lost = lose_the_next_answer(ada, "/v1/me/cheques")
    ada.fill("#write-payee-name", "Bob Builder")
    ada.fill("#write-payee-iban", theirs["iban"])
    ada.fill("#write-amount", "20")
    ada.click("#write")
    expect(ada.locator("#status[data-code='TypeError']")).to_contain_text("nothing is done twice")
    assert lost == [201]  # written, though the page never heard so
    signed = authenticator.credentials()[0]["signCount"]
    ada.click("#write")  # the same request again, under the same Idempotency-Key
    ada.wait_for_url(CHEQUE_PAGE)
    assert authenticator.credentials()[0]["signCount"] == signed  # no second approval
    written = api_in_page(ada, "GET", "/v1/me/cheques")["body"]["data"]
    assert [c["serial"] for c in written] == [1]

    bob.goto(f"{base}/bank/cheques/present")
    lost = lose_the_next_answer(bob, "/v1/me/cheques/present")
    bob.fill("#present-text", written[0]["jws"])
    bob.click("#present")
    expect(bob.locator("#status[data-code='TypeError']")).to_be_visible()
    assert lost == [201]  # paid, though the page never heard so
    bob.click("#present")  # replayed: paid, not a duplicate
    expect(bob.locator("#status[data-kind='ok']")).to_contain_text("The cheque is paid")
    expect(bob.locator("#present-balance")).to_have_text("€20.00")
    assert (booked(ada), booked(bob)) == (8_000, 2_000)
    cheque = api_in_page(ada, "GET", f"/v1/me/cheques/{written[0]['id']}")["body"]
    assert [p["outcome"] for p in cheque["presentations"]] == ["paid"]


def test_cheque_pages_need_a_session_and_carry_strict_headers(site: Site) -> None:
    base, _ = site
    for path in ("/bank/cheques", "/bank/cheques/write", "/bank/cheques/present",
                 f"/bank/cheques/chq_{'1' * 24}"):
        r = httpx.get(f"{base}{path}")
        assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"
        assert r.headers["cache-control"] == "no-store"
    for name in ("bank_cheques.css", "bank_cheques_kit.js", "bank_cheques_write.js",
                 "bank_cheques_one.js", "bank_cheques_present.js"):
        r = httpx.get(f"{base}/static/{name}")
        assert r.status_code == 200 and "unsafe-inline" not in r.headers[
            "content-security-policy"]
        assert "innerHTML" not in r.text and "eval(" not in r.text

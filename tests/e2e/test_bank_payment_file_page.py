"""A payment file (pain.001) from the pages, in a real headless Chromium against a real
server: the customer chooses the file, the bank checks it whole and shows its total, one
passkey step-up confirms it, and each payment's outcome is listed. A file with a payment
to someone who is not a payee is refused whole at the check, before any passkey, and
nothing moves.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.adapters.iso20022.codec import encode
from paywarden.domain.clearing.messages import Channel, CreditTransfer, Pain001, Party
from paywarden.domain.money import Money
from tests.conftest import BACKENDS
from tests.support.bank_browser import accounts, csp_violations, shoot, shots_dir
from tests.support.browser import VirtualAuthenticator

from .bank_site import Site, bank_site
from .test_bank_transfer_pages import (
    ELSEWHERE,
    add_payee,
    booked,
    customer,
    errors_of,
    ok,
    refused,
    someone_else,
)

OURS = "PAYWNL2A"  # the bank's own BIC in the file (PAYW is the default bank code)
STRANGER = "GB33BUKB20201555555555"  # a valid IBAN nobody here added as a payee


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"files-{request.param}"),
                   payee_cooling_off_s="0",
                   rail_interval_s="3600") as site:  # the other bank's payment stays pending
        yield site


def pain001(debtor_iban: str, payments: list[tuple[str, str, int, str]]) -> bytes:
    """A customer's file: (creditor name, IBAN, amount, reference) each."""
    debtor = Party("Ada Lovelace", debtor_iban, OURS)
    deadline = time.time_ns() + 3600 * 1_000_000_000
    return encode(Pain001("FILE-" + secrets.token_hex(6), time.time_ns(), "Ada Lovelace",
                          debtor, tuple(
        CreditTransfer(str(uuid.uuid4()), f"E2E-{i}", f"TX-{i}", Money(amount, "EUR"), debtor,
                       Party(name, iban, OURS), deadline, Channel.RTGS, reference)
        for i, (name, iban, amount, reference) in enumerate(payments))))


def choose(page: Any, tmp_path: Path, name: str, document: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(document)
    page.set_input_files("#file-input", str(path))


def test_a_payment_file_is_checked_whole_confirmed_once_and_each_payment_shown(
        site: Site, passkey_page: tuple[Any, VirtualAuthenticator], browser: Any,
        tmp_path: Path) -> None:
    base, env = site
    page, _ = passkey_page
    violations, crashes = csp_violations(page), errors_of(page)
    shots = shots_dir(tmp_path)
    other, bob = someone_else(browser, base, env, "bob-f", "Bob Builder")
    mine = customer(page, base, env, "ada-f", "Ada Lovelace", funds=100_000)
    add_payee(page, base, "Bob Builder", bob["iban"])
    add_payee(page, base, "Elsewhere GmbH", ELSEWHERE)

    page.goto(f"{base}/bank/payment-files")
    shoot(page, shots, "payment-file-empty")
    # One payment to a stranger: the whole file is refused and nothing moves.
    choose(page, tmp_path, "bad.xml", pain001(mine["iban"], [
        ("Bob Builder", bob["iban"], 10_00, "Invoice 1"),
        ("A Stranger", STRANGER, 5_00, "Invoice 2")]))
    page.click("#check")
    assert "Payment 2: pay only your payees" in refused(page, "payment_file_invalid")
    expect(page.locator("#file-summary")).to_be_hidden()
    shoot(page, shots, "payment-file-refused")
    assert booked(page) == 100_000

    choose(page, tmp_path, "good.xml", pain001(mine["iban"], [
        ("Bob Builder", bob["iban"], 12_50, "Invoice 7"),
        ("Elsewhere GmbH", ELSEWHERE, 30_00, "Invoice 8")]))
    page.click("#check")
    expect(page.locator("#file-totals")).to_have_text("2 payments, €42.50 in all.")
    shoot(page, shots, "payment-file-checked")
    page.click("#send-file")
    expect(ok(page)).to_have_text("2 of 2 payments sent.")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-state", "posted")  # another customer here
    expect(rows.nth(1)).to_have_attribute("data-state", "pending")  # to another bank
    shoot(page, shots, "payment-file-sent")
    assert booked(page) == 100_000 - 12_50  # the other bank's is pending: reserved
    assert int(accounts(page)["Everyday"]["available"]) == 100_000 - 42_50
    assert int(other.pages[0].evaluate(
        "fetch('/v1/me/accounts').then(r => r.json()).then(b => b.data[0].booked)")) == 12_50
    assert violations == [] and crashes == []
    other.close()


def test_the_payment_file_page_needs_a_session(site: Site) -> None:
    import httpx

    base, _ = site
    r = httpx.get(f"{base}/bank/payment-files", follow_redirects=False)
    assert r.status_code in (302, 303) and "/signin" in r.headers["location"]

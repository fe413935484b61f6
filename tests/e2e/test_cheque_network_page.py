"""A cheque drawn on another bank, presented on the pages of a bank of a real clearing
network (decision 0064), in a headless Chromium: the payee pastes it at their bank, is
told the drawer's bank accepted it and the money is on its way, and the cheque's page
shows it paid once the transfer settled, with the presentation that collected it.
Presented again, it bounces duplicate on the page and nothing moves."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.bank_browser import csp_violations, shoot, shots_dir
from tests.support.browser import VirtualAuthenticator

from .clearing_net import lab
from .test_cheque_pages import bounced, customer, present

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
AMOUNT = 45_00


def booked(page: Any) -> int:
    got = page.evaluate("""async () => (await (await fetch('/v1/me/accounts')).json())""")
    return int(got["data"][0]["booked"])


def test_a_cheque_of_another_network_bank_is_collected_from_the_present_page(
        passkey_page: tuple[Any, VirtualAuthenticator], tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    page, _ = passkey_page
    seen = csp_violations(page)
    shots = shots_dir(tmp_path)
    with lab("sqlite", Path(tmp_path_factory.mktemp("lab")), regions=1, banks=2) as the_lab:
        drawer = the_lab.customer("bank-1a")
        base = the_lab.node("bank-1b").url.replace("127.0.0.1", "localhost")
        mine = customer(page, base, "grace-payee", "Grace Hopper")
        today = dt.datetime.now(dt.UTC).date()
        written = drawer.write_cheque(mine["iban"], AMOUNT, payee_name="Grace Hopper",
                                      date=today.isoformat(),
                                      expires_on=(today + dt.timedelta(days=30)).isoformat())
        before = drawer.balance()

        status = present(page, base, written["jws"])
        expect(status).to_have_attribute("data-kind", "ok")
        words = status.text_content() or ""
        assert "accepted the cheque" in words and "on its way" in words, words
        expect(page.locator("#present-result")).to_be_hidden()
        shoot(page, shots, "cheques-present-collecting")
        cheque_id = status.get_attribute("data-cheque")
        assert cheque_id is not None

        deadline = time.monotonic() + 60
        while booked(page) < AMOUNT and time.monotonic() < deadline:
            time.sleep(0.25)
        assert booked(page) == AMOUNT
        page.goto(f"{base}/bank/cheques/{cheque_id}")
        expect(page.locator("[data-outcome='collecting']")).to_have_count(1)
        expect(page.locator("main")).to_contain_text("Paid")
        shoot(page, shots, "cheques-network-paid")
        assert drawer.balance() == before - AMOUNT

        assert "presented before" in bounced(page, base, written["jws"], "duplicate")
        shoot(page, shots, "cheques-network-duplicate")
        assert booked(page) == AMOUNT and drawer.balance() == before - AMOUNT
        the_lab.verify_every_node()
    assert seen == []

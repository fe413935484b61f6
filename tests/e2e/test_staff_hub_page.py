"""A clearing hub's page in a real headless Chromium against a real hub (decision 0057):
its operator sees each participant's settlement balance, net position and cap, and the
net windows; closes the open window from the page (nothing moves), and once the hub's
host settles it the balances have moved by the net positions. A supervisor reads the
same page with no button."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.domain.clearing import messages as m
from paywarden.domain.money import Money
from paywarden.services.clearing import Role
from paywarden.services.clearing.windows import NetWindows
from paywarden.services.identity.enrolment import create_staff
from paywarden.services.writepath import GroupWriter
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.support.bank_browser import csp_violations, shoot, shots_dir
from tests.support.clearing import KeySigner
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for

from .bank_site import Site, bank_site
from .test_staff_pages import joiner

HUB, BANK_A, BANK_B = "HUBAEUR1", "BANKAAA2", "BANKBBB2"
STAFF = {"olga": "operator", "sue": "supervisor"}
NETWORK = {"clearing_bic": HUB, "clearing_role": "hub"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"hub-{request.param}"),
                   **NETWORK) as site:
        yield site


def _platform(env: dict[str, str]) -> Any:
    return build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                          data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                          webauthn_rp_id=RP_ID, **NETWORK))


@dataclass
class Paid:
    """Bank A's transfer to bank B on MPNS, decided: its position, taken and committed
    in one unit, as the hub's own units do."""

    windows: NetWindows
    uetr: str
    amount: int
    chain: tuple[()] = ()
    accounts: tuple[()] = ()
    savepoint: bool = False

    def run(self, batch: Any) -> None:
        assert self.windows.reserve(batch, self.uetr, BANK_A, BANK_B, self.amount, "EUR")
        self.windows.commit(batch, self.uetr)

    def result(self) -> None:
        return None


def setup(env: dict[str, str]) -> dict[str, str]:
    """By a second process on the hub's database, as its operators and participants
    would: banks A and B on MPNS, A with 500.00 EUR moved into its settlement account and
    a net debit cap of 300.00; A has paid B 120.00 net. (Staff tokens.)"""
    platform = _platform(env)
    node = platform.clearing
    assert node is not None and node.hub is not None
    with client_for(create_app(platform)):
        platform.queries.create_ledger("EUR", now_ns=platform.clock.now_ns())
        for bic in (BANK_A, BANK_B):
            node.peers.register(bic=bic, name=f"Bank {bic[4]}", role=Role.PARTICIPANT,
                                url=f"http://{bic.lower()}.test", region="eu",
                                currency="EUR", public_key_pem=KeySigner().public_pem,
                                channel=m.Channel.NET, net_debit_cap=300_00,
                                actor="cli:operator")
        node.peers.fund(BANK_A, Money(1_000_00, "EUR"), funding_id="a1", actor="cli:operator")
        uetr = str(uuid.uuid4())
        moved = node.hub.on_pacs009(m.Pacs009(
            m.Header("L" + uetr[:20], platform.clock.now_ns(), BANK_A, HUB),
            (m.BankTransfer("I" + uetr[:8], "E" + uetr[:8], uetr, Money(500_00, "EUR"), HUB,
                            BANK_A),)), BANK_A)
        assert isinstance(moved, m.Pacs002) and moved.statuses[0].status is m.Status.ACSC
        assert node.windows is not None
        writer = GroupWriter(platform.database, clock=platform.clock).start()
        try:
            writer.execute(Paid(node.windows, str(uuid.uuid4()), 120_00))
        finally:
            writer.stop()
        return {username: create_staff(platform.credentials, username=username, role=role,
                                       display_name=username.title(), actor="cli:test",
                                       ttl_s=3600, ttl_s_max=3600).enrolment.token
                for username, role in STAFF.items()}


def settle(env: dict[str, str], window_id: str) -> None:
    """The hub's host settles the closed window (``paywarden clearing window settle``)."""
    platform = _platform(env)
    assert platform.clearing is not None and platform.clearing.windows is not None
    with client_for(create_app(platform)):
        platform.clearing.windows.settle(window_id, actor="cli:operator")


# What the page sends when its answer was lost and the operator's browser sends it again.
RETRY_CLOSE = """async (id) => {
  const r = await fetch("/v1/staff/clearing/windows/EUR/close", {method: "POST",
    headers: {"Content-Type": "application/json", Accept: "application/json"},
    body: JSON.stringify({window_id: id}), credentials: "same-origin"});
  return [r.status, await r.json()];
}"""


def test_an_operator_reads_positions_and_closes_a_window_from_the_hub_page(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    tokens = setup(env)

    olga_ctx, olga = joiner(browser, base, "olga", tokens["olga"])
    blocked = csp_violations(olga)
    olga.click("#to-clearing-hub")
    a = olga.locator(f"table.hub-participants tr[data-bic='{BANK_A}']")
    b = olga.locator(f"table.hub-participants tr[data-bic='{BANK_B}']")
    expect(a).to_contain_text("€500.00")  # its settlement balance
    expect(a).to_contain_text("€300.00")  # its cap
    expect(a).to_have_attribute("data-net", "-12000")
    expect(b).to_have_attribute("data-net", "12000")
    expect(olga.locator("#sum [data-sum]")).to_have_attribute("data-sum", "0")
    window = olga.locator("table.hub-windows tr[data-state='open']")
    expect(window).to_have_count(1)
    window_id = window.get_attribute("data-window")
    assert window_id
    shoot(olga, shots, "staff-clearing-hub")

    window.locator("button.close-window").click()
    expect(olga.locator("#windows .outcome[data-code='window_closed']")).to_contain_text(
        f"Window {window_id} is closed")
    closed = olga.locator(f"table.hub-windows tr[data-window='{window_id}']")
    expect(closed).to_have_attribute("data-state", "closed")
    expect(closed.locator("button")).to_have_count(0)
    status, answer = olga.evaluate(RETRY_CLOSE, window_id)  # the page's request, again
    assert status == 200 and (answer["id"], answer["state"]) == (window_id, "closed"), answer
    olga.reload()
    expect(olga.locator("table.hub-windows tr[data-state='open']")).to_have_count(1)
    expect(olga.locator("table.hub-windows tr[data-state='closed']")).to_have_count(1)
    expect(closed).to_have_attribute("data-state", "closed")  # kept, not only shown
    expect(a).to_contain_text("€500.00")  # closing moved no money

    settle(env, window_id)
    olga.reload()
    expect(closed).to_have_attribute("data-state", "settled")
    expect(a).to_contain_text("€380.00")
    expect(b).to_contain_text("€120.00")
    expect(a).to_have_attribute("data-net", "0")
    shoot(olga, shots, "staff-clearing-hub-settled")

    # A supervisor reads the same page, and has no button.
    sue_ctx, sue = joiner(browser, base, "sue", tokens["sue"])
    blocked += csp_violations(sue)
    sue.goto(f"{base}/staff/clearing/hub")
    expect(sue.locator(f"table.hub-participants tr[data-bic='{BANK_A}']")).to_have_count(1)
    expect(sue.locator("button.close-window")).to_have_count(0)
    expect(sue.locator("#windows")).to_contain_text("Operators close windows")
    olga_ctx.close()
    sue_ctx.close()
    assert blocked == []

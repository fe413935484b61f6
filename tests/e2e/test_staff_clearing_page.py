"""Returns from the back office in a real headless Chromium against a real bank of the
clearing network (decision 0060): a support member finds a transfer another bank paid a
customer, submits returning it from its card (202: nothing moves), a risk member approves
it in the inbox with a passkey, and the customer's money goes back, once; the card then
says so. The hub is not running, so the return waits on its way, stored: the page says
that too. Photographed at desktop and phone widths."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from paywarden.adapters.store.database import open_database
from paywarden.adapters.store.schema import bank_clearing_out, bank_transfers
from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.domain.clearing.messages import Status
from paywarden.services.identity.enrolment import create_staff
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.support.bank_browser import csp_violations, shoot, shots_dir
from tests.support.clearing_fakes import BANK, HUB, credit, final, forwarded
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for
from tests.support.transfers import customer

from .bank_site import Site, bank_site
from .test_staff_pages import card, joiner

STAFF = {"sue": "support", "ann": "risk"}
NETWORK = {"clearing_bic": BANK, "clearing_hub": f"{HUB}=http://127.0.0.1:9"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"returns-{request.param}"),
                   **NETWORK) as site:
        yield site


def setup(env: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """By a second process on the bank's database, as the network and the CLI would: a
    customer, Ada, paid 250.00 EUR by another bank (accepted, then settled by the hub's
    status), and staff enrolment tokens. (Ada's account id, the transfer's UETR, tokens.)"""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                              webauthn_rp_id=RP_ID, clearing_bic=BANK,
                              clearing_hub=NETWORK["clearing_hub"]))
    assert platform.clearing_bank is not None
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        ada = customer(api, "ada", funds=100_00)
        now = platform.clock.now_ns()
        tx = credit(ada.account["iban"], 250_00, deadline_ns=now + 60 * 10**9,
                    uetr=str(uuid.uuid4()))
        incoming = platform.clearing_bank.incoming
        incoming.on_pacs008(forwarded(tx, now_ns=now), HUB)
        incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), HUB)
        tokens = {username: create_staff(platform.credentials, username=username, role=role,
                                         display_name=username.title(), actor="cli:test",
                                         ttl_s=3600, ttl_s_max=3600).enrolment.token
                  for username, role in STAFF.items()}
    return ada.account["id"], tx.uetr, tokens


def returns_of(env: dict[str, str], uetr: str) -> list[tuple[str, int, str]]:
    """(state, amount, from account) of each return movement of ``uetr``, read from the
    bank's database as an operator would."""
    database = open_database(env["PAYWARDEN_DATABASE_URL"])
    try:
        with database.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(bank_transfers.c.state, bank_transfers.c.amount,
                       bank_transfers.c.from_account)
                .join(bank_clearing_out, bank_clearing_out.c.movement_id == bank_transfers.c.id)
                .where(bank_clearing_out.c.original_uetr == uetr))]
    finally:
        database.dispose()


def test_a_transfer_from_another_bank_is_returned_by_two_people_from_the_pages(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    account_id, uetr, tokens = setup(env)

    # Sue (support) finds the transfer and submits returning part of it: nothing moves.
    sue_ctx, sue = joiner(browser, base, "sue", tokens["sue"])
    blocked = csp_violations(sue)
    sue.click("#to-clearing")
    arrived = sue.locator(f"article.incoming[data-uetr='{uetr}']")
    expect(arrived.locator("h2")).to_contain_text("€250.00 from Grace Hopper")
    expect(arrived.locator(".badge")).to_have_text(["Settled"])
    expect(arrived.locator(f"dd:has-text('{account_id}')")).to_have_count(1)
    shoot(sue, shots, "staff-clearing")
    arrived.locator(".amount").fill("12.345")  # not money in EUR: said before any request
    arrived.locator("button.submit-return").click()
    expect(arrived.locator(".outcome[data-code='amount_unreadable']")).to_contain_text(
        "2 decimals at most")
    arrived.locator(".amount").fill("250.01")  # more than came: refused, said plainly
    arrived.locator("button.submit-return").click()
    expect(arrived.locator(".outcome[data-code='return_amount_invalid']")).to_contain_text(
        "at most what came")
    arrived.locator(".amount").fill("")  # all of it
    arrived.locator(".reason").select_option("FR01")
    arrived.locator("button.submit-return").click()
    expect(arrived.locator(".outcome[data-code='approval_pending']")).to_contain_text(
        "Return 250.00 EUR of transfer")
    approval_id = arrived.get_attribute("data-approval")
    assert approval_id and approval_id.startswith("apr_")
    shoot(sue, shots, "staff-clearing-submitted")
    assert returns_of(env, uetr) == []

    # Ann (risk) approves it in the inbox: Ada's 250.00 leaves, once; the hub is down, so
    # the return waits on its way back, stored, and the card says so.
    ann_ctx, ann = joiner(browser, base, "ann", tokens["ann"])
    blocked += csp_violations(ann)
    ann.goto(f"{base}/staff/approvals#{approval_id}")
    asked = card(ann, approval_id)
    expect(asked.locator(".params")).to_contain_text('"reason": "FR01"')
    asked.locator("button.approve").click()
    expect(asked.locator(".outcome[data-kind='ok']")).to_contain_text("Executed")
    ann.goto(f"{base}/staff/clearing")
    returned = ann.locator(f"article.incoming[data-uetr='{uetr}']")
    expect(returned).to_have_attribute("data-returned", "sent")
    expect(returned.locator(".returned")).to_contain_text("is on its way back")
    expect(returned.locator("form.return")).to_have_count(0)  # one return per transfer
    [(state, amount, source)] = returns_of(env, uetr)
    assert (state, amount, source) == ("pending", 250_00, account_id)  # debited, held
    shoot(ann, shots, "staff-clearing-returned")

    assert blocked == []
    for ctx in (sue_ctx, ann_ctx):
        ctx.close()

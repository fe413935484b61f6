"""Recalls from the back office in a real headless Chromium against a real bank of the
clearing network (decision 0061). Another bank asks for two transfers back: a support
member refuses one with a reason (nothing moves) and agrees to the other, which a risk
member approves in the inbox, so the money goes back as a return, once. On the page of
transfers to other banks, the support member asks for one of our customer's transfers
back; the hub is not running, so the ask waits, stored, and the card says so."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from paywarden.adapters.store.schema import bank_clearing_out
from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.domain.clearing.messages import Camt056, Header, Recall, Status, new_case_id
from paywarden.domain.money import Money
from paywarden.services.identity.enrolment import create_staff
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.support.bank_browser import csp_violations, shoot, shots_dir
from tests.support.clearing_fakes import BANK, HUB, credit, final, forwarded
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for
from tests.support.transfers import ELSEWHERE, add_payee, customer, send

from .bank_site import Site, bank_site
from .test_staff_pages import card, joiner

STAFF = {"sam": "support", "rita": "risk"}
NETWORK = {"clearing_bic": BANK, "clearing_hub": f"{HUB}=http://127.0.0.1:9"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"recalls-{request.param}"),
                   **NETWORK) as site:
        yield site


def setup(env: dict[str, str]) -> tuple[str, str, str, dict[str, str]]:
    """By a second process on the bank's database, as the network would: Bob, paid 60.00
    and 70.00 EUR by another bank, both recalled by it (FRAD); and 40.00 Bob paid to
    another bank, settled. (The two recalled UETRs, Bob's own transfer's, staff tokens.)"""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                              webauthn_rp_id=RP_ID, **NETWORK))
    bank = platform.clearing_bank
    assert bank is not None
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        bob = customer(api, "bob", funds=100_00)
        recalled = []
        for amount in (60_00, 70_00):
            now = platform.clock.now_ns()
            tx = credit(bob.account["iban"], amount, deadline_ns=now + 60 * 10**9,
                        uetr=str(uuid.uuid4()))
            bank.incoming.on_pacs008(forwarded(tx, now_ns=now), HUB)
            bank.incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), HUB)
            bank.recalls.on_camt056(Camt056(Header("hub" + new_case_id()[:20], now, HUB, BANK), (
                Recall(new_case_id(), "MSG-1", tx.uetr, tx.end_to_end_id,
                       Money(amount, "EUR"), "FRAD"),)), HUB)
            recalled.append(tx.uetr)
        payee = add_payee(api, bob, "Bob's old bank", ELSEWHERE)
        r = send(api, bob, payee, 40_00, "savings")
        assert r.status_code == 201, r.text
        bank.link.run_due()  # the hub is down: stored, on its way
        with platform.database.engine.connect() as conn:
            ours = str(conn.execute(select(bank_clearing_out.c.uetr).where(
                bank_clearing_out.c.movement_id == r.json()["id"])).scalar_one())
        bank.incoming.on_pacs002(final((ours, Status.ACSC, None),
                                       now_ns=platform.clock.now_ns()), HUB)
        tokens = {username: create_staff(platform.credentials, username=username, role=role,
                                         display_name=username.title(), actor="cli:test",
                                         ttl_s=3600, ttl_s_max=3600).enrolment.token
                  for username, role in STAFF.items()}
    return recalled[0], recalled[1], ours, tokens


def test_recalls_are_answered_and_asked_from_the_pages(browser: Any, site: Site,
                                                        tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    agreed, refused, ours, tokens = setup(env)

    # Sam (support) refuses one recall with a reason: answered at once, nothing moves.
    sam_ctx, sam = joiner(browser, base, "sam", tokens["sam"])
    blocked = csp_violations(sam)
    sam.click("#to-clearing")
    no = sam.locator(f"article.incoming[data-uetr='{refused}']")
    expect(no.locator("section.recall[data-recall='open']")).to_contain_text(
        "asks for €70.00 of this back: Fraud")
    expect(no.locator("form.return")).to_have_count(0)  # the ask is answered instead
    shoot(sam, shots, "staff-clearing-recalled")
    no.locator(".refusal").select_option("LEGL")
    no.locator("button.refuse-recall").click()
    expect(no.locator(".outcome[data-code='refused']")).to_contain_text(
        "Refused: A legal reason (LEGL). The paying bank is told")
    expect(no.locator("section.recall")).to_have_attribute("data-recall", "refused")

    # ... and agrees to the other: a return for a member of risk to approve.
    yes = sam.locator(f"article.incoming[data-uetr='{agreed}']")
    yes.locator("button.agree").click()
    expect(yes.locator(".outcome[data-code='approval_pending']")).to_contain_text(
        "recalled by the payer's bank (FRAD)")
    approval_id = yes.get_attribute("data-approval")
    assert approval_id and approval_id.startswith("apr_")

    # Rita (risk) approves it: the 60.00 goes back, once; the card says the recall was
    # agreed and the return is on its way (the hub is down).
    rita_ctx, rita = joiner(browser, base, "rita", tokens["rita"])
    blocked += csp_violations(rita)
    rita.goto(f"{base}/staff/approvals#{approval_id}")
    asked = card(rita, approval_id)
    expect(asked.locator(".params")).to_contain_text('"reason": "FOCR"')
    asked.locator("button.approve").click()
    expect(asked.locator(".outcome[data-kind='ok']")).to_contain_text("Executed")
    rita.goto(f"{base}/staff/clearing")
    done = rita.locator(f"article.incoming[data-uetr='{agreed}']")
    expect(done.locator("section.recall")).to_have_attribute("data-recall", "accepted")
    expect(done).to_have_attribute("data-returned", "sent")
    expect(done.locator(".returned")).to_contain_text("€60.00 is on its way back")
    shoot(rita, shots, "staff-clearing-recall-agreed")

    # Sam asks for Bob's own transfer back from the page of transfers to other banks.
    sam.goto(f"{base}/staff")
    sam.click("#to-clearing-sent")
    out = sam.locator(f"article.outgoing[data-uetr='{ours}']")
    expect(out.locator("h2")).to_contain_text("€40.00 to Bob's old bank")
    expect(out.locator(".badge")).to_have_text(["Settled"])
    shoot(sam, shots, "staff-clearing-sent")
    out.locator(".amount").fill("40.01")
    out.locator("button.submit-recall").click()
    expect(out.locator(".outcome[data-code='recall_amount_invalid']")).to_contain_text(
        "at most what was paid")
    out.locator(".amount").fill("")
    out.locator(".reason").select_option("AC03")
    out.locator("button.submit-recall").click()
    expect(out.locator(".outcome[data-code='recall_asked']")).to_contain_text(
        "Nothing has moved")
    sam.reload()
    out = sam.locator(f"article.outgoing[data-uetr='{ours}']")
    expect(out).to_have_attribute("data-recall", "open")
    expect(out.locator(".recall-note")).to_contain_text(
        "Paid to the wrong account): waiting for the other bank's answer")
    expect(out.locator(".recall-note")).to_contain_text("Not delivered yet")
    expect(out.locator("form.recall")).to_have_count(0)
    shoot(sam, shots, "staff-clearing-sent-recalled")

    assert blocked == []
    for ctx in (sam_ctx, rita_ctx):
        ctx.close()

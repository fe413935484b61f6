"""The second set of back-office pages in a real headless Chromium against a real server
(decision 0048): support looks a customer up, sees them masked and reveals the e-mail with
a reason (the audit log keeps it); a security admin asks for a role for a colleague (202,
waiting in the inbox), a second admin approves it there and the role shows; a grant that
breaks separation of duties is refused in words; a leaver's next page is the sign-in; a
burst of lookups raises an insider alert that risk takes on; the keys page lists the keys
and asks for a retired one's destruction through the inbox. Photographed at desktop and
phone widths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from paywarden.adapters.store.schema import audit_entries
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.domain.integrity import Findings
from paywarden.services.identity.enrolment import create_staff
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.integration.test_lookup_and_insider import ada
from tests.support.bank_browser import api_in_page, csp_violations, shoot, shots_dir
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for

from .bank_site import Site, bank_site
from .test_staff_pages import card, joiner

PEOPLE = {"sue": "support", "rita": "risk", "ann": "security_admin", "ben": "security_admin",
          "carl": "support"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"staff2-{request.param}")) as site:
        yield site


def setup(env: dict[str, str]) -> tuple[Platform, str, dict[str, str], dict[str, str]]:
    """A second process on the site's database, as the CLI would: a customer, Ada, with an
    e-mail, an account and a card; staff with enrolment tokens; the receipts key rotated
    (its first version retired). (platform, Ada's id, tokens, user ids by username)."""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                              webauthn_rp_id=RP_ID))
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        customer_id, _ = ada(api)
    tokens, ids = {}, {}
    for username, role in PEOPLE.items():
        made = create_staff(platform.credentials, username=username, role=role,
                            display_name=username.title(), actor="cli:test", ttl_s=3600,
                            ttl_s_max=3600)
        tokens[username], ids[username] = made.enrolment.token, made.user.id
    platform.keys.rotate("receipts", actor="cli:test")
    # What a serving process records when a file of its release changed (decision 0069).
    platform.integrity.record(Findings(changed=("web/templates/docs.html",)))
    return platform, customer_id, tokens, ids


def person(page: Any, user_id: str) -> Any:
    return page.locator(f"article.person[data-id='{user_id}']")


def test_support_security_admins_and_risk_do_their_work_from_the_pages(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    platform, customer_id, tokens, ids = setup(env)

    # Sue (support) finds Ada by username: masked, cards as brand and last four.
    sue_ctx, sue = joiner(browser, base, "sue", tokens["sue"])
    blocked = csp_violations(sue)
    sue.click("#to-customers")
    expect(sue.locator(".lead")).to_contain_text("Card numbers are never shown")
    sue.fill("#query", "ada")
    sue.click("#look-up")
    expect(sue.locator("#profile")).to_be_visible()
    expect(sue.locator("#f-email")).to_have_text("a•••@example.com")
    expect(sue.locator("#cards li")).to_have_text(["visa ••• 4242"])
    expect(sue.locator("#account-rows td[data-label='IBAN']")).to_contain_text("•••")
    # Revealing needs a reason; with one, the e-mail shows and the log keeps the reason.
    sue.locator("[data-field='email'] button.reveal").click()
    expect(sue.locator("#reveal-status[data-code='reason_required']")).to_be_visible()
    sue.fill("#reason", "customer on the phone, ticket 4711")
    sue.locator("[data-field='email'] button.reveal").click()
    expect(sue.locator("#f-email")).to_have_text("ada@example.com")
    expect(sue.locator("#reveal-status")).to_contain_text("Recorded in the audit log")
    shoot(sue, shots, "staff-customer")
    with platform.database.engine.connect() as conn:
        [detail] = conn.execute(select(audit_entries.c.detail).where(
            audit_entries.c.object == customer_id,
            audit_entries.c.action == "customer.reveal")).scalars().all()
    assert json.loads(detail) == {"field": "email",
                                  "reason": "customer on the phone, ticket 4711"}
    # An IBAN finds her too (spaces do not matter).
    iban = api_in_page(sue, "POST", f"/v1/staff/customers/{customer_id}/reveal",
                       {"field": "iban", "reason": "checking the IBAN search"})["body"]["value"]
    sue.check("input[name='by'][value='iban']")
    sue.fill("#query", " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)))
    sue.click("#look-up")
    expect(sue.locator("#customer-id")).to_have_text(customer_id)

    # Ann (security admin) asks for risk for Carl: 202, waiting, nothing changed yet.
    ann_ctx, ann = joiner(browser, base, "ann", tokens["ann"])
    blocked += csp_violations(ann)
    ann.click("#to-people")
    carl = person(ann, ids["carl"])
    expect(carl.locator("li.privilege .role")).to_have_text(["support"])
    carl.locator(".grant-role").select_option("risk")
    carl.locator("button.grant-button").click()
    expect(carl.locator(".outcome[data-kind='ok']")).to_contain_text(
        "Nothing changes until another security admin approves")
    expect(carl.locator("li.pending-grant a")).to_have_attribute(
        "href", re.compile(r"^/staff/approvals#apr_[0-9a-f]{24}$"))
    approval_id = (carl.locator("li.pending-grant a").get_attribute("href") or "").split("#")[1]
    shoot(ann, shots, "staff-people")
    # A grant that breaks separation of duties is refused, in the words of the table.
    rita_card = person(ann, ids["rita"])
    rita_card.locator(".grant-role").select_option("operator")
    rita_card.locator("button.grant-button").click()
    expect(rita_card.locator(".outcome[data-code='role_conflict']")).to_contain_text(
        "Refused: rita holds risk, and no one may hold operator together with risk")
    shoot(ann, shots, "staff-people-conflict")

    # Ben, the second security admin, approves it in the inbox; the role shows.
    ben_ctx, ben = joiner(browser, base, "ben", tokens["ben"])
    blocked += csp_violations(ben)
    ben.click("#to-approvals")
    grant = card(ben, approval_id)
    expect(grant.locator(".params")).to_contain_text('"role": "risk"')
    grant.locator("button.approve").click()
    expect(grant.locator(".outcome[data-kind='ok']")).to_contain_text("Executed")
    ann.reload()
    expect(person(ann, ids["carl"]).locator("li.privilege .role")).to_have_text(
        ["risk", "support"])
    expect(person(ann, ids["carl"]).locator("li.pending-grant")).to_have_count(0)

    # A burst of lookups (31 in the hour) raises an insider alert that Rita takes on.
    api_in_page(sue, "GET", "/v1/staff/customers?username=ada")
    sue.evaluate("""async (id) => { for (let i = 0; i < 31; i += 1) {
        await fetch(`/v1/staff/customers/${id}`); } }""", customer_id)
    rita_ctx, rita = joiner(browser, base, "rita", tokens["rita"])
    blocked += csp_violations(rita)
    rita.click("#to-alerts")
    burst = rita.locator("article.alert[data-kind='insider.view_burst']")
    expect(burst.locator("h2")).to_have_text("Unusual number of customer lookups")
    expect(burst.locator(".about")).to_have_text("Sue (sue)")
    changed = rita.locator("article.alert[data-kind='integrity.violated']")
    expect(changed.locator("h2")).to_have_text(
        "The platform's files differ from its release, or its keys are exposed")
    expect(changed).to_contain_text("changed since the release: web/templates/docs.html")
    shoot(rita, shots, "staff-alerts")
    burst.locator("button.acknowledge").click()
    expect(burst.locator(".outcome[data-kind='ok']")).to_contain_text("Taken on")
    expect(burst.locator(".acknowledger")).to_contain_text("you")
    rita.click("#tab-all")
    expect(rita.locator("article.alert[data-kind='insider.view_burst'] .acknowledger")
           ).to_contain_text("Rita (rita)")

    # The keys page lists the keys; Ann asks for the retired receipts key's destruction.
    ann.goto(f"{base}/staff/keys")
    retired = ann.locator("tr.key[data-purpose='receipts'][data-state='retired']")
    active = ann.locator("tr.key[data-purpose='receipts'][data-state='active']")
    expect(active.locator(".due")).not_to_be_empty()
    expect(ann.locator("tr.key[data-purpose='blind_index'] .due")).to_contain_text("never")
    retired.locator("button.destroy").click()
    shoot(ann, shots, "staff-keys")
    retired.locator("button.confirm-destroy").click()
    expect(retired.locator(".outcome[data-kind='ok']")).to_contain_text(
        "Waiting for a second security admin")
    kid = retired.get_attribute("data-kid")
    ann.reload()
    expect(ann.locator(f"tr.key[data-kid='{kid}'] .pending")).to_be_visible()
    ben.goto(f"{base}/staff/approvals")
    expect(ben.locator("article.approval .params").filter(has_text=kid or "?")).to_have_count(1)

    # Ann deactivates Sue, after a confirmation: Sue's next page is the passkey sign-in.
    ann.goto(f"{base}/staff/people")
    leaver = person(ann, ids["sue"])
    leaver.locator("button.deactivate").click()
    expect(leaver.locator(".confirm")).to_contain_text("Every session and token of theirs")
    shoot(ann, shots, "staff-people-deactivate")
    leaver.locator("button.confirm-deactivate").click()
    expect(leaver.locator(".outcome[data-kind='ok']")).to_contain_text("sue is deactivated")
    expect(leaver.locator(".card-head .badge")).to_have_text("Deactivated")
    sue.goto(f"{base}/staff/customers")
    expect(sue).to_have_url(f"{base}/signin?next=/staff/customers")

    assert blocked == []
    platform.database.dispose()
    for ctx in (sue_ctx, ann_ctx, ben_ctx, rita_ctx):
        ctx.close()

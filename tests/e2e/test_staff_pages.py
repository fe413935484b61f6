"""The staff back office in a real headless Chromium against a real server: three joiners
set up their passkeys from their one-time enrolment links; a risk member submits a staff
refund, sees it waiting for someone else with no Approve button; a second risk member
approves it with a passkey and sees it executed, then rejects another with a reason; the
audit log is shut to them in plain words, and a supervisor sees the approval's entries and
an inclusion proof verified in the page. Photographed at desktop and phone widths."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.services.identity.enrolment import create_staff
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.integration.test_approvals import paid
from tests.support.bank_browser import api_in_page, csp_violations, shoot, shots_dir
from tests.support.browser import PAGE_TIMEOUT_MS, add_virtual_authenticator
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for

from .bank_site import Site, bank_site


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"staff-{request.param}")) as site:
        yield site


def setup(env: dict[str, str], people: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A held 50.00 EUR payment and staff enrolment tokens, made by a second process on
    the site's database, as the CLI would (its passkeys for a test origin: the payment's
    buyer never uses the browser); the payment's id and each username's token."""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                              webauthn_rp_id=RP_ID))
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        payment_id, _ = paid(api)
        tokens = {}
        for username, role in people.items():
            made = create_staff(platform.credentials, username=username, role=role,
                                display_name=username.title(), actor="cli:test",
                                ttl_s=3600, ttl_s_max=3600)
            tokens[username] = made.enrolment.token
    return payment_id, tokens


def joiner(browser: Any, base: str, username: str, token: str,
           shots: Path | None = None) -> tuple[Any, Any]:
    """A new member of staff sets up their passkey from their link; (context, page) at
    the back office home, signed in with it."""
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    add_virtual_authenticator(page)
    page.goto(f"{base}/staff/enrol#{token}")
    assert "#" not in page.url  # the token leaves the address bar at once
    expect(page.locator("html[data-ready='true']")).to_have_count(1)
    page.fill("#username", username)
    if shots is not None:
        shoot(page, shots, "staff-enrol")
    page.click("#create")
    expect(page).to_have_url(f"{base}/staff")
    return context, page


def card(page: Any, approval_id: str) -> Any:
    return page.locator(f"article.approval[data-id='{approval_id}']")


def refund(page: Any, payment_id: str, amount: int, refund_id: str) -> dict[str, Any]:
    """A staff refund submitted from the page's session: 202, waiting for a second person."""
    made = api_in_page(page, "POST", f"/v1/payments/{payment_id}/refunds",
                       {"amount": amount, "refund_id": refund_id})
    assert made["status"] == 202, made
    return made["body"]["approval"]  # type: ignore[no-any-return]


def test_two_people_refund_from_the_inbox_and_a_supervisor_proves_it_in_the_log(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    payment_id, tokens = setup(env, {"ann": "risk", "ben": "risk", "sam": "supervisor"})

    # Ann joins, sees who she is, and submits a refund: it waits, with no Approve for her.
    ann_ctx, ann = joiner(browser, base, "ann", tokens["ann"], shots)
    blocked = csp_violations(ann)
    expect(ann.locator("#whoami")).to_contain_text("Ann (ann)")
    expect(ann.locator("#whoami .role")).to_have_text(["risk"])
    shoot(ann, shots, "staff-home")
    asked = refund(ann, payment_id, 20_00, "web-1")
    ann.click("#to-approvals")
    mine = card(ann, asked["id"])
    expect(mine).to_contain_text("Waiting for someone else")
    expect(mine.locator("button.approve")).to_have_count(0)
    expect(mine.locator("button.withdraw")).to_have_count(1)
    shoot(ann, shots, "staff-inbox-own")

    # Ben joins, reads the exact command and approves it with his passkey: executed once.
    ben_ctx, ben = joiner(browser, base, "ben", tokens["ben"])
    blocked += csp_violations(ben)
    ben.click("#to-approvals")
    theirs = card(ben, asked["id"])
    expect(theirs.locator("h2")).to_contain_text("€20.00")
    expect(theirs.locator(".submitter")).to_have_text("Ann (ann)")
    expect(theirs.locator(".hash")).to_have_text(asked["command_hash"])
    expect(theirs.locator(".params")).to_contain_text('"refund_id": "web-1"')
    shoot(ben, shots, "staff-inbox")
    theirs.locator("button.approve").click()
    expect(theirs.locator(".outcome[data-kind='ok']")).to_contain_text("Executed")
    expect(theirs.locator(".outcome")).to_contain_text("amount €20.00")
    expect(theirs.locator(".outcome")).to_contain_text("refund id web-1")
    expect(theirs.locator("button.approve")).to_have_count(0)
    shoot(ben, shots, "staff-inbox-executed")
    done = api_in_page(ben, "GET", f"/v1/approvals/{asked['id']}")["body"]
    assert done["state"] == "executed" and done["result"]["amount"] == 20_00
    assert done["decided_by"] != done["submitted_by"]

    # A second refund: rejecting needs a reason; with one, nothing runs.
    again = refund(ann, payment_id, 10_00, "web-2")
    ben.reload()
    other = card(ben, again["id"])
    other.locator("button.reject").click()
    expect(other.locator(".outcome[data-code='reason_required']")).to_be_visible()
    other.locator(".reason-input").fill("the customer asked for 5.00, not 10.00")
    other.locator("button.reject").click()
    expect(other.locator(".outcome[data-kind='ok']")).to_contain_text(
        "Rejected: the customer asked for 5.00, not 10.00")
    ben.click("#tab-decided")
    expect(card(ben, asked["id"])).to_contain_text("Executed")
    expect(card(ben, again["id"]).locator(".reason")).to_have_text(
        "the customer asked for 5.00, not 10.00")
    shoot(ben, shots, "staff-inbox-decided")

    # The server refuses self-approval whatever a page shows: Ann forges her own inbox
    # page to show Approve, signs with her passkey, and is told plainly why not.
    third = refund(ann, payment_id, 5_00, "web-3")
    ann.route(f"{base}/staff/approvals", lambda route: route.fulfill(
        response=(r := route.fetch()), body=r.text().replace(
            'class="button secondary withdraw"', 'class="button primary approve"')))
    ann.goto(f"{base}/staff/approvals")
    forged = card(ann, third["id"])
    forged.locator("button.approve").click()
    expect(forged.locator(".outcome[data-code='four_eyes_required']")).to_contain_text(
        "You submitted this request, so you cannot approve or reject it")
    ann.unroute(f"{base}/staff/approvals")
    assert api_in_page(ann, "GET", f"/v1/approvals/{third['id']}")["body"]["state"] == "pending"

    # Risk members may not read the audit log: the page says so in plain words.
    ben.goto(f"{base}/staff/audit")
    expect(ben.locator("#audit-denied")).to_contain_text("read by supervisors")

    # A supervisor sees the approval's steps and a proof verified in the page.
    sam_ctx, sam = joiner(browser, base, "sam", tokens["sam"])
    blocked += csp_violations(sam)
    sam.click("#to-audit")
    expect(sam.locator("#sth-check")).to_have_text("signature verified")
    sam.fill("#find", asked["id"])
    steps = sam.locator("#entry-rows tr:not([hidden]) td.action")
    expect(steps).to_have_text(["approval.executed", "approval.approve", "approval.submit"])
    sam.locator("#entry-rows tr:not([hidden])").first.locator("button.prove").click()
    expect(sam.locator("#proof[data-verified='true'] #proof-verdict")).to_contain_text(
        "Verified in this page")
    shoot(sam, shots, "staff-audit")

    # A server that lies about a proof is caught by the page: one hash changed, not verified.
    def lie(route: Any) -> None:
        answer = route.fetch()
        proof = answer.json()
        proof["hashes"][0] = base64.b64encode(bytes(32)).decode()
        route.fulfill(response=answer, json=proof)

    sam.route("**/v1/audit/proofs/inclusion?*", lie)
    sam.locator("#entry-rows tr:not([hidden])").first.locator("button.prove").click()
    expect(sam.locator("#proof[data-verified='false'] #proof-verdict")).to_contain_text(
        "NOT verified")

    assert blocked == []
    for ctx in (ann_ctx, ben_ctx, sam_ctx):
        ctx.close()

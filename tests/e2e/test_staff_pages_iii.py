"""The disputes queue, the certification queue and the supervisor portal in a real headless
Chromium against a real server: a risk member decides a dispute from the queue (202: it
waits for a second person, linked to the inbox), a second risk member approves it in the
inbox and the money moves; a merchant admin approves an application from the queue and the
merchant enters the registry; a supervisor downloads a report and it verifies against the
audit log; the others are told plainly the portal is not theirs. Photographed at desktop
and phone widths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.services.certification import BusinessDetails
from paywarden.services.identity.enrolment import create_staff
from paywarden.services.supervision.verify import keys_from_jwks, verify
from paywarden.settings import Settings
from tests.conftest import BACKENDS
from tests.integration.test_payments_api import certified, disputed
from tests.support.bank_browser import api_in_page, csp_violations, shoot, shots_dir
from tests.support.identity import ORIGIN, RP_ID
from tests.support.merchants import client_for, make_merchant, signed

from .bank_site import Site, bank_site
from .test_staff_pages import card, joiner

STAFF = {"ann": "risk", "ben": "risk", "meg": "merchant_admin", "sam": "supervisor"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"queues-{request.param}")) as site:
        yield site


def setup(env: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """By a second process on the site's database, as the CLI and the other parties would:
    a 50.00 EUR payment disputed by its buyer and answered by its merchant, a second
    merchant's application with its domain verified, and staff enrolment tokens. The
    payment's id, the applicant's merchant id and each username's token."""
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"]), public_url=ORIGIN,
                              webauthn_rp_id=RP_ID))
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        shop = certified(platform)
        payment_id, _, _ = disputed(api, shop, "bob")
        r = signed(api, shop, "POST", f"/v1/payments/{payment_id}/disputes/answer",
                   json.dumps({"statement": "It left here intact.",
                               "evidence_refs": ["packing-photo-1"]}).encode())
        assert r.status_code == 200, r.text
        lamps = make_merchant(platform, "Lamps")
        platform.certification.apply(lamps.merchant_id, BusinessDetails(
            legal_name="Lamps of Leeds Ltd", registration_number="07 123 456",
            address="2 Mill Lane, Leeds", contact_email="owner@lamps.example"),
            ["lamps.example"], actor=f"merchant:{lamps.merchant_id}")
        platform.certification.attest_domain(lamps.merchant_id, "lamps.example",
                                             actor="cli:test")
        tokens = {}
        for username, role in STAFF.items():
            tokens[username] = create_staff(
                platform.credentials, username=username, role=role,
                display_name=username.title(), actor="cli:test", ttl_s=3600,
                ttl_s_max=3600).enrolment.token
    return payment_id, lamps.merchant_id, tokens


def test_a_dispute_is_decided_by_two_people_an_application_approved_and_a_report_verified(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    payment_id, applicant, tokens = setup(env)

    # Ann reads both sides of the dispute and submits a split: it waits, nothing moves.
    ann_ctx, ann = joiner(browser, base, "ann", tokens["ann"])
    blocked = csp_violations(ann)
    ann.click("#to-disputes")
    dispute = ann.locator(f"article.dispute[data-id='{payment_id}']")
    expect(dispute.locator(".buyer .said")).to_have_text("The lamp is broken.")
    expect(dispute.locator(".merchant .statement")).to_have_text("It left here intact.")
    expect(dispute.locator(".merchant .refs")).to_contain_text("packing-photo-1")
    expect(dispute.locator("h2")).to_contain_text("€50.00 held")
    dispute.locator("input[value='split']").check()
    dispute.locator(".refund-amount").fill("20.00")
    dispute.locator(".release-amount").fill("20.00")
    dispute.locator("button.submit-decision").click()
    expect(dispute.locator(".outcome[data-code='split_does_not_add_up']")).to_be_visible()
    dispute.locator(".release-amount").fill("30.00")
    shoot(ann, shots, "staff-disputes")
    dispute.locator("button.submit-decision").click()
    expect(dispute.locator(".outcome[data-code='approval_pending']")).to_contain_text(
        "waits for a second member of the risk team")
    approval_id = dispute.get_attribute("data-approval")
    assert approval_id and approval_id.startswith("apr_")
    expect(dispute.locator(".outcome a.to-approval")).to_have_attribute(
        "href", f"/staff/approvals#{approval_id}")
    shoot(ann, shots, "staff-disputes-submitted")
    held = api_in_page(ann, "GET", f"/v1/payments/{payment_id}")["body"]
    assert (held["state"], held["refunded"]) == ("disputed", 0)
    ann.reload()  # the queue says a decision waits, and offers no second one
    expect(dispute).to_contain_text("Decision waiting for a second person")
    expect(dispute.locator("form.decide")).to_have_count(0)
    listed = api_in_page(ann, "GET", "/v1/staff/disputes")["body"]["data"]
    assert [(d["payment_id"], d["pending_approval_id"]) for d in listed] == [
        (payment_id, approval_id)]

    # Ben follows the link to the inbox and approves: the money moves, once.
    ben_ctx, ben = joiner(browser, base, "ben", tokens["ben"])
    blocked += csp_violations(ben)
    ben.goto(f"{base}/staff/approvals#{approval_id}")
    asked = card(ben, approval_id)
    expect(asked.locator(".params")).to_contain_text('"resolution": "split"')
    asked.locator("button.approve").click()
    expect(asked.locator(".outcome[data-kind='ok']")).to_contain_text("Executed")
    done = api_in_page(ben, "GET", f"/v1/payments/{payment_id}")["body"]
    assert (done["state"], done["refunded"]) == ("split", 20_00)
    ben.goto(f"{base}/staff/disputes")
    expect(ben.locator("#empty")).to_contain_text("No payment is in dispute")

    # Meg approves the waiting application: a certificate, and the registry lists it.
    meg_ctx, meg = joiner(browser, base, "meg", tokens["meg"])
    blocked += csp_violations(meg)
    meg.click("#to-certification")
    application = meg.locator(f"article.application[data-id='{applicant}']")
    expect(application.locator("h2")).to_have_text("Lamps of Leeds Ltd")
    expect(application.locator("li[data-domain='lamps.example']")).to_contain_text("Verified")
    shoot(meg, shots, "staff-certification")
    application.locator("button.reject").click()  # a rejection needs a reason code
    expect(application.locator(".outcome[data-code='reason_required']")).to_be_visible()
    application.locator("button.approve").click()
    expect(application.locator(".outcome[data-code='certified']")).to_contain_text(
        "certificate")
    entry = api_in_page(meg, "GET", f"/v1/registry/merchants/{applicant}")
    assert (entry["status"], entry["body"]["status"]) == (200, "active")
    meg.click("#tab-approved")
    expect(meg.locator(f"article.application[data-id='{applicant}']")).to_contain_text(
        "Certified")
    shoot(meg, shots, "staff-certification-approved")
    meg.goto(f"{base}/supervision")  # not a supervisor: told so
    expect(meg.locator("#denied")).to_contain_text("supervisors only")

    # Sam downloads the disputes report from the portal; it verifies against the log.
    sam_ctx, sam = joiner(browser, base, "sam", tokens["sam"])
    blocked += csp_violations(sam)
    sam.click("#to-supervision")
    expect(sam.locator("#verify-command")).to_contain_text(
        f"paywarden supervision verify FILE --url {base}")
    expect(sam.locator("li.report")).to_have_count(5)
    shoot(sam, shots, "supervision")
    jwks = api_in_page(sam, "GET", "/.well-known/jwks.json")["body"]
    for fmt in ("json", "pdf"):
        with sam.expect_download() as got:
            sam.locator(f"#report-disputes a.download[data-format='{fmt}']").click()
        data = Path(got.value.path()).read_bytes()
        outcome = verify(data, keys_from_jwks(jwks))
        assert outcome.ok, outcome.as_json()
        if fmt == "json":
            assert payment_id.encode() in data
    sam.fill("#from", "2020-01-01")  # longer than a report may be: said, and not used
    sam.click("#pick")
    expect(sam.locator("#period-problem")).to_contain_text("at most 366 days")

    assert blocked == []
    for ctx in (ann_ctx, ben_ctx, meg_ctx, sam_ctx):
        ctx.close()

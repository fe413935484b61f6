"""The back office dashboard in a real headless Chromium against a real server: a member
of staff signs in with their passkey, opens the dashboard from the back office home, and
every chart loads as an image under the strict policy (no violation reported), each with
its figures as a table; an SVG opened on its own is blocked from nothing it needs either.
Photographed at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS
from tests.support.bank_browser import csp_violations, shoot, shots_dir

from .bank_site import Site, bank_site
from .test_staff_pages import joiner, setup

CHARTS = ("volume", "rates", "risk", "ledger")


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    with bank_site(request.param, tmp_path_factory.mktemp(f"dash-{request.param}")) as site:
        yield site


def test_a_member_of_staff_sees_the_charts_the_tables_and_the_queues(
        browser: Any, site: Site, tmp_path: Path) -> None:
    base, env = site
    shots = shots_dir(tmp_path)
    _, tokens = setup(env, {"olga": "operator"})
    context, page = joiner(browser, base, "olga", tokens["olga"])
    blocked = csp_violations(page)
    page.click("#to-dashboard")
    expect(page).to_have_url(f"{base}/staff/dashboard")
    expect(page.locator("nav a[aria-current='page']")).to_have_text("Dashboard")
    for name in CHARTS:
        expect(page.locator(f"#chart-{name} img")).to_have_attribute(
            "src", f"/staff/charts/{name}.svg?hours=24")
    page.wait_for_function("""() => [...document.querySelectorAll('.chart img')]
        .every(i => i.complete && i.naturalWidth > 0)""")
    expect(page.locator("#queue-pending_approvals .depth")).to_have_text("0")
    expect(page.locator("#queue-pending_approvals a")).to_have_attribute(
        "href", "/staff/approvals")
    page.locator("#chart-volume summary").click()
    expect(page.locator("#chart-volume table tbody tr")).to_have_count(24)
    expect(page.locator("#chart-volume table")).to_contain_text("€50.00")
    shoot(page, shots, "staff-dashboard")
    page.select_option("#hours", "72")
    page.click(".window button")
    expect(page).to_have_url(f"{base}/staff/dashboard?hours=72")
    expect(page.locator("#chart-ledger table tbody tr")).to_have_count(72)
    answer = page.goto(f"{base}/staff/charts/rates.svg")
    assert answer is not None and answer.headers["content-type"] == "image/svg+xml"
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    expect(page.locator("svg .title")).to_have_count(1)
    page.wait_for_timeout(300)  # a violation is reported asynchronously
    assert blocked == []
    context.close()

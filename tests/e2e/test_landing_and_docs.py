"""The landing page, the navigation every page shares, and the API reference offline,
in a real headless Chromium against a real server process.

Screenshots go to ``PAYWARDEN_SCREENSHOT_DIR`` when it is set (to look at them), else
to the test's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .server import free_port, paywarden, serving
from .test_pages import csp_violations

NAV = {"PayWarden": "/", "Merchant registry": "/registry", "API docs": "/docs",
       "Your account": "/account", "Sign in": "/signin", "Create an account": "/signup"}
PAGES_WITH_NAV = ["/", "/signin", "/signup", "/registry", "/docs", "/pay/cs_" + "0" * 24]
# Swagger UI reads a document of some megabytes: about 5 s on an idle machine, and over
# 30 s was seen with the whole suite running beside it on two cores.
SWAGGER_RENDER_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("landing")
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": f"sqlite:///{data}/paywarden.db",
           "PAYWARDEN_DATA_DIR": str(data), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://localhost:{port}",
           "PAYWARDEN_WEBAUTHN_RP_ID": "localhost"}
    paywarden(env, "init")
    with serving(env, port, data / "server.log"):
        yield f"http://localhost:{port}"


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("PAYWARDEN_SCREENSHOT_DIR")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("screens")


def test_the_landing_page_says_what_paywarden_is_and_links_onwards(
        site: str, browser_page: Any, screens: Path) -> None:
    page = browser_page
    violations = csp_violations(page)
    page.goto(f"{site}/")
    expect(page.locator("h1")).to_contain_text("PayWarden")
    expect(page.locator(".lead")).to_contain_text("payment platform")
    main = page.locator("main")
    for href in ("/signup", "/signin", "/docs", "/registry"):
        expect(main.locator(f"a[href='{href}']").first).to_be_visible()
    expect(main.locator("#staff")).to_contain_text("no back-office page yet")
    page.screenshot(path=str(screens / "landing.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(screens / "landing-phone.png"), full_page=True)
    assert violations == []


@pytest.mark.parametrize("path", PAGES_WITH_NAV)
def test_every_page_carries_the_same_navigation(site: str, browser_page: Any,
                                                path: str) -> None:
    page = browser_page
    page.goto(f"{site}{path}")
    nav = page.locator("header nav")
    links = nav.locator("a")
    expect(links).to_have_count(len(NAV))
    for label, href in NAV.items():
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute("href", href)
    current = nav.locator("a[aria-current='page']")
    if path in NAV.values():
        expect(current).to_have_attribute("href", path)
    else:
        expect(current).to_have_count(0)


def test_the_registry_page_says_when_no_merchant_is_certified(
        site: str, browser_page: Any, screens: Path) -> None:
    page = browser_page
    page.goto(f"{site}/registry")
    expect(page.locator("#empty")).to_have_text("No merchant is certified yet.")
    page.screenshot(path=str(screens / "registry.png"), full_page=True)


def test_the_api_reference_renders_with_no_network_but_the_server(
        site: str, browser_page: Any, screens: Path) -> None:
    page = browser_page
    ours = urlsplit(site).netloc
    refused: list[str] = []

    def only_the_server(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == ours:
            route.continue_()
        else:  # a CDN, a validator, a font: the page must not need it
            refused.append(url)
            route.abort()

    page.context.route("**/*", only_the_server)
    violations = csp_violations(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=SWAGGER_RENDER_TIMEOUT_MS)
    assert operations.count() > 50
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PayWarden")
    page.screenshot(path=str(screens / "docs.png"))
    # Open one: its errors are there. Swagger rewrites the URL's fragment as it opens, which
    # Playwright may wait on as a navigation for as long as a loaded machine takes: don't.
    operations.first.locator(".opblock-summary").click(no_wait_after=True)
    expect(page.locator(".opblock.is-open .responses-table").first).to_contain_text(
        "application/problem+json", timeout=SWAGGER_RENDER_TIMEOUT_MS)
    page.screenshot(path=str(screens / "docs-operation.png"), full_page=False)
    assert refused == []
    assert violations == []
    assert errors == []

"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, with passkeys.

Fixtures (made visible to tests/e2e by tests/e2e/conftest.py):

- ``chromium_path`` (session): the browser's path. Missing: a skip on a developer's
  machine, a failure in CI (``make test`` installs it as root: scripts/chromium.py).
- ``browser`` (session): one headless Chromium for the run.
- ``browser_page``: a fresh browser context (no cookies) and a page in it.
- ``passkey_page``: ``(page, authenticator)`` — ``browser_page`` with a virtual
  WebAuthn authenticator added through the DevTools protocol.

Playwright never downloads a browser here: it launches ``executable_path``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PAGE_TIMEOUT_MS = 15_000


def _chromium_script() -> Any:
    spec = importlib.util.spec_from_file_location("pw_chromium", SCRIPTS / "chromium.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pw_chromium", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def chromium_path() -> str:
    script = _chromium_script()
    try:
        # As root (CI) a missing browser is installed with apt-get first.
        return str(script.ensure_chromium_installed())
    except script.ChromiumMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"page tests need Debian's chromium in CI: {exc}")
        pytest.skip(f"no chromium for the page tests: {exc}")


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    """One browser for the package's page tests; stopped after them, because Playwright's
    sync API keeps an event loop running in this thread while it lives."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                              args=["--disable-gpu", "--no-first-run"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@dataclass
class VirtualAuthenticator:
    """A CTAP2 platform authenticator with resident keys and user verification."""

    cdp: Any
    id: str

    def credentials(self) -> list[dict[str, Any]]:
        """What it holds: credentialId, rpId, signCount, userHandle, privateKey, …"""
        answer = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        return list(answer["credentials"])

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send("WebAuthn.setUserVerified",
                      {"authenticatorId": self.id, "isUserVerified": verified})

    def remove(self) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})


def add_virtual_authenticator(page: Any) -> VirtualAuthenticator:
    """Give ``page``'s tab a virtual passkey authenticator (it lasts across navigations)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return VirtualAuthenticator(cdp=cdp, id=added["authenticatorId"])


@pytest.fixture
def passkey_page(browser_page: Any) -> tuple[Any, VirtualAuthenticator]:
    return browser_page, add_virtual_authenticator(browser_page)

"""Fixtures for the end-to-end tests: the real-browser ones live in tests/support/browser.py."""

from tests.support.browser import browser, browser_page, chromium_path, passkey_page

__all__ = ["browser", "browser_page", "chromium_path", "passkey_page"]

#!/usr/bin/env python3
"""Make sure Debian's ``chromium`` is there for the page tests (tests/e2e/test_pages.py).

Standard library only, so it runs before any virtualenv exists, like pgtemp.py.

As a command (``make test`` runs it first)::

    python scripts/chromium.py

prints the browser's path. If it is missing and this is root (CI, a fresh
machine), it is installed with apt-get; a failed install exits non-zero. If it
is missing and this is not root, it says so and exits 0: the page tests then
skip themselves (and fail in CI, where a missing browser is an error).

Playwright drives this browser through ``executable_path``; it never downloads
a browser of its own (``playwright install`` is not used).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

PACKAGE = "chromium"
CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
ENV_VAR = "PAYWARDEN_CHROMIUM"  # a browser elsewhere: its full path


class ChromiumMissing(RuntimeError):
    """Chromium is not installed and could not be."""


def _log(msg: str) -> None:
    print(f"chromium: {msg}", file=sys.stderr, flush=True)


def find_chromium() -> str | None:
    """The browser's path, or None."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def ensure_chromium_installed() -> str:
    """The browser's path; installs Debian's package first when missing and root."""
    found = find_chromium()
    if found:
        return found
    if os.geteuid() != 0:
        raise ChromiumMissing(f"{PACKAGE} is missing and this is not root; install it with: "
                              f"apt-get install -y {PACKAGE}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"],
                ["apt-get", "install", "-y", PACKAGE]):
        _log(f"{PACKAGE} is missing; running: {' '.join(cmd)}")
        rc = subprocess.call(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
        if rc != 0:
            raise ChromiumMissing(f"{' '.join(cmd)} failed with exit code {rc}")
    found = find_chromium()
    if not found:
        raise ChromiumMissing(f"{PACKAGE} installed but no browser found at {CANDIDATES} "
                              f"(or at {ENV_VAR}, if set)")
    return found


def main() -> int:
    try:
        print(ensure_chromium_installed())
    except ChromiumMissing as exc:
        if os.geteuid() == 0:
            _log(str(exc))
            return 1
        _log(f"{exc}; the page tests will be skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

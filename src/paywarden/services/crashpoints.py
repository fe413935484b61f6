"""Tests only: SIGKILL this process at the n-th time a named point is reached.

``crash_at`` (``PAYWARDEN_CRASH_AT``) names the point and the count, ``"interest.accrued:5"``,
or ``"risk_case.claimed:1"``; a service takes only the points under its own prefix. The
tests that kill a real process at each step of a resumable job or a once-only outcome
(tests/integration/test_interest_crash.py, test_risk_case_crash.py) set it; nothing else
does, and unset it costs one string comparison.
"""

from __future__ import annotations

import os
import signal


class CrashPoints:
    def __init__(self, spec: str | None, *, prefix: str) -> None:
        name, _, nth = (spec or "").partition(":")
        self._name = name if name.startswith(prefix) and nth.isdigit() else None
        self._nth = int(nth) if self._name else 0
        self._seen = 0

    def reached(self, name: str) -> None:
        if name == self._name:
            self._seen += 1
            if self._seen == self._nth:
                os.kill(os.getpid(), signal.SIGKILL)

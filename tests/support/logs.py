"""Capturing what the fail-stop logs, whatever logging an earlier test configured.

``configure_logging`` caches each logger on first use, and a cached logger keeps the
processors it was made with: ``capture_logs`` alone sees nothing from it then. So the
module's logger is swapped for a fresh one made inside the capture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from paywarden.services import failstop


@contextmanager
def failstop_logs() -> Iterator[list[dict[str, Any]]]:
    with capture_logs() as logs, pytest.MonkeyPatch.context() as patch:
        patch.setattr(failstop, "log", structlog.get_logger(failstop.__name__))
        yield logs

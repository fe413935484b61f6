"""The wiring of the fail-stop: the ledger engine's writer reports a broken invariant to it."""

from __future__ import annotations

from typing import Any

import pytest

from paywarden import bootstrap
from paywarden.adapters.clock import FakeClock
from paywarden.services.failstop import FailStop
from paywarden.settings import Settings


def test_the_ledger_engine_is_given_the_fail_stop_as_its_on_fatal_hook(
        monkeypatch: pytest.MonkeyPatch) -> None:
    given: dict[str, Any] = {}

    class Engine:  # records what the engine is built with
        def __init__(self, database: object, *, clock: object, queue_depth_max: int,
                     expiry_interval_s: float, wait_s: float, on_fatal: object) -> None:
            given["on_fatal"] = on_fatal
            given["wait_s"] = wait_s

    monkeypatch.setattr(bootstrap, "LedgerEngine", Engine)
    failstop = FailStop()
    bootstrap.build_engine(Settings(), database=object(), clock=FakeClock(),  # type: ignore[arg-type]
                           failstop=failstop)
    assert given["on_fatal"] == failstop.crash
    assert given["wait_s"] == Settings().ledger_wait_s

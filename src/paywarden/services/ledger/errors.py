"""Errors of the ledger service.

    PayWardenError
    └── LedgerServiceError
        ├── EngineOverloaded    the queue is full: retry later (HTTP 503)
        ├── EngineStopped       the engine is not running, or its writer died (HTTP 503)
        │   └── EngineUnresponsive  no answer within the engine's wait_s: the outcome
        │                           is unknown, a retry with the same ids is safe
        └── BatchTooLarge       more than BATCH_SIZE_MAX events in one submission
"""

from __future__ import annotations

from ...domain.errors import PayWardenError


class LedgerServiceError(PayWardenError):
    code = "ledger_error"


class EngineOverloaded(LedgerServiceError):
    code = "engine_overloaded"

    def __init__(self, queue_depth_max: int) -> None:
        super().__init__(f"the ledger queue is full ({queue_depth_max} submissions waiting)")
        self.queue_depth_max = queue_depth_max


class EngineStopped(LedgerServiceError):
    code = "engine_stopped"


class EngineUnresponsive(EngineStopped):
    """A wait on the writer timed out. An ``EngineStopped`` so that every caller (and the
    API's 503) treats a writer that does not answer like one that is gone."""

    code = "engine_unresponsive"

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"no answer from the ledger writer within {wait_s:g} s; the outcome "
                         "is unknown: retry with the same ids")
        self.wait_s = wait_s


class BatchTooLarge(LedgerServiceError):
    code = "batch_too_large"

    def __init__(self, size: int, size_max: int) -> None:
        super().__init__(f"a batch holds at most {size_max} events, got {size}")
        self.size = size
        self.size_max = size_max

"""The ledger service: the engine (writes), queries (reads) and verify."""

from .engine import LedgerEngine, NewAccount
from .errors import (
    BatchTooLarge,
    EngineOverloaded,
    EngineStopped,
    EngineUnresponsive,
    LedgerServiceError,
)

__all__ = [
    "BatchTooLarge",
    "EngineOverloaded",
    "EngineStopped",
    "EngineUnresponsive",
    "LedgerEngine",
    "LedgerServiceError",
    "NewAccount",
]

"""The one write path for money with a state change: units of work in group commits."""

from .batch import Batch, LedgerRefused
from .writer import GroupWriter, Unit, WriterStopped

__all__ = ["Batch", "GroupWriter", "LedgerRefused", "Unit", "WriterStopped"]

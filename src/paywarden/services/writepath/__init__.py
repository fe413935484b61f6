"""The one write path for money with a state change: units of work in group commits."""

from .batch import Batch, LedgerRefused
from .writer import GroupWriter, Records, Unit, WriterStopped

__all__ = ["Batch", "GroupWriter", "LedgerRefused", "Records", "Unit", "WriterStopped"]

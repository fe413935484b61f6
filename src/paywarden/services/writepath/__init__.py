"""The one write path for money with a state change: units of work in group commits."""

from .batch import Batch, LedgerRefused
from .writer import GroupWriter, Recording, Records, Unit, WriterStopped

__all__ = ["Batch", "GroupWriter", "LedgerRefused", "Recording", "Records", "Unit", "WriterStopped"]

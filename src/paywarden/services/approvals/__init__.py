"""Four-eyes approvals: the engine (engine.py) and what it executes (executors.py)."""

from .engine import Approvals
from .executors import Approval, Checked, Executor

__all__ = ["Approval", "Approvals", "Checked", "Executor"]

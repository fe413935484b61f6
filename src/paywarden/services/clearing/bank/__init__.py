"""The participant bank's side of the clearing network (decision 0056)."""

from .directory import Directory
from .incoming import Incoming
from .outgoing import ClearingLink

__all__ = ["ClearingLink", "Directory", "Incoming"]

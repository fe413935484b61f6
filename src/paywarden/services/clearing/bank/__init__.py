"""The participant bank's side of the clearing network (decision 0056)."""

from .directory import Directory
from .incoming import Incoming
from .outgoing import ClearingLink
from .participant import ClearingBank

__all__ = ["ClearingBank", "ClearingLink", "Directory", "Incoming"]

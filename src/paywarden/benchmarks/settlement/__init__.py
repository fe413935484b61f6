"""The settlement benchmark (issue 14): the local two-region clearing network under load
and kills; see ``run``. ``load`` is the customers' payment files and the kill schedule."""

from __future__ import annotations

from .run import main, parse_args

__all__ = ["main", "parse_args"]

"""Request body of a buyer's stored card (api/card_routes.py)."""

from __future__ import annotations

from pydantic import Field

from ..text import Line
from . import Strict


class CardIn(Strict):
    number: str = Field(max_length=40, description="digits, spaces or dashes allowed")
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    holder_name: Line = Field(max_length=128)

"""Request bodies of merchant users: invitations, accepting one, settings
(api/merchant_user_routes.py)."""

from __future__ import annotations

from pydantic import Field

from ...services.merchants.users import TOKEN_CHARS_MAX
from ..text import Line
from . import Strict


class InvitationIn(Strict):
    email: Line = Field(min_length=3, max_length=254)
    role: Line = Field(max_length=16, description="owner, developer or support")


class AcceptIn(Strict):
    token: str = Field(max_length=TOKEN_CHARS_MAX, pattern=r"^pwi_[A-Za-z0-9_-]+$",
                       description="the invitation link's fragment, after '#'")
    username: Line = Field(min_length=3, max_length=64)
    display_name: Line = Field(default="", max_length=128)


class SettingsIn(Strict):
    refund_approval_min: int | None = Field(
        ge=0, le=10**15, description="a merchant user's refund of at least this many minor "
        "units waits for a second owner; null: none does")

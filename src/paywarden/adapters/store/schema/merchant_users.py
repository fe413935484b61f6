"""A merchant's people: one-time invitations, and the merchant's own settings (migration
0028, decision 0051).

An invitation's token is shown once, in the link; only its SHA-256 is stored, so a copy
of this table invites no one. The invitee's e-mail is sealed like every personal field.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table

from .base import SEALED, metadata

merchant_invitations = Table(
    "merchant_invitations",
    metadata,
    Column("id", String(32), primary_key=True),  # inv_…
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("email_sealed", LargeBinary, info=SEALED),
    Column("role", String(32), nullable=False),  # owner | developer | support
    Column("invited_by", String(200), nullable=False),  # the inviter's actor
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),  # set once, when accepted: a second use is refused
    Column("user_id", String(32), ForeignKey("users.id")),  # the user it made
)

merchant_settings = Table(
    "merchant_settings",
    metadata,
    Column("merchant_id", String(32), ForeignKey("merchants.id"), primary_key=True),
    # A merchant user's refund of at least this many minor units waits for a second
    # person of the merchant; NULL: no such threshold (every refund is one person's).
    Column("refund_approval_min", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

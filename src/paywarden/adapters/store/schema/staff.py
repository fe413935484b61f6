"""Staff lifecycle (migration 0023, decision 0043).

``service_credential_grants``: a service credential two security admins agreed to
(an executed ``service_credential`` approval), waiting for its submitter to redeem it
once. No token exists until then, so no secret is ever stored: redeeming mints the
token, shows it once and writes the session's id here.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from .base import metadata

service_credential_grants = Table(
    "service_credential_grants",
    metadata,
    Column("approval_id", String(32), primary_key=True),  # apr_…
    Column("submitted_by", String(128), nullable=False),  # the one person who may redeem
    Column("service", String(64), nullable=False),
    Column("ttl_s", BigInteger, nullable=False),  # the token's life, from redemption
    Column("amount_max", BigInteger),  # the largest transfer it may post, minor units
    Column("approved_at", BigInteger, nullable=False),
    Column("redeem_by", BigInteger, nullable=False),  # unredeemed past this: void
    Column("redeemed_at", BigInteger),
    Column("session_id", String(32)),  # the minted token's session
)

"""WebAuthn ceremonies: a challenge handed out once, taken back once, within its life.

A ceremony is opened by an ``…/options`` call and taken by the matching
``…/verify`` call. Taking it marks it used in its own transaction, before the
response is checked, so that a challenge is worth one attempt whatever the
outcome: a replayed assertion, or a second try with the same challenge, finds
it gone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from ...adapters.store.schema import webauthn_challenges
from .sessions import NS, new_id

CHALLENGE_BYTES = 32  # random challenges; step-up challenges are SHA-256 digests, also 32
PRUNE_AFTER_NS = 3600 * NS  # used or expired ceremonies are kept this long, then deleted


class Purpose:
    REGISTER = "register"
    SIGN_IN = "sign_in"
    # Handed out for a username that has no account: it looks like any other
    # sign-in ceremony and can never succeed.
    SIGN_IN_VOID = "sign_in_void"
    STEP_UP = "step_up"


@dataclass(frozen=True)
class Ceremony:
    id: str
    user_id: str | None
    purpose: str
    challenge: bytes
    operation: str | None
    created_at: int
    expires_at: int


def open_ceremony(conn: Connection, *, purpose: str, user_id: str | None, challenge: bytes,
                  now_ns: int, timeout_s: int, operation: str | None = None) -> str:
    ceremony_id = new_id("chl_")
    conn.execute(delete(webauthn_challenges).where(
        webauthn_challenges.c.expires_at < now_ns - PRUNE_AFTER_NS))
    conn.execute(insert(webauthn_challenges).values(
        id=ceremony_id, user_id=user_id, purpose=purpose, challenge=challenge,
        operation=operation, created_at=now_ns, expires_at=now_ns + timeout_s * NS,
        used_at=None))
    return ceremony_id


def take_ceremony(conn: Connection, ceremony_id: str, *, purposes: Collection[str],
                  now_ns: int) -> Ceremony | None:
    """The ceremony, now used; None if unknown, of another purpose, used or expired."""
    if not isinstance(ceremony_id, str) or len(ceremony_id) > 32:
        return None
    row = conn.execute(select(webauthn_challenges).where(
        webauthn_challenges.c.id == ceremony_id)).mappings().first()
    if row is None or row["purpose"] not in purposes or row["used_at"] is not None:
        return None
    if now_ns >= row["expires_at"]:
        return None
    taken = conn.execute(update(webauthn_challenges).where(
        webauthn_challenges.c.id == ceremony_id, webauthn_challenges.c.used_at.is_(None),
    ).values(used_at=now_ns)).rowcount
    if taken != 1:  # another request took it first
        return None
    return Ceremony(id=row["id"], user_id=row["user_id"], purpose=row["purpose"],
                    challenge=bytes(row["challenge"]), operation=row["operation"],
                    created_at=row["created_at"], expires_at=row["expires_at"])

"""Finishing a sign-in once a factor is proven: a new session, and alerts for what is new.

Every factor's flow (passkey, password + TOTP, recovery code) ends here, so
the rules for what a sign-in does are in one place: a fresh token, the device
and address remembered as keyed digests, and a notification to the user when
either is new.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from ...adapters.store.schema import sign_in_origins
from ...domain.errors import DomainError
from .. import audit
from .notices import notify
from .sessions import NewSession, Sessions
from .users import User


@dataclass(frozen=True)
class RequestMeta:
    """What the request says about where it came from. Never trusted for access."""

    address: str
    user_agent: str
    device_id: str  # a random id the device keeps in a cookie; "" if none yet


def complete_sign_in(conn: Connection, sessions: Sessions, user: User, *,
                     methods: frozenset[str], meta: RequestMeta, origin_key: bytes,
                     now_ns: int) -> NewSession:
    if user.status != "active":
        raise DomainError("sign_in_failed", "sign-in failed")
    new = sessions.start(conn, kind=user.kind, user_id=user.id, owner=user.owner,
                         roles=user.roles, auth_methods=methods, label=user.username,
                         user_agent=meta.user_agent, address=meta.address)
    # The very first sign-in is new by definition; alerting on it would teach users to ignore alerts.
    seen_before = conn.execute(select(sign_in_origins.c.kind).where(
        sign_in_origins.c.user_id == user.id).limit(1)).first() is not None
    fresh = [kind for kind, value in (("device", meta.device_id), ("address", meta.address))
             if value and _remember(conn, user.id, kind, origin_digest(origin_key, value), now_ns)]
    if fresh and seen_before:
        notify(conn, user.id, "new_sign_in_origin", keys=sessions.keys, now_ns=now_ns,
               subject="A sign-in from a new " + " and ".join(fresh),
               body=f"Your account was signed in to from a new {' and '.join(fresh)} "
                    f"({meta.user_agent[:80] or 'unknown browser'}). If it was not you, "
                    "revoke the session and change your factors.")
    audit.record(conn, at_ns=now_ns, actor=user.id, action="session.sign_in",
                 object_id=new.session.id,
                 detail={"methods": sorted(methods), "new": fresh})
    return new


def origin_digest(key: bytes, value: str) -> str:
    """A device id or address as a keyed digest: comparable, not reversible without the key."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _remember(conn: Connection, user_id: str, kind: str, digest: str, now_ns: int) -> bool:
    """Note the origin; True if it was not known before."""
    where = (sign_in_origins.c.user_id == user_id, sign_in_origins.c.kind == kind,
             sign_in_origins.c.digest == digest)
    if conn.execute(update(sign_in_origins).where(*where).values(last_seen_at=now_ns)).rowcount:
        return False
    conn.execute(insert(sign_in_origins).values(user_id=user_id, kind=kind, digest=digest,
                                                first_seen_at=now_ns, last_seen_at=now_ns))
    return True

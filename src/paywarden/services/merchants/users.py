"""A merchant's people: invitations, joining with a passkey, disabling, and the merchant's
own four-eyes threshold for refunds (decision 0051).

Joining takes two steps, so no person ever has a password and no link is good twice:

1. an owner (or the host, for the first owner) invites an e-mail address to a role; the
   one-time token is shown once, in the link ``<public_url>/merchant/join#<token>``
   (a fragment never reaches a server log), and only its SHA-256 is stored;
2. the invitee accepts it with a username: the invitation is used up in the same
   transaction that creates the user and an *enrolment session* (services/identity/
   enrolment.py), good only for registering the person's passkey.

A role within a merchant is one of ``owner``, ``developer``, ``support``; the access
policy holds them as ``merchant_<role>`` (domain/identity/policy.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import (
    approvals,
    merchant_invitations,
    merchant_settings,
    merchants,
    users,
)
from ...domain.approvals import MERCHANT_KINDS, State
from ...domain.errors import DomainError
from ...domain.identity import Kind
from .. import audit
from ..identity.credentials import ENROLMENT_S
from ..identity.enrolment import Enrolled, checked_display_name, start_enrolment
from ..identity.sessions import Sessions
from ..identity.users import User, create_user, user_of
from ..sealed import FieldKeys, open_text, row_id, seal_text

ROLES = ("owner", "developer", "support")
INVITATION_TTL_S = 24 * 3600
TOKEN_PREFIX = "pwi_"
TOKEN_BYTES = 32
TOKEN_CHARS_MAX = 64
EMAIL_CHARS_MAX = 254
USERS_LIST_MAX = 200
REFUND_APPROVAL_MIN_MAX = 10**15  # minor units: beyond any refund
NS = 1_000_000_000
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def policy_role(role: str) -> str:
    """The access policy's name of a role within a merchant."""
    if role not in ROLES:
        raise DomainError("merchant_role_invalid", f"a merchant user's role is one of "
                          f"{', '.join(ROLES)}")
    return f"merchant_{role}"


def role_of(user: User) -> str:
    return next((r.removeprefix("merchant_") for r in sorted(user.roles)), "none")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_email(email: str) -> str:
    if not isinstance(email, str) or len(email) > EMAIL_CHARS_MAX or not _EMAIL.match(email):
        raise DomainError("email_invalid", "the email address is not valid")
    return email


@dataclass(frozen=True)
class Invitation:
    id: str
    merchant_id: str
    role: str
    expires_at: int
    token: str = field(repr=False)  # shown once, never stored


class MerchantUsers:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys,
                 sessions: Sessions, ttl_s: int = INVITATION_TTL_S) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._sessions = sessions
        self.ttl_s = ttl_s

    # Invitations

    def invite(self, merchant_id: str, *, email: str, role: str, actor: str,
               first_owner: bool = False) -> Invitation:
        """A one-time invitation of ``email`` to ``role`` at ``merchant_id``.

        ``first_owner``: the host's invitation (the CLI), refused once the merchant has an
        active owner: from then on its owners invite, so nobody with a shell on the host
        makes themselves a second owner of a merchant that has one."""
        policy_role(role)
        address = _check_email(email)
        now = self._clock.now_ns()
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        invitation_id = "inv_" + secrets.token_hex(12)
        sealed = seal_text(self._keys, address, table="merchant_invitations",
                           column="email_sealed", row=row_id(invitation_id))
        with self._database.engine.begin() as conn:
            _active_merchant(conn, merchant_id)
            if first_owner and _has_owner(conn, merchant_id):
                raise DomainError("merchant_has_owner", f"merchant {merchant_id} has an owner: "
                                  "its owners invite its people")
            conn.execute(insert(merchant_invitations).values(
                id=invitation_id, merchant_id=merchant_id, token_sha256=_digest(token),
                email_sealed=sealed, role=role, invited_by=actor[:200], created_at=now,
                expires_at=now + self.ttl_s * NS))
            audit.record(conn, at_ns=now, actor=actor, action="merchant_user.invite",
                         object_id=invitation_id,
                         detail={"merchant": merchant_id, "role": role})  # no e-mail: kept for ever
        return Invitation(invitation_id, merchant_id, role, now + self.ttl_s * NS, token)

    def accept(self, token: str, *, username: str, display_name: str = "",
               address: str = "", user_agent: str = "") -> Enrolled:
        """Use up an invitation: the user, and an enrolment session for their passkey."""
        now = self._clock.now_ns()
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) \
                or len(token) > TOKEN_CHARS_MAX:
            raise _unusable()
        shown = checked_display_name(display_name or username)
        with self._database.engine.begin() as conn:
            row = conn.execute(select(merchant_invitations).where(
                merchant_invitations.c.token_sha256 == _digest(token)).with_for_update()
            ).mappings().first()
            if row is None or row["used_at"] is not None or row["expires_at"] <= now:
                raise _unusable()
            _active_merchant(conn, row["merchant_id"])
            email = open_text(self._keys, row["email_sealed"], table="merchant_invitations",
                              column="email_sealed", row=row_id(row["id"]))
            user = create_user(conn, keys=self._keys, kind=Kind.MERCHANT, username=username,
                               display_name=shown, roles=frozenset({policy_role(row["role"])}),
                               now_ns=now, email=email, merchant_id=row["merchant_id"])
            used = conn.execute(update(merchant_invitations).where(
                merchant_invitations.c.id == row["id"], merchant_invitations.c.used_at.is_(None)
            ).values(used_at=now, user_id=user.id)).rowcount
            if used != 1:
                raise _unusable()
            new = start_enrolment(conn, self._sessions, user, ttl_s=ENROLMENT_S,
                                  address=address, user_agent=user_agent)
            audit.record(conn, at_ns=now, actor=user.id, action="merchant_user.join",
                         object_id=user.id, detail={"merchant": row["merchant_id"],
                                                    "role": row["role"], "invitation": row["id"],
                                                    "enrolment_session": new.session.id})
        return Enrolled(user, new)

    # People

    def list(self, merchant_id: str) -> list[User]:
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(users).where(
                users.c.kind == Kind.MERCHANT.value, users.c.merchant_id == merchant_id
            ).order_by(users.c.created_at, users.c.id).limit(USERS_LIST_MAX)).mappings().all()
        return [user_of(row, keys=self._keys) for row in rows]

    def disable(self, merchant_id: str, user_id: str, *, by: str, actor: str) -> int:
        """Disable one of the merchant's people: their sessions end, their pending requests
        are withdrawn. Not oneself, so a merchant always keeps the owner who acts."""
        if user_id == by:
            raise DomainError("merchant_user_self", "an owner does not disable themselves")
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            row = conn.execute(select(users.c.kind, users.c.merchant_id, users.c.status).where(
                users.c.id == user_id).with_for_update()).mappings().first()
            if row is None or row["kind"] != Kind.MERCHANT.value \
                    or row["merchant_id"] != merchant_id:
                raise DomainError("merchant_user_not_found", f"no user {user_id} here")
            if row["status"] != "active":
                raise DomainError("merchant_user_not_active", f"user {user_id} is "
                                  f"{row['status']}")
            conn.execute(update(users).where(users.c.id == user_id).values(status="disabled"))
            revoked = self._sessions.revoke_all(conn, user_id)
            withdrawn = conn.execute(update(approvals).where(
                approvals.c.submitted_by == user_id, approvals.c.state == str(State.PENDING),
                approvals.c.kind.in_([str(k) for k in MERCHANT_KINDS])
            ).values(state=str(State.WITHDRAWN), decided_by=actor[:128], decided_at=now,
                     reason="the submitter was disabled")).rowcount
            audit.record(conn, at_ns=now, actor=actor, action="merchant_user.disable",
                         object_id=user_id, detail={"merchant": merchant_id,
                                                    "sessions_revoked": revoked,
                                                    "approvals_withdrawn": withdrawn})
        return revoked

    # Settings

    def refund_approval_min(self, merchant_id: str) -> int | None:
        """A refund of at least this many minor units needs a second person; None: none."""
        with self._database.engine.connect() as conn:
            value = conn.execute(select(merchant_settings.c.refund_approval_min).where(
                merchant_settings.c.merchant_id == merchant_id)).scalar()
        return None if value is None else int(value)

    def set_refund_approval_min(self, merchant_id: str, value: int | None, *,
                                actor: str) -> int | None:
        if value is not None and (type(value) is not int
                                  or not 0 <= value <= REFUND_APPROVAL_MIN_MAX):
            raise DomainError("refund_approval_min_invalid", "refund_approval_min is null or "
                              f"0 to {REFUND_APPROVAL_MIN_MAX} minor units")
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            before = conn.execute(select(merchant_settings.c.refund_approval_min).where(
                merchant_settings.c.merchant_id == merchant_id).with_for_update()).first()
            values = {"refund_approval_min": value, "updated_at": now,
                      "updated_by": actor[:200]}
            if before is None:
                conn.execute(insert(merchant_settings).values(merchant_id=merchant_id,
                                                              **values))
            else:
                conn.execute(update(merchant_settings).where(
                    merchant_settings.c.merchant_id == merchant_id).values(**values))
            audit.record(conn, at_ns=now, actor=actor, action="merchant.settings",
                         object_id=merchant_id, detail={
                             "refund_approval_min": value,
                             "before": None if before is None else before[0]})
        return value


def _unusable() -> DomainError:
    return DomainError("invitation_unusable", "this invitation is unknown, used or expired: "
                       "ask for a new one")


def _has_owner(conn: Connection, merchant_id: str) -> bool:
    return conn.execute(select(users.c.id).where(
        users.c.kind == Kind.MERCHANT.value, users.c.merchant_id == merchant_id,
        users.c.status == "active", users.c.roles == policy_role("owner")).limit(1)
    ).first() is not None


def _active_merchant(conn: Connection, merchant_id: str) -> None:
    status = conn.execute(select(merchants.c.status).where(
        merchants.c.id == merchant_id)).scalar()
    if status is None:
        raise DomainError("merchant_not_found", f"no merchant {merchant_id}")
    if status != "active":
        raise DomainError("merchant_not_active", f"merchant {merchant_id} is {status}")

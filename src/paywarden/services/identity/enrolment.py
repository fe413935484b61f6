"""New accounts: customers sign themselves up; staff are created on the server host.

Either way the new user gets an *enrolment token*: a session with no roles and
``auth_methods={"enrolment"}``, which the access policy refuses everything
except registering the user's own factors (a passkey, or password + TOTP).
The account becomes usable for signing in only once it has such factors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, update
from sqlalchemy.exc import IntegrityError

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity import STAFF_ROLES, Kind
from ...domain.identity.passwords import Personal
from .. import audit
from . import usernames
from .credentials import ENROLMENT, ENROLMENT_S, Credentials
from .sessions import NewSession, Sessions
from .users import User, create_user, normalise_username

DISPLAY_NAME_CHARS_MAX = 128
EMAIL_CHARS_MAX = 254
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Enrolled:
    user: User
    enrolment: NewSession  # its token is shown once


def start_enrolment(conn: Connection, sessions: Sessions, user: User, *, ttl_s: int,
                    address: str = "", user_agent: str = "") -> NewSession:
    """An enrolment session for ``user``: no roles, good only for adding their factors."""
    return sessions.start(conn, kind=user.kind, user_id=user.id, owner=user.owner,
                          roles=frozenset(), auth_methods=frozenset({ENROLMENT}),
                          label=user.username, user_agent=user_agent, address=address,
                          absolute_s=ttl_s, idle_s=ttl_s)


def sign_up_customer(creds: Credentials, *, username: str, display_name: str,
                     email: str | None, password: str | None, address: str = "",
                     user_agent: str = "") -> Enrolled:
    name = normalise_username(usernames.precis_form(username))
    shown = checked_display_name(display_name)
    if email is not None and (len(email) > EMAIL_CHARS_MAX or not _EMAIL.match(email)):
        raise DomainError("email_invalid", "the email address is not valid")
    password_hash = None
    if password is not None:
        creds.passwords.acceptable(password, personal=Personal(name, shown))
        password_hash = creds.passwords.hash(password)
    now = creds.clock.now_ns()
    try:
        with creds.database.engine.begin() as conn:
            user = create_user(conn, keys=creds.keys, kind=Kind.CUSTOMER, username=name, display_name=shown,
                               roles=frozenset({"customer"}), now_ns=now, email=email)
            if password_hash is not None:
                conn.execute(update(users).where(users.c.id == user.id).values(
                    password_hash=password_hash, password_changed_at=now))
            new = start_enrolment(conn, creds.sessions, user, ttl_s=ENROLMENT_S,
                                  address=address, user_agent=user_agent)
            audit.record(conn, at_ns=now, actor=user.id, action="customer.sign_up",
                         object_id=user.id, detail={"password": password_hash is not None,
                                                    "email": email is not None})
    except IntegrityError as exc:  # the same name signed up concurrently
        raise DomainError("username_taken", "that username is taken") from exc
    return Enrolled(user, new)


def create_staff(creds: Credentials, *, username: str, role: str | None, display_name: str,
                 actor: str, ttl_s: int, ttl_s_max: int) -> Enrolled:
    """A staff user and their enrolment token (recorded as ``actor``'s action).

    With a ``role`` the user holds it at once: only for the bootstrap and for tests
    (services/staff/joiners.py). Everyone else joins with ``role=None`` and their first
    role is a four-eyes role grant (decision 0043)."""
    if role is not None and role not in STAFF_ROLES:
        raise DomainError("role_unknown", f"role {role!r} is not a staff role: one of "
                          f"{', '.join(sorted(STAFF_ROLES))}")
    if not 0 < ttl_s <= ttl_s_max:
        raise DomainError("ttl_invalid", f"ttl {ttl_s} s must be between 1 and {ttl_s_max} s")
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        user = create_user(conn, keys=creds.keys, kind=Kind.STAFF, username=username,
                           display_name=checked_display_name(display_name or username),
                           roles=frozenset({role} if role else ()), now_ns=now)
        new = start_enrolment(conn, creds.sessions, user, ttl_s=ttl_s)
        audit.record(conn, at_ns=now, actor=actor, action="staff.create", object_id=user.id,
                     detail={"role": role, "enrolment_session": new.session.id,
                             "ttl_s": ttl_s})  # no username: entries are kept for ever
    return Enrolled(user, new)


def checked_display_name(display_name: str) -> str:
    shown = display_name.strip()
    if not shown or len(shown) > DISPLAY_NAME_CHARS_MAX or not shown.isprintable():
        raise DomainError("display_name_invalid", f"a display name is 1 to "
                          f"{DISPLAY_NAME_CHARS_MAX} printable characters")
    return shown

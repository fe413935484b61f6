"""Who may change a user's factors, and setting or changing a password.

Factors are changed by the user themself, through a full session of theirs or
an enrolment session (no roles, ``auth_methods={"enrolment"}``: made at
sign-up, or by ``paywarden staff create``). Nobody changes another user's
factors — not support staff, who can only start a reset (see resets).

Changing an existing password needs the current one and a fresh second
factor (a TOTP code now, or a passkey sign-in of the last few minutes); both
count as sign-in attempts against guessing. Every change raises a
notification and an audit record, and hands the session a new token; a
password change also ends every other session of the user.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import Connection, update

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ...domain.identity.passwords import Personal
from .. import audit
from ..access import AccessDenied
from ..sealed import FieldKeys
from . import totp
from .credentials import ENROLMENT, FIRST_FACTOR, FRESH_S, Credentials
from .guessing import Reservation, reserve, succeeded
from .notices import notify
from .password_signin import record_failure
from .sessions import NewSession, SessionInfo, idle_window_ns
from .signin import RequestMeta
from .users import User, get_user

log = structlog.get_logger(__name__)
NS = 10**9


class ReauthFailed(DomainError):
    """The current password or the fresh second factor was not right (403)."""

    def __init__(self) -> None:
        super().__init__("reauthentication_failed",
                         "the current password or code is not right, or the account is locked")


@dataclass(frozen=True)
class Holder:
    """A user acting on their own factors, and the session they act through."""

    user: User
    session: SessionInfo
    enrolment: bool


def holder(creds: Credentials, principal: Principal) -> Holder:
    """The user whose factors this principal may change; AccessDenied otherwise."""
    info = creds.sessions.get(principal.session_id) if principal.session_id else None
    with creds.database.engine.connect() as conn:
        user = get_user(conn, principal.id, keys=creds.keys) if info is not None else None
    enrolment = principal.auth_methods == {ENROLMENT} and not principal.roles
    full = bool(principal.roles) and not principal.auth_methods & {ENROLMENT, FIRST_FACTOR}
    if user is None or info is None or info.user_id != user.id or not (enrolment or full):
        _refuse(creds, principal, "not a session of a user (full, or for enrolment)")
    assert user is not None and info is not None  # for the type checker: _refuse raised
    if user.status != "active":
        _refuse(creds, principal, f"account is {user.status}")
    return Holder(user, info, enrolment)


def passkey_fresh(creds: Credentials, holder: Holder) -> bool:
    """Signed in with a passkey within FRESH_S: as good as a second factor given now."""
    age_ns = creds.clock.now_ns() - holder.session.created_at
    return "passkey" in holder.session.auth_methods and age_ns <= FRESH_S * NS


def rotate(conn: Connection, creds: Credentials, holder: Holder) -> NewSession:
    """A new token for the same session (its absolute expiry kept); the old one revoked."""
    info = holder.session
    left_s = max(1, (info.absolute_expires_at - creds.clock.now_ns()) // NS)
    new = creds.sessions.start(conn, kind=info.kind, user_id=info.user_id, owner=info.owner,
                               roles=info.roles, auth_methods=info.auth_methods,
                               label=info.label, user_agent=info.user_agent,
                               address=info.address, absolute_s=left_s,
                               idle_s=min(left_s, _idle_s(info)))
    creds.sessions.revoke(conn, info.id)
    return new


def factor_changed(conn: Connection, holder: Holder, *, keys: FieldKeys, action: str,
                   subject: str, now_ns: int, detail: dict[str, object] | None = None) -> None:
    """The notification and audit record every factor change raises."""
    notify(conn, holder.user.id, "factor_changed", keys=keys, now_ns=now_ns, subject=subject,
           body=f"{subject}. If it was not you, sign in and revoke your sessions at once, "
                "or contact support.")
    audit.record(conn, at_ns=now_ns, actor=f"{holder.user.id}/{holder.session.id}",
                 action=action, object_id=holder.user.id, detail=detail or {})


def set_password(creds: Credentials, principal: Principal, *, new_password: str,
                 current_password: str | None, totp_code: str | None,
                 meta: RequestMeta) -> NewSession | None:
    """Set a first password, or change one. The new token, unless an enrolment session."""
    who = holder(creds, principal)
    user = who.user
    creds.passwords.acceptable(new_password, personal=Personal(user.username,
                                                                user.display_name))
    change = user.password_hash is not None
    by_passkey = change and passkey_fresh(creds, who)
    reservation = None
    if change and not by_passkey:
        if current_password is None or totp_code is None:
            raise DomainError("reauthentication_required", "changing a password needs the "
                              "current password and a code (or a fresh passkey sign-in)")
        reservation = _reserve(creds, user)
        verified = creds.passwords.verify(user.password_hash if reservation else None,
                                          current_password)
        if not verified.ok:
            raise _reauth_failed(creds, user, reservation, "password", meta)
    new_hash = creds.passwords.hash(new_password)
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        refused = reservation is not None and (
            totp_code is None or not totp.use_code(conn, user.id, totp_code, keys=creds.keys,
                                                       now_ns=now))
        if not refused:
            if reservation is not None:
                succeeded(conn, user.id)
            new = _store_password(conn, creds, who, new_hash, change=change,
                                  by_passkey=by_passkey, now_ns=now)
    if refused:
        raise _reauth_failed(creds, user, reservation, "second_factor", meta)
    log.info("factor.password", user=user.id, change=change)
    return new


def _store_password(conn: Connection, creds: Credentials, who: Holder, new_hash: str, *,
                    change: bool, by_passkey: bool, now_ns: int) -> NewSession | None:
    conn.execute(update(users).where(users.c.id == who.user.id).values(
        password_hash=new_hash, password_changed_at=now_ns, reset_requested_at=None))
    new = None if who.enrolment else rotate(conn, creds, who)
    if change:
        keep = new.session.id if new is not None else who.session.id
        creds.sessions.revoke_all(conn, who.user.id, keep=keep)
        factor_changed(conn, who, keys=creds.keys, action="factor.password_change", now_ns=now_ns,
                       subject="Your password was changed",
                       detail={"by": "passkey" if by_passkey else "password+totp"})
    else:
        factor_changed(conn, who, keys=creds.keys, action="factor.password_set", now_ns=now_ns,
                       subject="A password was set for your account")
    return new


def prove_fresh(creds: Credentials, who: Holder, code: str | None, meta: RequestMeta) -> None:
    """A fresh second factor: a passkey sign-in of the last minutes, or a TOTP code now.

    A wrong code counts against guessing like a failed sign-in: a stolen
    session must not become a way to try every code.
    """
    if passkey_fresh(creds, who):
        return
    if code is None:
        raise DomainError("reauthentication_required", "a current code from the "
                          "authenticator app (or a fresh passkey sign-in) is needed for this")
    reservation = _reserve(creds, who.user)
    ok = False
    if reservation is not None:
        with creds.database.engine.begin() as conn:
            ok = totp.use_code(conn, who.user.id, code, keys=creds.keys,
                               now_ns=creds.clock.now_ns())
            if ok:
                succeeded(conn, who.user.id)
    if not ok:
        raise _reauth_failed(creds, who.user, reservation, "second_factor", meta)


def _reserve(creds: Credentials, user: User) -> Reservation | None:
    with creds.database.engine.begin() as conn:
        reservation = reserve(conn, user.id, now_ns=creds.clock.now_ns(),
                              failures_max=creds.failures_max, lock_s=creds.lock_s)
    return reservation if reservation.verdict.allowed else None


def _reauth_failed(creds: Credentials, user: User, reservation: Reservation | None,
                   reason: str, meta: RequestMeta) -> ReauthFailed:
    record_failure(creds, user, reservation, reason, meta, action="factor.reauthenticate")
    return ReauthFailed()


def _idle_s(info: SessionInfo) -> int:
    return idle_window_ns(info.idle_expires_at, info.last_seen_at) // NS


def _refuse(creds: Credentials, principal: Principal, why: str) -> None:
    log.warning("access_denied", actor=principal.actor, what="own factors", why=why)
    with creds.database.engine.begin() as conn:
        audit.record(conn, at_ns=creds.clock.now_ns(), actor=principal.actor,
                     action="access.denied", object_id="factors", outcome="denied",
                     detail={"resource": "factors", "reason": why})
    raise AccessDenied(403, "not allowed: only the user themself changes their factors")

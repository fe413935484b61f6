"""Signing in with a password and a second factor (a TOTP code or a recovery code).

In one step (username, password and code together), or in two: the password
first, answered with a short-lived first-factor token and the user's
anti-phishing phrase, then the code. A password alone never signs anyone in,
and an account with no second factor usable here (no confirmed TOTP, or
recovery codes without a passkey) cannot sign in with a password at all.

Every failure — unknown user, wrong password, wrong code, locked or
throttled account, no usable second factor — is the same
:class:`SignInFailed`, after the same work: an unknown or locked account's
attempt is checked against a dummy Argon2id hash.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import Connection, select, update

from ...adapters.store.schema import users, webauthn_credentials
from ...domain.errors import DomainError
from ...domain.identity import Principal
from .. import audit
from . import recovery, totp
from .credentials import FIRST_FACTOR, FIRST_FACTOR_S, Credentials
from .guessing import Reservation, failed, reserve, succeeded
from .notices import notify
from .sessions import NewSession
from .signin import RequestMeta, complete_sign_in, origin_digest
from .users import User, find_by_username, get_user

log = structlog.get_logger(__name__)
FAILED_DETAIL = "sign-in failed"


class SignInFailed(DomainError):
    """The one answer to every failed sign-in: it says nothing about why."""

    def __init__(self) -> None:
        super().__init__("sign_in_failed", FAILED_DETAIL)


@dataclass(frozen=True)
class SecondFactor:
    totp: str | None = None
    recovery_code: str | None = None


@dataclass(frozen=True)
class FirstFactorPassed:
    token: str  # a first-factor session: good only for the second step, and the phrase
    expires_at: int
    anti_phishing_phrase: str | None
    second_factors: tuple[str, ...]


@dataclass(frozen=True)
class _Attempt:
    user: User | None
    reservation: Reservation | None
    password_ok: bool
    needs_rehash: bool

    @property
    def reason(self) -> str:
        if self.user is None:
            return "unknown_user"
        if self.reservation is None:
            return "inactive"
        if not self.reservation.verdict.allowed:
            return self.reservation.verdict.reason
        return "ok" if self.password_ok else "password"


def sign_in(creds: Credentials, *, username: str, password: str, second: SecondFactor,
            meta: RequestMeta) -> NewSession:
    """Password and second factor at once: a full session, or SignInFailed."""
    attempt = _password_step(creds, username, password, meta)
    if attempt.password_ok and attempt.user is not None:
        new = _second_step(creds, attempt.user, second, meta, password_methods=True)
        if new is not None:
            _rehash_if_needed(creds, attempt, password)
            return new
        reason = "second_factor"
    else:
        reason = attempt.reason
    raise record_failure(creds, attempt.user, attempt.reservation, reason, meta)


def first_factor(creds: Credentials, *, username: str, password: str,
                 meta: RequestMeta) -> FirstFactorPassed:
    """The password step alone. Its failure count is cleared only by a full sign-in."""
    attempt = _password_step(creds, username, password, meta)
    user = attempt.user
    if not attempt.password_ok or user is None:
        raise record_failure(creds, user, attempt.reservation, attempt.reason, meta)
    with creds.database.engine.begin() as conn:
        factors = second_factors(conn, user.id)
        if not factors:
            pending = None
        else:
            pending = creds.sessions.start(
                conn, kind=user.kind, user_id=user.id, owner=user.owner, roles=frozenset(),
                auth_methods=frozenset({FIRST_FACTOR}), label=user.username,
                user_agent=meta.user_agent, address=meta.address,
                absolute_s=FIRST_FACTOR_S, idle_s=FIRST_FACTOR_S)
    if pending is None:
        raise record_failure(creds, user, attempt.reservation, "no_second_factor", meta)
    _rehash_if_needed(creds, attempt, password)
    return FirstFactorPassed(pending.token, pending.session.absolute_expires_at,
                             user.anti_phishing_phrase, factors)


def second_factor(creds: Credentials, *, pending: Principal, second: SecondFactor,
                  meta: RequestMeta) -> NewSession:
    """Finish a two-step sign-in: the first-factor session and a code."""
    now = creds.clock.now_ns()
    creds.addresses.check(meta.address, now_ns=now)
    if pending.auth_methods != {FIRST_FACTOR} or pending.session_id is None:
        raise record_failure(creds, None, None, "not_first_factor", meta)
    with creds.database.engine.begin() as conn:
        user = get_user(conn, pending.id, keys=creds.keys)
        reservation = None
        if user is not None and user.status == "active":
            reservation = reserve(conn, user.id, now_ns=now, failures_max=creds.failures_max,
                                  lock_s=creds.lock_s)
    if user is None or reservation is None or not reservation.verdict.allowed:
        raise record_failure(creds, user, reservation, "locked_or_unknown", meta)
    new = _second_step(creds, user, second, meta, password_methods=True,
                       revoke=pending.session_id)
    if new is None:
        raise record_failure(creds, user, reservation, "second_factor", meta)
    return new


def second_factors(conn: Connection, user_id: str) -> tuple[str, ...]:
    """What can follow a password for this user; empty if a password cannot sign them in."""
    has_totp = totp.is_confirmed(conn, user_id)
    codes = recovery.remaining(conn, user_id) > 0
    if not has_totp and not (codes and has_passkey(conn, user_id)):
        return ()
    return ("totp",) * has_totp + ("recovery_code",) * codes


def has_passkey(conn: Connection, user_id: str) -> bool:
    return conn.execute(select(webauthn_credentials.c.id).where(
        webauthn_credentials.c.user_id == user_id,
        webauthn_credentials.c.revoked_at.is_(None)).limit(1)).first() is not None


def use_second_factor(conn: Connection, creds: Credentials, user: User,
                      second: SecondFactor, *, now_ns: int) -> str | None:
    """Check and consume the code given; the method name, or None."""
    if second.totp is not None:
        return "totp" if totp.use_code(conn, user.id, second.totp, keys=creds.keys,
                                          now_ns=now_ns) else None
    if second.recovery_code is not None and recovery.use(
            conn, user.id, second.recovery_code, key=creds.recovery_key, now_ns=now_ns):
        left = recovery.remaining(conn, user.id)
        notify(conn, user.id, "recovery_code_used", keys=creds.keys, now_ns=now_ns,
               subject="A recovery code was used",
               body=f"A recovery code was used for your account; {left} remain. If it was "
                    "not you, change your password and regenerate your recovery codes.")
        audit.record(conn, at_ns=now_ns, actor=user.id, action="factor.recovery_code_used",
                     object_id=user.id, detail={"remaining": left})
        return "recovery_code"
    return None


def _password_step(creds: Credentials, username: str, password: str,
                   meta: RequestMeta) -> _Attempt:
    now = creds.clock.now_ns()
    creds.addresses.check(meta.address, now_ns=now)
    with creds.database.engine.begin() as conn:
        user = find_by_username(conn, username, keys=creds.keys)
        reservation = None
        if user is not None and user.status == "active":
            reservation = reserve(conn, user.id, now_ns=now, failures_max=creds.failures_max,
                                  lock_s=creds.lock_s)
    allowed = user is not None and reservation is not None and reservation.verdict.allowed
    stored = user.password_hash if allowed and user is not None else None
    verified = creds.passwords.verify(stored, password)  # the dummy hash when stored is None
    return _Attempt(user, reservation, allowed and verified.ok, verified.needs_rehash)


def _second_step(creds: Credentials, user: User, second: SecondFactor, meta: RequestMeta, *,
                 password_methods: bool, revoke: str | None = None) -> NewSession | None:
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        if not second_factors(conn, user.id):
            return None
        method = use_second_factor(conn, creds, user, second, now_ns=now)
        if method is None:
            return None
        succeeded(conn, user.id)
        if revoke is not None:
            creds.sessions.revoke(conn, revoke)
        methods = frozenset({"password", method} if password_methods else {method})
        return complete_sign_in(conn, creds.sessions, user, methods=methods, meta=meta,
                                origin_key=creds.origin_key, now_ns=now)


def record_failure(creds: Credentials, user: User | None, reservation: Reservation | None,
                   reason: str, meta: RequestMeta, *,
                   action: str = "session.sign_in") -> SignInFailed:
    """Record a failed attempt (and a lock it caused); the error to raise."""
    now = creds.clock.now_ns()
    creds.addresses.failed(meta.address, now_ns=now)
    counted = reservation is not None and reservation.verdict.allowed
    with creds.database.engine.begin() as conn:
        if user is not None and counted:
            failed(conn, user.id, now_ns=now)
        if user is not None and counted and reservation is not None and reservation.locks:
            notify(conn, user.id, "locked", keys=creds.keys, now_ns=now, subject="Your account is locked",
                   body="Too many failed sign-ins: your account is locked for "
                        f"{creds.lock_s // 60} minutes. If it was not you, someone is "
                        "guessing your password: consider changing it.")
            audit.record(conn, at_ns=now, actor="system", action="user.locked",
                         object_id=user.id, detail={"lock_s": creds.lock_s})
        audit.record(conn, at_ns=now, actor=user.id if user else "anonymous",
                     action=action, object_id=user.id if user else "unknown",
                     outcome="failed", detail={  # the address keyed, as sign_in_origins keeps it
                         "reason": reason,
                         "address_digest": origin_digest(creds.origin_key, meta.address)})
    # Never the typed username: people type their password into it.
    log.info("sign_in.failed", user=user.id if user else None, reason=reason)
    return SignInFailed()


def _rehash_if_needed(creds: Credentials, attempt: _Attempt, password: str) -> None:
    if not attempt.needs_rehash or attempt.user is None:
        return
    new_hash = creds.passwords.hash(password)
    with creds.database.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == attempt.user.id).values(
            password_hash=new_hash))

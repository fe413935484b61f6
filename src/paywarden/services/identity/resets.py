"""Password resets: the customer sets a new password by proving their second factor.

A reset never bypasses the second factor and never uses email: the customer
gives their username, a new password and a TOTP code or a recovery code (or,
signed in with a passkey moments ago, simply sets a new password: see
factors.set_password). Support staff can *start* a reset — it is marked
pending on the account, the customer is notified and the act is recorded —
but no endpoint lets anyone but the customer set the password.

A failed reset answers exactly like a failed sign-in, after the same work
(the new password is hashed before anything is looked up), and counts against
the account's guessing limit.
"""

from __future__ import annotations

from sqlalchemy import update

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity import Kind, Principal
from ...domain.identity.passwords import Personal, check_password, normalise_password
from .. import audit
from .credentials import Credentials
from .guessing import reserve, succeeded
from .notices import notify
from .password_signin import (
    SecondFactor,
    record_failure,
    second_factors,
    use_second_factor,
)
from .signin import RequestMeta
from .users import find_by_username, get_user

ACTION = "user.password_reset"


def start_reset(creds: Credentials, staff: Principal, customer_id: str) -> None:
    """Mark a reset pending and tell the customer. Authorisation is the caller's."""
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        user = get_user(conn, customer_id, keys=creds.keys)
        if user is None or user.kind is not Kind.CUSTOMER:
            raise DomainError("not_found", "no such customer")
        conn.execute(update(users).where(users.c.id == user.id).values(
            reset_requested_at=now))
        notify(conn, user.id, "reset_started", keys=creds.keys, now_ns=now,
               subject="A password reset was started for your account",
               body="Support started a password reset for your account. To finish it, choose "
                    "a new password and confirm it with your authenticator app or a recovery "
                    "code. Nobody at PayWarden can set your password for you. If you did not "
                    "ask for this, you need do nothing: your password is unchanged.")
        audit.record(conn, at_ns=now, actor=staff.actor, action="customer.reset_start",
                     object_id=user.id)


def complete_reset(creds: Credentials, *, username: str, new_password: str,
                   second: SecondFactor, meta: RequestMeta) -> None:
    """Set a new password with the second factor; every other session ends."""
    creds.addresses.check(meta.address, now_ns=creds.clock.now_ns())
    # The policy is applied first with what the caller already knows (the username),
    # so its answer says nothing about whether the account exists.
    creds.passwords.acceptable(new_password, personal=Personal(username))
    new_hash = creds.passwords.hash(new_password)
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        user = find_by_username(conn, username, keys=creds.keys)
        reservation = None
        if user is not None and user.kind is Kind.CUSTOMER and user.status == "active":
            reservation = reserve(conn, user.id, now_ns=now, failures_max=creds.failures_max,
                                  lock_s=creds.lock_s)
    if user is None or reservation is None or not reservation.verdict.allowed:
        raise record_failure(creds, user, reservation, "unknown_or_locked", meta, action=ACTION)
    with creds.database.engine.begin() as conn:
        method = None
        if second_factors(conn, user.id):
            method = use_second_factor(conn, creds, user, second, now_ns=now)
        if method is not None:
            # Now that the caller has proven the factor, the display name counts too
            # (raising here rolls back, so the code is not spent).
            check_password(normalise_password(new_password),
                           personal=Personal(user.username, user.display_name),
                           common=frozenset())
            succeeded(conn, user.id)
            conn.execute(update(users).where(users.c.id == user.id).values(
                password_hash=new_hash, password_changed_at=now, reset_requested_at=None))
            ended = creds.sessions.revoke_all(conn, user.id)
            notify(conn, user.id, "factor_changed", keys=creds.keys, now_ns=now,
                   subject="Your password was reset",
                   body="Your password was reset and every session was signed out. If it was "
                        "not you, your second factor is in someone else's hands: contact "
                        "support at once.")
            audit.record(conn, at_ns=now, actor=user.id, action=ACTION, object_id=user.id,
                         detail={"by": method, "sessions_ended": ended})
    if method is None:
        raise record_failure(creds, user, reservation, "second_factor", meta, action=ACTION)

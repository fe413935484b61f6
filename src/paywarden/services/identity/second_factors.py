"""A user managing their TOTP factor, recovery codes and anti-phishing phrase.

Enrolling TOTP shows the secret once (as an otpauth URI); the factor counts
only once a first code confirms it. Confirming the first second factor also
makes the first set of recovery codes, shown once. Removing TOTP or
regenerating codes needs a fresh second factor, and TOTP cannot be removed
from an account that would be left without any (no passkey): staff never, and
customers never, hold a password-only account.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, update

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity import Principal
from . import recovery, totp
from .credentials import Credentials
from .factors import Holder, factor_changed, holder, prove_fresh, rotate
from .password_signin import has_passkey
from .sessions import NewSession
from .signin import RequestMeta, complete_sign_in
from .users import sealed_anti_phishing_phrase

PHRASE_CHARS_MAX = 64


@dataclass(frozen=True)
class Confirmed:
    recovery_codes: list[str] | None  # the first set, shown once; None if the user had some
    session: NewSession | None  # a new token (a full session when enrolment completes)


def enrol_totp(creds: Credentials, principal: Principal) -> totp.Enrolment:
    who = holder(creds, principal)
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        if totp.is_confirmed(conn, who.user.id):
            raise DomainError("totp_exists", "a TOTP factor is already set up; remove it first")
        enrolment = totp.enrol(conn, who.user.id, keys=creds.keys, account=who.user.username,
                               issuer=creds.issuer, now_ns=now)
        # The secret itself is never recorded: only that an enrolment began.
        factor_changed(conn, who, keys=creds.keys, action="factor.totp_enrol", now_ns=now,
                       subject="An authenticator app is being set up for your account")
    return enrolment


def confirm_totp(creds: Credentials, principal: Principal, code: str,
                 meta: RequestMeta) -> Confirmed:
    who = holder(creds, principal)
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        if not totp.confirm(conn, who.user.id, code, keys=creds.keys, now_ns=now):
            raise DomainError("totp_code_invalid", "that code does not confirm the enrolment; "
                              "check the device's clock and use a new code")
        codes = None
        if recovery.remaining(conn, who.user.id) == 0:
            codes = recovery.regenerate(conn, who.user.id, key=creds.recovery_key, now_ns=now)
        factor_changed(conn, who, keys=creds.keys, action="factor.totp_confirm", now_ns=now,
                       subject="An authenticator app was added to your account",
                       detail={"recovery_codes_issued": codes is not None})
        session = _after_confirm(conn, creds, who, meta, now)
    return Confirmed(codes, session)


def _after_confirm(conn: Connection, creds: Credentials, who: Holder, meta: RequestMeta,
                   now_ns: int) -> NewSession | None:
    """Rotate a full session; turn a finished enrolment (password + TOTP) into a sign-in."""
    if not who.enrolment:
        return rotate(conn, creds, who)
    if who.user.password_hash is None:
        return None  # still enrolling: a password (or a passkey) comes next
    creds.sessions.revoke(conn, who.session.id)
    return complete_sign_in(conn, creds.sessions, who.user,
                            methods=frozenset({"password", "totp"}), meta=meta,
                            origin_key=creds.origin_key, now_ns=now_ns)


def remove_totp(creds: Credentials, principal: Principal, code: str | None,
                meta: RequestMeta) -> NewSession | None:
    who = holder(creds, principal)
    with creds.database.engine.connect() as conn:
        if not has_passkey(conn, who.user.id):
            raise DomainError("last_second_factor", "the authenticator app is this account's "
                              "only second factor: add a passkey before removing it")
    prove_fresh(creds, who, code, meta)
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        totp.remove(conn, who.user.id)
        factor_changed(conn, who, keys=creds.keys, action="factor.totp_remove", now_ns=now,
                       subject="An authenticator app was removed from your account")
        return None if who.enrolment else rotate(conn, creds, who)


def regenerate_recovery_codes(creds: Credentials, principal: Principal, code: str | None,
                              meta: RequestMeta) -> list[str]:
    who = holder(creds, principal)
    with creds.database.engine.connect() as conn:
        if not (totp.is_confirmed(conn, who.user.id) or has_passkey(conn, who.user.id)):
            raise DomainError("second_factor_required", "set up an authenticator app or a "
                              "passkey first: recovery codes stand in for one")
    prove_fresh(creds, who, code, meta)
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        codes = recovery.regenerate(conn, who.user.id, key=creds.recovery_key, now_ns=now)
        factor_changed(conn, who, keys=creds.keys, action="factor.recovery_codes_regenerate", now_ns=now,
                       subject="New recovery codes were made; the old ones no longer work")
    return codes


def set_phrase(creds: Credentials, principal: Principal, phrase: str) -> None:
    who = holder(creds, principal)
    value = unicodedata.normalize("NFC", phrase).strip()
    if len(value) > PHRASE_CHARS_MAX or not value.isprintable():
        raise DomainError("phrase_invalid", f"an anti-phishing phrase is at most "
                          f"{PHRASE_CHARS_MAX} printable characters")
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == who.user.id).values(
            anti_phishing_phrase_sealed=sealed_anti_phishing_phrase(
                creds.keys, who.user.id, value or None)))
        # The phrase is not put in the audit record: it is what proves a page genuine.
        factor_changed(conn, who, keys=creds.keys, action="factor.phrase_set", now_ns=now,
                       subject="Your anti-phishing phrase was changed",
                       detail={"cleared": not value})

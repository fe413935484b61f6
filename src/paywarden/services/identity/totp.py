"""A user's TOTP factor in the store: enrolled, confirmed by a first code, used once per code.

The secret is shown once, at enrolment, and never logged or audited; it is
stored sealed (bound to ``totp_factors``/``secret_sealed``/the user id). Using a
code moves ``last_step`` forward with a compare-and-set, so two requests
racing with the same code cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, or_, select, update

from ...adapters.store.schema import totp_factors
from ..sealed import FieldKeys, open_required, row_id
from . import otp

TABLE = "totp_factors"
COLUMN = "secret_sealed"


@dataclass(frozen=True)
class Enrolment:
    secret: str  # shown once
    uri: str


def enrol(conn: Connection, user_id: str, *, keys: FieldKeys, account: str, issuer: str,
          now_ns: int) -> Enrolment:
    """Start (or restart) an unconfirmed enrolment; a confirmed factor must be removed first."""
    secret = otp.new_secret()
    conn.execute(delete(totp_factors).where(totp_factors.c.user_id == user_id,
                                            totp_factors.c.confirmed_at.is_(None)))
    sealed = keys.seal(secret.encode("ascii"), table=TABLE, column=COLUMN,
                       row_id=row_id(user_id))
    conn.execute(insert(totp_factors).values(user_id=user_id, secret_sealed=sealed,
                                             last_step=None, created_at=now_ns,
                                             confirmed_at=None))
    return Enrolment(secret, otp.otpauth_uri(secret, account=account, issuer=issuer))


def is_confirmed(conn: Connection, user_id: str) -> bool:
    return conn.execute(select(totp_factors.c.user_id).where(
        totp_factors.c.user_id == user_id, totp_factors.c.confirmed_at.is_not(None))
    ).first() is not None


def confirm(conn: Connection, user_id: str, code: str, *, keys: FieldKeys, now_ns: int) -> bool:
    """Confirm a pending enrolment with its first valid code."""
    return _accept(conn, user_id, code, keys=keys, now_ns=now_ns, confirmed=False)


def use_code(conn: Connection, user_id: str, code: str, *, keys: FieldKeys,
             now_ns: int) -> bool:
    """True if ``code`` is valid for the confirmed factor and was not used before."""
    return _accept(conn, user_id, code, keys=keys, now_ns=now_ns, confirmed=True)


def remove(conn: Connection, user_id: str) -> bool:
    return bool(conn.execute(delete(totp_factors).where(
        totp_factors.c.user_id == user_id)).rowcount)


def _accept(conn: Connection, user_id: str, code: str, *, keys: FieldKeys, now_ns: int,
            confirmed: bool) -> bool:
    state = (totp_factors.c.confirmed_at.is_not(None) if confirmed
             else totp_factors.c.confirmed_at.is_(None))
    row = conn.execute(select(totp_factors.c.secret_sealed, totp_factors.c.last_step).where(
        totp_factors.c.user_id == user_id, state)).first()
    if row is None:
        return False
    secret = open_required(keys, row.secret_sealed, table=TABLE, column=COLUMN,
                           row=row_id(user_id))
    step = otp.matching_step(secret, code, now_ns=now_ns, last_step=row.last_step)
    if step is None:
        return False
    values: dict[str, int] = {"last_step": step}
    if not confirmed:
        values["confirmed_at"] = now_ns
    result = conn.execute(update(totp_factors).where(
        totp_factors.c.user_id == user_id, state,
        or_(totp_factors.c.last_step.is_(None), totp_factors.c.last_step < step),
    ).values(**values))
    return result.rowcount == 1

"""Staff and supervisor tokens issued on the server host, by someone with a shell there.

Such a token is a session with no user behind it: it carries one staff role,
names who issued it, cannot outlive a day, and is recorded like any staff action.
It is not an interactive session, so it has no idle expiry of its own.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from ...adapters.store import Database
from ...adapters.store.schema import sessions as sessions_table
from ...domain.errors import DomainError
from ...domain.identity import STAFF_ROLES, Kind
from .. import audit
from .sessions import NewSession, Sessions

AMOUNT_MAX = 2**63 - 1  # the ledger's largest amount


def issue_staff_token(database: Database, sessions: Sessions, *, role: str, ttl_s: int,
                      ttl_s_max: int, actor: str, now_ns: int) -> NewSession:
    if role not in STAFF_ROLES:
        raise DomainError("role_unknown",
                          f"role {role!r} is not a staff role: one of {', '.join(sorted(STAFF_ROLES))}")
    if not 0 < ttl_s <= ttl_s_max:
        raise DomainError("ttl_invalid", f"ttl {ttl_s} s must be between 1 and {ttl_s_max} s")
    with database.engine.begin() as conn:
        new = sessions.start(conn, kind=Kind.STAFF, user_id=None, owner=None,
                             roles=frozenset({role}), auth_methods=frozenset({"cli"}),
                             label=actor, absolute_s=ttl_s, idle_s=ttl_s)
        audit.record(conn, at_ns=now_ns, actor=actor, action="token.issue",
                     object_id=new.session.id, detail={"role": role, "ttl_s": ttl_s})
    return new


def check_service(name: object, ttl_s: object, *, ttl_s_max: int) -> tuple[str, int]:
    """A service credential's name and life, or why not (its limit: :func:`check_limit`)."""
    if not isinstance(name, str) or not name.isascii() \
            or not name.replace("-", "").replace("_", "").isalnum() or not 0 < len(name) <= 64:
        raise DomainError("service_name_invalid", "a service's name is 1 to 64 letters, "
                          "digits, - and _")
    if type(ttl_s) is not int or not 0 < ttl_s <= ttl_s_max:
        raise DomainError("ttl_invalid", f"ttl {ttl_s} s must be between 1 and {ttl_s_max} s")
    return name, ttl_s


def check_limit(amount_max: object) -> int:
    """The largest transfer a machine principal may post, in minor units, or why not."""
    if type(amount_max) is not int or not 0 < amount_max <= AMOUNT_MAX:
        raise DomainError("service_limit_invalid", "a service's limit is the largest "
                          f"transfer it may post: 1 to {AMOUNT_MAX} minor units")
    return amount_max


def start_service_token(conn: Connection, sessions: Sessions, *, name: str, ttl_s: int,
                        amount_max: int, actor: str, now_ns: int,
                        approval_id: str | None = None) -> NewSession:
    """A machine principal's session in the caller's transaction, with its audit leaf."""
    new = sessions.start(conn, kind=Kind.SERVICE, user_id=None, owner=None,
                         roles=frozenset({"service"}), auth_methods=frozenset({"service"}),
                         label=f"svc:{name}", absolute_s=ttl_s, idle_s=ttl_s)
    conn.execute(update(sessions_table).where(sessions_table.c.id == new.session.id)
                 .values(amount_max=check_limit(amount_max)))
    detail: dict[str, object] = {"service": name, "ttl_s": ttl_s, "amount_max": amount_max}
    if approval_id is not None:
        detail["approval"] = approval_id
    audit.record(conn, at_ns=now_ns, actor=actor, action="token.issue_service",
                 object_id=new.session.id, detail=detail)
    return new


def issue_service_token(database: Database, sessions: Sessions, *, name: str, ttl_s: int,
                        ttl_s_max: int, actor: str, now_ns: int,
                        amount_max: int = AMOUNT_MAX) -> NewSession:
    """A machine principal's token (role ``service``): it posts ledger transfers directly.
    Only tests and their servers call this: people get one through a ``service_credential`` approval,
    redeemed once by its submitter (services/staff/credentials.py, decision 0043)."""
    name, ttl_s = check_service(name, ttl_s, ttl_s_max=ttl_s_max)
    with database.engine.begin() as conn:
        return start_service_token(conn, sessions, name=name, ttl_s=ttl_s, actor=actor,
                                   now_ns=now_ns, amount_max=amount_max)


def revoke_token(database: Database, sessions: Sessions, *, session_id: str, actor: str,
                 now_ns: int) -> bool:
    with database.engine.begin() as conn:
        revoked = sessions.revoke(conn, session_id)
        audit.record(conn, at_ns=now_ns, actor=actor, action="token.revoke",
                     object_id=session_id, outcome="ok" if revoked else "failed")
    return revoked

"""Joiners and leavers (decision 0043).

Joiners: a new member of staff is created with *no* role and an enrolment token (a
session good only for adding their passkey); their first role is a four-eyes role grant
(kind ``role_grant``) submitted by whoever created them. The one exception is the
bootstrap: the very first security admin, made once per installation while no active
security admin exists to approve anything. It is recorded as ``staff.bootstrap`` and
raises a critical staff alert, so nobody can bootstrap quietly; it is refused once a
``staff.bootstrap`` entry exists, so deactivating every admin does not reopen it.

Leavers: :func:`deactivate` marks the user disabled and revokes every session and token
of theirs in one transaction, withdraws their pending requests, and writes
``staff.deactivate`` with the time. One security admin is enough: it only removes
access. ``Sessions.authenticate`` also refuses any session of a disabled user.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import approvals, audit_entries, users
from ...domain.approvals import Kind as ApprovalKind
from ...domain.approvals import State
from ...domain.errors import DomainError
from ...domain.identity import STAFF_ROLES, Kind, Principal
from .. import audit
from ..alerts import Severity, raise_alert
from ..approvals import Approval, Approvals
from ..identity.credentials import Credentials
from ..identity.enrolment import Enrolled, checked_display_name, create_staff, start_enrolment
from ..identity.sessions import Sessions
from ..identity.users import create_user

BOOTSTRAP_ROLE = "security_admin"
BOOTSTRAP_ACTION = "staff.bootstrap"


@dataclass(frozen=True)
class Joined:
    enrolled: Enrolled
    approval: Approval | None  # the pending role grant; None for the bootstrap
    bootstrap: bool


@dataclass(frozen=True)
class Deactivated:
    user_id: str
    at_ns: int
    sessions_revoked: int
    approvals_withdrawn: int


def _admin_exists(conn: Connection) -> bool:
    return conn.execute(select(users.c.id).where(
        users.c.kind == Kind.STAFF.value, users.c.status == "active",
        users.c.roles.like(f"%{BOOTSTRAP_ROLE}%")).limit(1)).first() is not None


def _bootstrapped(conn: Connection) -> bool:
    return conn.execute(select(func.count()).select_from(audit_entries).where(
        audit_entries.c.action == BOOTSTRAP_ACTION)).scalar_one() > 0


def join(creds: Credentials, approvals_: Approvals, *, submitter: Principal, username: str,
         role: str, display_name: str, ttl_s: int, ttl_s_max: int) -> Joined:
    """A new member of staff: the bootstrap admin, or a user with no role and a pending
    grant of ``role`` submitted by ``submitter``."""
    if role not in STAFF_ROLES:
        raise DomainError("role_unknown", f"role {role!r} is not a staff role: one of "
                          f"{', '.join(sorted(STAFF_ROLES))}")
    with creds.database.engine.connect() as conn:
        admin, bootstrapped = _admin_exists(conn), _bootstrapped(conn)
    if not admin:
        if role != BOOTSTRAP_ROLE or bootstrapped:
            raise DomainError("staff_no_approver", "no active security_admin can approve a "
                              "role grant" + ("" if bootstrapped else
                                              ": create the first security_admin first"))
        return Joined(_bootstrap(creds, username=username, display_name=display_name,
                                 actor=submitter.actor, ttl_s=ttl_s, ttl_s_max=ttl_s_max),
                      None, True)
    made = create_staff(creds, username=username, role=None, display_name=display_name,
                        actor=submitter.actor, ttl_s=ttl_s, ttl_s_max=ttl_s_max)
    grant = approvals_.submit(submitter, ApprovalKind.ROLE_GRANT,
                              {"user_id": made.user.id, "role": role, "action": "grant"})
    return Joined(made, grant, False)


def _bootstrap(creds: Credentials, *, username: str, display_name: str, actor: str,
               ttl_s: int, ttl_s_max: int) -> Enrolled:
    if not 0 < ttl_s <= ttl_s_max:
        raise DomainError("ttl_invalid", f"ttl {ttl_s} s must be between 1 and {ttl_s_max} s")
    now = creds.clock.now_ns()
    with creds.database.engine.begin() as conn:
        if _admin_exists(conn) or _bootstrapped(conn):
            raise DomainError("staff_no_approver", "the first security_admin exists already")
        user = create_user(conn, keys=creds.keys, kind=Kind.STAFF, username=username,
                           display_name=checked_display_name(display_name or username),
                           roles=frozenset({BOOTSTRAP_ROLE}), now_ns=now)
        new = start_enrolment(conn, creds.sessions, user, ttl_s=ttl_s)
        audit.record(conn, at_ns=now, actor=actor, action=BOOTSTRAP_ACTION, object_id=user.id,
                     detail={"role": BOOTSTRAP_ROLE, "enrolment_session": new.session.id,
                             "ttl_s": ttl_s})
        raise_alert(conn, at_ns=now, kind="staff_bootstrap", severity=Severity.CRITICAL,
                    subject="The first security admin was created without a second person",
                    detail={"user_id": user.id}, dedupe_key=f"staff_bootstrap:{user.id}",
                    actor=actor)
    return Enrolled(user, new)


def deactivate(database: Database, sessions: Sessions, *, clock: Clock, user_id: str,
               actor: str) -> Deactivated:
    """A leaver: disabled, every session and token revoked, pending requests withdrawn."""
    now = clock.now_ns()
    with database.engine.begin() as conn:
        row = conn.execute(select(users.c.kind, users.c.status).where(
            users.c.id == user_id).with_for_update()).mappings().first()
        if row is None or row["kind"] != Kind.STAFF.value:
            raise DomainError("staff_not_found", f"no staff user {user_id}")
        if row["status"] != "active":
            raise DomainError("staff_not_active", f"staff user {user_id} is {row['status']}")
        conn.execute(update(users).where(users.c.id == user_id).values(status="disabled"))
        revoked = sessions.revoke_all(conn, user_id)
        withdrawn = _withdraw_pending(conn, user_id, actor=actor, now_ns=now)
        audit.record(conn, at_ns=now, actor=actor, action="staff.deactivate",
                     object_id=user_id, detail={"sessions_revoked": revoked,
                                                "approvals_withdrawn": withdrawn})
    return Deactivated(user_id, now, revoked, withdrawn)


def _withdraw_pending(conn: Connection, user_id: str, *, actor: str, now_ns: int) -> int:
    """A leaver's pending requests are withdrawn: nobody approves a departed person's
    command after they left."""
    ids = conn.execute(select(approvals.c.id).where(
        approvals.c.submitted_by == user_id, approvals.c.state == str(State.PENDING))
    ).scalars().all()
    for approval_id in ids:
        conn.execute(update(approvals).where(
            approvals.c.id == approval_id, approvals.c.state == str(State.PENDING)
        ).values(state=str(State.WITHDRAWN), decided_by=actor[:128], decided_at=now_ns,
                 reason="the submitter was deactivated"))
        audit.record(conn, at_ns=now_ns, actor=actor, action="approval.withdraw",
                     object_id=approval_id, detail={"reason": "submitter_deactivated"})
    return len(ids)

"""Movers: a member of staff's roles change only here (decision 0043).

    grant    widening is a four-eyes command, kind ``role_grant`` with params
             ``{user_id, role, action: grant}``: a security admin submits it, another
             approves it with their passkey, and :class:`RoleGrant` commits it.
    revoke   narrowing may also be done by one security admin at once
             (:func:`change_roles` from the staff routes or the CLI): removing a
             privilege fast is a defence, and it can widen nothing.

Either way, in one transaction: the new set of roles is checked against the conflict
table (domain/approvals.py ``CONFLICTS``, 409 ``role_conflict``), every session and token
of the person is revoked (their next request answers 401 and they sign in again with
the new roles), and an audit leaf ``staff.role_grant`` / ``staff.role_revoke`` records
the roles before and after and how many sessions ended.

A person's sessions carry the roles they signed in with, so revoking them is what makes
a change take effect; a joiner's first grant spares their enrolment session (no role,
good only for adding their passkey) so the enrolment link still works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import users
from ...domain.approvals import Kind, check_roles
from ...domain.errors import DomainError
from ...domain.identity import STAFF_ROLES, Principal
from .. import audit
from ..approvals import Approval, Checked, Executor
from ..identity.sessions import Sessions

ACTIONS = ("grant", "revoke")
USER_ID_CHARS_MAX = 32


def _invalid(detail: str) -> DomainError:
    return DomainError("approval_command_invalid", detail)


def roles_of(text: str) -> frozenset[str]:
    return frozenset(r for r in text.split(",") if r)


def check_change(params: Mapping[str, Any]) -> tuple[str, str, str]:
    """A role change's ``(user_id, role, action)``, or ``approval_command_invalid``."""
    user_id, role, action = params.get("user_id"), params.get("role"), params.get("action")
    if not isinstance(user_id, str) or not user_id.startswith("usr_") \
            or len(user_id) > USER_ID_CHARS_MAX:
        raise _invalid("a role change names a staff user_id (usr_…)")
    if not isinstance(role, str) or role not in STAFF_ROLES:
        raise DomainError("role_unknown", f"role {role!r} is not a staff role: one of "
                          f"{', '.join(sorted(STAFF_ROLES))}")
    if action not in ACTIONS:
        raise _invalid("a role change's action is grant or revoke")
    return user_id, role, str(action)


def _staff_row(conn: Connection, user_id: str, *, lock: bool) -> RowMapping:
    query = select(users.c.id, users.c.kind, users.c.roles, users.c.status).where(
        users.c.id == user_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None or row["kind"] != "staff":
        raise DomainError("staff_not_found", f"no staff user {user_id}")
    if row["status"] != "active":
        raise DomainError("staff_not_active", f"staff user {user_id} is {row['status']}")
    return row


def next_roles(before: frozenset[str], role: str, action: str) -> frozenset[str]:
    """The roles after the change; refused when it changes nothing or makes a conflict."""
    after = before | {role} if action == "grant" else before - {role}
    if after == before:
        holds = "holds" if action == "grant" else "does not hold"
        raise DomainError("role_unchanged", f"the user {holds} {role} already")
    check_roles(after)
    return after


def change_roles(conn: Connection, sessions: Sessions, *, user_id: str, role: str,
                 action: str, actor: str, now_ns: int,
                 approval_id: str | None = None) -> dict[str, Any]:
    """Grant or revoke one role in the caller's transaction; sessions revoked, audited."""
    row = _staff_row(conn, user_id, lock=True)
    before = roles_of(row["roles"])
    after = next_roles(before, role, action)
    conn.execute(update(users).where(users.c.id == user_id).values(
        roles=",".join(sorted(after))))
    revoked = sessions.revoke_all(conn, user_id, keep_enrolment=not before)
    detail: dict[str, Any] = {"role": role, "roles_before": sorted(before),
                              "roles_after": sorted(after), "sessions_revoked": revoked}
    if approval_id is not None:
        detail["approval"] = approval_id
    audit.record(conn, at_ns=now_ns, actor=actor, action=f"staff.role_{action}",
                 object_id=user_id, detail=detail)
    return {"user_id": user_id, "role": role, "action": action, "roles": sorted(after),
            "sessions_revoked": revoked}


class RoleGrant(Executor):
    """A role grant or revoke, approved by a second security admin (kind ``role_grant``).

    Checked at submission (so a conflicting grant answers 409 at once) and again when
    it commits (the person's roles may have changed in between)."""

    kind = Kind.ROLE_GRANT

    def __init__(self, database: Database, sessions: Sessions, *, clock: Clock) -> None:
        self._database = database
        self._sessions = sessions
        self._clock = clock

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        user_id, role, action = check_change(params)
        with self._database.engine.connect() as conn:
            row = _staff_row(conn, user_id, lock=False)
        next_roles(roles_of(row["roles"]), role, action)
        return Checked({"user_id": user_id, "role": role, "action": action},
                       f"{action} role {role} for {user_id}")

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        p = approval.params
        if approval.decided_by == p["user_id"]:
            raise DomainError("role_grant_own", "a role change is approved by someone other "
                              "than the person whose roles change")
        return change_roles(conn, self._sessions, user_id=p["user_id"], role=p["role"],
                            action=p["action"], actor=approval.decided_by or audit.SYSTEM,
                            now_ns=self._clock.now_ns(), approval_id=approval.id)

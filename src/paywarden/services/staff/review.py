"""The access review: who holds what, when each privilege was last used, and which have
gone unused for ``UNUSED_S`` (decision 0043).

A privilege is one role held by one principal. Its last use is the latest
``last_seen_at`` of that person's sessions that carried the role (written at most every
30 s by ``Sessions.authenticate``); a role never used counts from when it was granted
(the latest ``staff.role_grant`` / ``staff.bootstrap`` entry naming it), or from the
user's creation. Host-issued tokens and service credentials are listed with their own
last use: they have no person behind them, so each is one privilege.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import audit_entries, sessions, users
from ...domain.identity import Kind
from ..identity.sessions import Sessions
from ..identity.users import user_of
from ..sealed import FieldKeys
from .roles import roles_of

UNUSED_S = 90 * 24 * 3600
NS = 1_000_000_000
STAFF_MAX = 2_000  # a review lists at most this many people, and as many tokens
GRANT_ACTIONS = ("staff.role_grant", "staff.bootstrap", "staff.create")


@dataclass(frozen=True)
class Privilege:
    role: str
    held_since_ns: int
    last_used_ns: int | None
    unused: bool  # not used for UNUSED_S (or never, and held that long)


@dataclass(frozen=True)
class Holder:
    kind: str  # person | token | service
    id: str  # usr_… or the token's ses_…
    name: str  # the username, or the token's label (cli:<login>, svc:<name>)
    status: str  # active | disabled | live
    privileges: list[Privilege]


def _privilege(role: str, held_since: int, used: int | None, now: int) -> Privilege:
    return Privilege(role, held_since, used, now - (used or held_since) >= UNUSED_S * NS)


def access_review(database: Database, sessions_: Sessions, *, clock: Clock,
                  keys: FieldKeys) -> list[Holder]:
    now = clock.now_ns()
    with database.engine.connect() as conn:
        people = conn.execute(select(users).where(users.c.kind == Kind.STAFF.value)
                              .order_by(users.c.created_at).limit(STAFF_MAX)).mappings().all()
        ids = [p["id"] for p in people]
        uses = conn.execute(select(sessions.c.user_id, sessions.c.roles,
                                   func.max(sessions.c.last_seen_at))
                            .where(sessions.c.user_id.in_(ids), sessions.c.roles != "")
                            .group_by(sessions.c.user_id, sessions.c.roles)).all()
        grants = conn.execute(select(audit_entries.c.object, audit_entries.c.detail,
                                     audit_entries.c.at)
                              .where(audit_entries.c.action.in_(GRANT_ACTIONS),
                                     audit_entries.c.object.in_(ids))).all()
    used: dict[tuple[str, str], int] = {}
    for user_id, roles, seen in uses:
        for role in roles_of(roles):
            used[(user_id, role)] = max(seen, used.get((user_id, role), 0))
    granted: dict[tuple[str, str], int] = {}
    for user_id, detail, at in grants:
        role = json.loads(detail).get("role")
        if isinstance(role, str):
            granted[(user_id, role)] = max(at, granted.get((user_id, role), 0))
    found = []
    for row in people:
        user = user_of(row, keys=keys)
        found.append(Holder("person", user.id, user.username, user.status, [
            _privilege(role, granted.get((user.id, role), user.created_at),
                       used.get((user.id, role)), now) for role in sorted(user.roles)]))
    for info in sessions_.live_tokens(limit=STAFF_MAX):
        kind = "service" if info.kind is Kind.SERVICE else "token"
        found.append(Holder(kind, info.id, info.label, "live", [
            _privilege(role, info.created_at,
                       info.last_seen_at if info.last_seen_at > info.created_at else None, now)
            for role in sorted(info.roles)]))
    return found

"""Sessions: opaque bearer tokens, stored only as digests, with idle and absolute expiry.

Each session keeps the idle window it was opened with: a browser session slides
by the settings' idle window (15 minutes), while a staff token, opened with an
idle window as long as its life, has no idle expiry at all (decision 0004).

A token is 256 random bits (``pws_…``). SHA-256 of it is stored: the token
has too much entropy to guess, so a slow password hash would add nothing but
cost on every request. Every sign-in and every privilege change issues a new
token; a revoked or expired token is refused like an unknown one. Label (a
username), user agent and address are sealed, bound to the session's row.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import sessions, users
from ...domain.identity import Kind, Principal
from ..sealed import FieldKeys, open_required, row_id, seal_text

TOKEN_PREFIX = "pws_"
TOKEN_BYTES = 32
TOKEN_CHARS_MAX = 128
TOUCH_INTERVAL_NS = 30 * 10**9  # last_seen is written at most this often per session
NS = 10**9


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(8)


@dataclass(frozen=True)
class SessionInfo:
    id: str
    user_id: str | None
    owner: str | None  # what object-level checks compare: the user, or their merchant
    kind: Kind
    roles: frozenset[str]
    auth_methods: frozenset[str]
    label: str = field(repr=False)
    user_agent: str = field(repr=False)
    address: str = field(repr=False)
    created_at: int
    last_seen_at: int
    idle_expires_at: int
    absolute_expires_at: int
    revoked_at: int | None


@dataclass(frozen=True)
class NewSession:
    token: str  # shown once; never stored
    session: SessionInfo


class Sessions:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys, idle_s: int,
                 absolute_s: int) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._idle_ns = idle_s * NS
        self._absolute_ns = absolute_s * NS

    @property
    def keys(self) -> FieldKeys:
        """The keyring that seals the sessions' labels, user agents and addresses."""
        return self._keys

    def start(self, conn: Connection, *, kind: Kind, user_id: str | None, owner: str | None,
              roles: frozenset[str],
              auth_methods: frozenset[str], label: str = "", user_agent: str = "",
              address: str = "", absolute_s: int | None = None,
              idle_s: int | None = None) -> NewSession:
        """Open a session inside the caller's transaction; the token is returned once."""
        now = self._clock.now_ns()
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        absolute = now + (absolute_s * NS if absolute_s is not None else self._absolute_ns)
        idle = now + (idle_s * NS if idle_s is not None else self._idle_ns)
        session_id = new_id("ses_")
        row = {
            "id": session_id, "token_sha256": digest(token), "user_id": user_id, "owner": owner,
            "kind": kind.value, "roles": ",".join(sorted(roles)),
            "auth_methods": ",".join(sorted(auth_methods)),
            "label_sealed": self._seal(label[:128], "label_sealed", session_id),
            "user_agent_sealed": self._seal(user_agent[:256], "user_agent_sealed", session_id),
            "address_sealed": self._seal(address[:64], "address_sealed", session_id),
            "created_at": now, "last_seen_at": now, "idle_expires_at": min(idle, absolute),
            "absolute_expires_at": absolute, "revoked_at": None,
        }  # fmt: skip
        conn.execute(insert(sessions).values(**row))
        return NewSession(token, self._info(row))

    def _seal(self, value: str, column: str, session_id: str) -> bytes | None:
        return seal_text(self._keys, value, table="sessions", column=column,
                         row=row_id(session_id))

    def _info(self, row: Mapping[Any, Any]) -> SessionInfo:
        rid = row_id(row["id"])

        def opened(column: str) -> str:
            return open_required(self._keys, row[column], table="sessions", column=column,
                                 row=rid)

        return SessionInfo(
            id=row["id"], user_id=row["user_id"], owner=row["owner"], kind=Kind(row["kind"]),
            roles=_split(row["roles"]), auth_methods=_split(row["auth_methods"]),
            label=opened("label_sealed"), user_agent=opened("user_agent_sealed"),
            address=opened("address_sealed"), created_at=row["created_at"],
            last_seen_at=row["last_seen_at"], idle_expires_at=row["idle_expires_at"],
            absolute_expires_at=row["absolute_expires_at"], revoked_at=row["revoked_at"],
        )

    def authenticate(self, token: str) -> Principal | None:
        """The principal a live token belongs to, or None. Slides the idle expiry."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > TOKEN_CHARS_MAX:
            return None
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            row = conn.execute(select(sessions, users.c.status.label("user_status"))
                               .select_from(sessions.outerjoin(
                                   users, users.c.id == sessions.c.user_id))
                               .where(sessions.c.token_sha256 == digest(token))
                               ).mappings().first()
        # The lookup is by digest, an index probe: its time reveals nothing of the token.
        # The user's status comes with it (a primary-key join): a disabled person's
        # session is refused even if a revoke was ever missed (decision 0043).
        if row is None or row["revoked_at"] is not None:
            return None
        if row["user_id"] is not None and row["user_status"] != "active":
            return None
        if now >= row["idle_expires_at"] or now >= row["absolute_expires_at"]:
            return None
        if now - row["last_seen_at"] >= TOUCH_INTERVAL_NS:
            self._touch(row, now)
        return principal_of(self._info(row))

    def _touch(self, row: Mapping[Any, Any], now: int) -> None:
        """Slide the idle expiry by the session's own window, never past its absolute one."""
        window = idle_window_ns(row["idle_expires_at"], row["last_seen_at"])
        with self._database.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == row["id"],
                                                sessions.c.revoked_at.is_(None))
                         .values(last_seen_at=now,
                                 idle_expires_at=min(now + window,
                                                     row["absolute_expires_at"])))

    def revoke(self, conn: Connection, session_id: str) -> bool:
        result = conn.execute(update(sessions).where(sessions.c.id == session_id,
                                                     sessions.c.revoked_at.is_(None))
                              .values(revoked_at=self._clock.now_ns()))
        return bool(result.rowcount)

    def revoke_all(self, conn: Connection, user_id: str, *, keep: str | None = None,
                   keep_enrolment: bool = False) -> int:
        """Revoke every live session of a user, except ``keep`` (and, with
        ``keep_enrolment``, the enrolment sessions, which hold no role and only add the
        user's factors). Returns how many."""
        where = [sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None)]
        if keep is not None:
            where.append(sessions.c.id != keep)
        if keep_enrolment:
            where.append(sessions.c.auth_methods != "enrolment")
        result = conn.execute(update(sessions).where(*where)
                              .values(revoked_at=self._clock.now_ns()))
        return int(result.rowcount)

    def live_for(self, user_id: str) -> list[SessionInfo]:
        """A user's live sessions (their devices), newest first."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(sessions).where(
                sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None),
                sessions.c.idle_expires_at > now, sessions.c.absolute_expires_at > now,
            ).order_by(sessions.c.created_at.desc())).mappings().all()
        return [self._info(r) for r in rows]

    def live_tokens(self, *, limit: int) -> list[SessionInfo]:
        """Live tokens with no person behind them (host-issued staff tokens and service
        credentials), oldest first: what an access review lists besides people."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(sessions).where(
                sessions.c.user_id.is_(None), sessions.c.revoked_at.is_(None),
                sessions.c.idle_expires_at > now, sessions.c.absolute_expires_at > now,
            ).order_by(sessions.c.created_at).limit(limit)).mappings().all()
        return [self._info(r) for r in rows]

    def amount_max(self, session_id: str) -> int | None:
        """A machine principal's limit: the largest transfer its token may post."""
        with self._database.engine.connect() as conn:
            found = conn.execute(select(sessions.c.amount_max).where(
                sessions.c.id == session_id)).scalar()
        return None if found is None else int(found)

    def get(self, session_id: str) -> SessionInfo | None:
        with self._database.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id == session_id)
                               ).mappings().first()
        return None if row is None else self._info(row)


def idle_window_ns(idle_expires_at: int, last_seen_at: int) -> int:
    """The idle window a session was opened with, as its row still shows it.

    A window clipped by the absolute expiry reads shorter than it was, which changes
    nothing: sliding it by any window still stops at the absolute expiry.
    """
    return max(NS, idle_expires_at - last_seen_at)


def _split(value: str) -> frozenset[str]:
    return frozenset(v for v in value.split(",") if v)


def principal_of(info: SessionInfo) -> Principal:
    """The principal a session speaks for."""
    return Principal(kind=info.kind, id=info.user_id or info.label or info.id,
                     roles=info.roles, owner=info.owner, session_id=info.id,
                     auth_methods=info.auth_methods)

"""Reading and writing ``key_versions`` rows, on the caller's connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from ...adapters.store.schema import key_versions as kv
from .purposes import ACTIVE, DESTROYED, RETIRED


@dataclass(frozen=True)
class KeyVersion:
    """One version of a key, without its secret."""

    purpose: str
    version: int
    kid: str
    state: str
    master_key_id: str
    public_key: bytes | None  # raw Ed25519 public key of a signing purpose
    created_at: int
    retired_at: int | None
    destroyed_at: int | None
    not_after: int | None

    def as_json(self) -> dict[str, object]:
        return {"kid": self.kid, "purpose": self.purpose, "version": self.version,
                "state": self.state, "master_key_id": self.master_key_id,
                "created_at": self.created_at, "retired_at": self.retired_at,
                "destroyed_at": self.destroyed_at, "not_after": self.not_after}


_COLUMNS = (kv.c.purpose, kv.c.version, kv.c.kid, kv.c.state, kv.c.master_key_id,
            kv.c.public_key, kv.c.created_at, kv.c.retired_at, kv.c.destroyed_at,
            kv.c.not_after)


def _version(row: object) -> KeyVersion:
    m = row._mapping  # type: ignore[attr-defined]
    return KeyVersion(purpose=m["purpose"], version=m["version"], kid=m["kid"],
                      state=m["state"], master_key_id=m["master_key_id"],
                      public_key=bytes(m["public_key"]) if m["public_key"] is not None else None,
                      created_at=m["created_at"], retired_at=m["retired_at"],
                      destroyed_at=m["destroyed_at"], not_after=m["not_after"])


def versions(conn: Connection, purpose: str | None = None) -> list[KeyVersion]:
    q = select(*_COLUMNS).order_by(kv.c.purpose, kv.c.version)
    if purpose is not None:
        q = q.where(kv.c.purpose == purpose)
    return [_version(r) for r in conn.execute(q)]


def active(conn: Connection, purpose: str) -> tuple[KeyVersion, bytes] | None:
    row = conn.execute(select(*_COLUMNS, kv.c.wrapped_secret)
                       .where(kv.c.purpose == purpose, kv.c.state == ACTIVE)).first()
    return None if row is None else (_version(row), bytes(row.wrapped_secret))


def one(conn: Connection, purpose: str, version: int) -> tuple[KeyVersion, bytes | None] | None:
    row = conn.execute(select(*_COLUMNS, kv.c.wrapped_secret)
                       .where(kv.c.purpose == purpose, kv.c.version == version)).first()
    if row is None:
        return None
    secret = bytes(row.wrapped_secret) if row.wrapped_secret is not None else None
    return _version(row), secret


def by_kid(conn: Connection, kid: str) -> KeyVersion | None:
    row = conn.execute(select(*_COLUMNS).where(kv.c.kid == kid)).first()
    return None if row is None else _version(row)


def last_version(conn: Connection, purpose: str) -> int:
    return int(conn.execute(select(func.coalesce(func.max(kv.c.version), 0))
                            .where(kv.c.purpose == purpose)).scalar_one())


def add(conn: Connection, version: KeyVersion, wrapped_secret: bytes) -> None:
    conn.execute(insert(kv).values(
        purpose=version.purpose, version=version.version, kid=version.kid, state=version.state,
        master_key_id=version.master_key_id, wrapped_secret=wrapped_secret,
        public_key=version.public_key, created_at=version.created_at,
        retired_at=version.retired_at, destroyed_at=version.destroyed_at,
        not_after=version.not_after))


def retire(conn: Connection, purpose: str, version: int, *, now_ns: int) -> bool:
    """Active → retired; False when it was not active (someone else got there first)."""
    result = conn.execute(update(kv).where(kv.c.purpose == purpose, kv.c.version == version,
                                           kv.c.state == ACTIVE)
                          .values(state=RETIRED, retired_at=now_ns))
    return result.rowcount == 1


def destroy(conn: Connection, purpose: str, version: int, *, now_ns: int) -> bool:
    """Retired → destroyed, deleting the wrapped secret; the public key stays."""
    result = conn.execute(update(kv).where(kv.c.purpose == purpose, kv.c.version == version,
                                           kv.c.state == RETIRED)
                          .values(state=DESTROYED, destroyed_at=now_ns, wrapped_secret=None))
    return result.rowcount == 1

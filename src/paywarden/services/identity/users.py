"""Users: customers, staff and merchant users, found by a normalised username."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity import KIND_ROLES, Kind
from .sessions import new_id

USERNAME_CHARS_MAX = 64
USERNAME_CHARS_MIN = 3


def normalise_username(username: str) -> str:
    """NFKC and case-folded, so look-alike spellings name one account."""
    name = unicodedata.normalize("NFKC", username).casefold().strip()
    if not USERNAME_CHARS_MIN <= len(name) <= USERNAME_CHARS_MAX or not name.isprintable() \
            or any(c.isspace() for c in name):
        raise DomainError("username_invalid", f"a username is {USERNAME_CHARS_MIN} to "
                          f"{USERNAME_CHARS_MAX} printable characters without spaces")
    return name


@dataclass(frozen=True)
class User:
    id: str
    kind: Kind
    merchant_id: str | None
    username: str
    display_name: str
    email: str | None
    roles: frozenset[str]
    status: str
    anti_phishing_phrase: str | None
    password_hash: str | None
    failed_signins: int
    locked_until: int | None
    created_at: int

    @property
    def owner(self) -> str | None:
        """What object-level checks compare against (see Principal.owner)."""
        if self.kind is Kind.MERCHANT:
            return self.merchant_id
        return self.id if self.kind is Kind.CUSTOMER else None


def create_user(conn: Connection, *, kind: Kind, username: str, display_name: str,
                roles: frozenset[str], now_ns: int, email: str | None = None,
                merchant_id: str | None = None) -> User:
    if not roles <= KIND_ROLES[kind]:
        raise DomainError("role_invalid", f"a {kind} cannot hold roles {sorted(roles)}")
    if (kind is Kind.MERCHANT) != (merchant_id is not None):
        raise DomainError("merchant_invalid", "merchant users, and only they, name a merchant")
    name = normalise_username(username)
    if conn.execute(select(users.c.id).where(users.c.username == name)).first() is not None:
        raise DomainError("username_taken", "that username is taken")
    row = {
        "id": new_id("usr_"), "kind": kind.value, "merchant_id": merchant_id, "username": name,
        "display_name": display_name[:128], "email": email, "roles": ",".join(sorted(roles)),
        "status": "active", "anti_phishing_phrase": None, "password_hash": None,
        "password_changed_at": None, "failed_signins": 0, "last_failed_at": None,
        "locked_until": None, "created_at": now_ns,
    }  # fmt: skip
    conn.execute(insert(users).values(**row))
    return user_of(row)


def find_by_username(conn: Connection, username: str) -> User | None:
    try:
        name = normalise_username(username)
    except DomainError:
        return None
    row = conn.execute(select(users).where(users.c.username == name)).mappings().first()
    return None if row is None else user_of(row)


def get_user(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return None if row is None else user_of(row)


def user_of(row: Mapping[str, Any]) -> User:
    return User(
        id=row["id"], kind=Kind(row["kind"]), merchant_id=row["merchant_id"],
        username=row["username"], display_name=row["display_name"], email=row["email"],
        roles=frozenset(r for r in row["roles"].split(",") if r), status=row["status"],
        anti_phishing_phrase=row["anti_phishing_phrase"], password_hash=row["password_hash"],
        failed_signins=row["failed_signins"], locked_until=row["locked_until"],
        created_at=row["created_at"],
    )

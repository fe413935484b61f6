"""Users: customers, staff and merchant users, found by a normalised username.

A new username must pass :mod:`.usernames` (PRECIS, one script, no look-alike);
looking one up only normalises it, so accounts made before those rules still sign in.

Username, display name, email and anti-phishing phrase are sealed per row
(services/sealed.py); the username is found by its keyed blind index.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity import KIND_ROLES, Kind
from ..sealed import FieldKeys, open_required, open_text, row_id, seal_text, username_index
from . import usernames
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
    username: str = field(repr=False)
    display_name: str = field(repr=False)
    email: str | None = field(repr=False)
    roles: frozenset[str]
    status: str
    anti_phishing_phrase: str | None = field(repr=False)
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


def create_user(conn: Connection, *, keys: FieldKeys, kind: Kind, username: str,
                display_name: str, roles: frozenset[str], now_ns: int, email: str | None = None,
                merchant_id: str | None = None) -> User:
    if not roles <= KIND_ROLES[kind]:
        raise DomainError("role_invalid", f"a {kind} cannot hold roles {sorted(roles)}")
    if (kind is Kind.MERCHANT) != (merchant_id is not None):
        raise DomainError("merchant_invalid", "merchant users, and only they, name a merchant")
    name = normalise_username(usernames.precis_form(username))
    usernames.check_admissible(name)
    # Index and seal before the first statement: on SQLite the keyring's first use
    # writes in its own transaction, which must not come after this one's snapshot.
    index = username_index(keys, name)
    twins = [username_index(keys, twin) for twin in usernames.lookalikes(name)]
    user_id = new_id("usr_")
    row = {
        "id": user_id, "kind": kind.value, "merchant_id": merchant_id, "username_index": index,
        "username_sealed": _seal(keys, name, "username_sealed", user_id),
        "display_name_sealed": _seal(keys, display_name[:128], "display_name_sealed", user_id),
        "email_sealed": _seal(keys, email, "email_sealed", user_id),
        "roles": ",".join(sorted(roles)), "status": "active",
        "anti_phishing_phrase_sealed": None, "password_hash": None,
        "password_changed_at": None, "failed_signins": 0, "last_failed_at": None,
        "locked_until": None, "created_at": now_ns,
    }  # fmt: skip
    if conn.execute(select(users.c.id).where(users.c.username_index == index)).first() is not None:
        raise DomainError("username_taken", "that username is taken")
    if twins and conn.execute(select(users.c.id).where(users.c.username_index.in_(twins))
                              ).first() is not None:
        raise DomainError("username_confusable", "that username looks like one that is "
                          "taken; choose one that does not")
    conn.execute(insert(users).values(**row))
    return user_of(row, keys=keys)


def find_by_username(conn: Connection, username: str, *, keys: FieldKeys) -> User | None:
    try:
        name = normalise_username(username)
    except DomainError:
        return None
    row = conn.execute(select(users).where(
        users.c.username_index == username_index(keys, name))).mappings().first()
    return None if row is None else user_of(row, keys=keys)


def get_user(conn: Connection, user_id: str, *, keys: FieldKeys) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return None if row is None else user_of(row, keys=keys)


def sealed_anti_phishing_phrase(keys: FieldKeys, user_id: str, phrase: str | None) -> bytes | None:
    """The value to store in ``users.anti_phishing_phrase_sealed``."""
    return _seal(keys, phrase, "anti_phishing_phrase_sealed", user_id)


def _seal(keys: FieldKeys, value: str | None, column: str, user_id: str) -> bytes | None:
    return seal_text(keys, value, table="users", column=column, row=row_id(user_id))


def user_of(row: Mapping[Any, Any], *, keys: FieldKeys) -> User:
    """A user from its row, the sealed columns opened (OpenError if one was moved)."""
    rid = row_id(row["id"])

    def required(column: str) -> str:
        return open_required(keys, row[column], table="users", column=column, row=rid)

    def optional(column: str) -> str | None:
        return open_text(keys, row[column], table="users", column=column, row=rid)

    return User(
        id=row["id"], kind=Kind(row["kind"]), merchant_id=row["merchant_id"],
        username=required("username_sealed"), display_name=required("display_name_sealed"),
        email=optional("email_sealed"),
        roles=frozenset(r for r in row["roles"].split(",") if r), status=row["status"],
        anti_phishing_phrase=optional("anti_phishing_phrase_sealed"),
        password_hash=row["password_hash"],
        failed_signins=row["failed_signins"], locked_until=row["locked_until"],
        created_at=row["created_at"],
    )

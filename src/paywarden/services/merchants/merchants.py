"""Merchants: created by staff, each with one or more Ed25519 keys; suspended or active.

Every change is one transaction that also writes its audit record. The actor
is whoever asked: ``cli:<login>`` on the server host, a staff principal, or
the merchant itself (``mer_…/key_…``) for its own keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import merchant_keys, merchants
from ...domain.errors import DomainError
from .. import audit
from .keys import (
    MerchantKey,
    SigningKey,
    insert_key,
    lock_merchant,
    revoke_key,
    signing_key,
)

MERCHANT_ID_PREFIX = "mer_"
NAME_CHARS_MAX = 128
ACTIVE = "active"
SUSPENDED = "suspended"
STATUSES = frozenset({ACTIVE, SUSPENDED})


@dataclass(frozen=True)
class Merchant:
    id: str
    name: str
    status: str
    created_at: int
    keys: tuple[MerchantKey, ...]


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    key_id: str


# A merchant and its keys, oldest key first, in one statement.
_WITH_KEYS = (
    select(merchants.c.id, merchants.c.name, merchants.c.status, merchants.c.created_at,
           merchant_keys.c.id.label("key_id"), merchant_keys.c.public_key,
           merchant_keys.c.label, merchant_keys.c.created_at.label("key_created_at"),
           merchant_keys.c.revoked_at)
    .outerjoin(merchant_keys, merchant_keys.c.merchant_id == merchants.c.id)
    .where(merchants.c.id == bindparam("merchant_id"))
    .order_by(merchant_keys.c.created_at, merchant_keys.c.id))


def check_name(name: str) -> str:
    name = name.strip()
    if not 0 < len(name) <= NAME_CHARS_MAX or not name.isprintable():
        raise DomainError("merchant_name_invalid",
                          f"a merchant name is 1 to {NAME_CHARS_MAX} printable characters")
    return name


class Merchants:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def create(self, *, name: str, public_key: bytes, actor: str, key_label: str = "") -> NewMerchant:
        """A new active merchant with its first key (``public_key``: raw Ed25519)."""
        name = check_name(name)
        now = self._clock.now_ns()
        merchant_id = MERCHANT_ID_PREFIX + secrets.token_hex(8)
        with self._database.engine.begin() as conn:
            conn.execute(insert(merchants).values(id=merchant_id, name=name, status=ACTIVE,
                                                  created_at=now))
            key = insert_key(conn, merchant_id=merchant_id, public_key=public_key,
                             label=key_label, now_ns=now)
            audit.record(conn, at_ns=now, actor=actor, action="merchant.create",
                         object_id=merchant_id, detail={"name": name, "key_id": key.id},
                         after={"id": merchant_id, "name": name, "status": ACTIVE,
                                "keys": [key.id]})
        return NewMerchant(Merchant(merchant_id, name, ACTIVE, now, (key,)), key.id)

    def get(self, merchant_id: str) -> Merchant | None:
        """One query, the merchant joined to its keys: a signed ``GET /me`` pays for one
        round trip, and the merchant and its keys are one snapshot."""
        with self._database.engine.connect() as conn:
            rows = conn.execute(_WITH_KEYS, {"merchant_id": merchant_id}).all()
        if not rows:
            return None
        first = rows[0]
        keys = tuple(MerchantKey(id=r.key_id, merchant_id=merchant_id,
                                 public_key=bytes(r.public_key), label=r.label,
                                 created_at=r.key_created_at, revoked_at=r.revoked_at)
                     for r in rows if r.key_id is not None)
        return Merchant(first.id, first.name, first.status, first.created_at, keys)

    def set_status(self, merchant_id: str, status: str, *, actor: str) -> Merchant:
        with self._database.engine.begin() as conn:
            set_status(conn, merchant_id, status, actor=actor, now_ns=self._clock.now_ns())
        return self._must_get(merchant_id)

    def add_key(self, merchant_id: str, public_key: bytes, *, actor: str,
                label: str = "") -> MerchantKey:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            lock_merchant(conn, merchant_id)
            if conn.execute(select(merchants.c.id).where(merchants.c.id == merchant_id)
                            ).first() is None:
                raise DomainError("not_found", f"no merchant {merchant_id}")
            key = insert_key(conn, merchant_id=merchant_id, public_key=public_key, label=label,
                             now_ns=now)
            audit.record(conn, at_ns=now, actor=actor, action="merchant.key.add",
                         object_id=key.id, detail={"merchant_id": merchant_id},
                         after={"id": key.id, "merchant_id": merchant_id, "revoked_at": None})
        return key

    def revoke_key(self, merchant_id: str, key_id: str, *, actor: str,
                   signing_key_id: str | None = None) -> MerchantKey:
        """Revoke a key; ``signing_key_id`` when the merchant itself asks, by a signed request."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            key = revoke_key(conn, merchant_id=merchant_id, key_id=key_id, now_ns=now,
                             signing_key_id=signing_key_id)
            audit.record(conn, at_ns=now, actor=actor, action="merchant.key.revoke",
                         object_id=key_id, detail={"merchant_id": merchant_id},
                         before={"id": key_id, "revoked_at": None},
                         after={"id": key_id, "revoked_at": now})
        return key

    def signing_key(self, key_id: str) -> SigningKey | None:
        with self._database.engine.connect() as conn:
            return signing_key(conn, key_id)

    def _must_get(self, merchant_id: str) -> Merchant:
        merchant = self.get(merchant_id)
        if merchant is None:
            raise DomainError("not_found", f"no merchant {merchant_id}")
        return merchant


def set_status(conn: Connection, merchant_id: str, status: str, *, actor: str,
               now_ns: int) -> None:
    """Suspend or activate ``merchant_id`` in the caller's transaction, with its audit
    record: an approved reinstatement commits with its approval (decision 0044)."""
    if status not in STATUSES:
        raise DomainError("merchant_status_invalid", f"status {status!r} is not one of "
                          f"{', '.join(sorted(STATUSES))}")
    changed = conn.execute(update(merchants).where(
        merchants.c.id == merchant_id, merchants.c.status != status
    ).values(status=status)).rowcount
    if not changed:
        exists = conn.execute(select(merchants.c.id).where(
            merchants.c.id == merchant_id)).first()
        if exists is None:
            raise DomainError("not_found", f"no merchant {merchant_id}")
        raise DomainError("merchant_status_unchanged",
                          f"merchant {merchant_id} is already {status}")
    action = "merchant.suspend" if status == SUSPENDED else "merchant.activate"
    audit.record(conn, at_ns=now_ns, actor=actor, action=action, object_id=merchant_id,
                 after={"id": merchant_id, "status": status})

"""Merchant public keys: Ed25519 only, kept as the raw 32 bytes.

A merchant signs its requests with a private key that never leaves it; the
platform keeps the public half only, so a copy of the database cannot sign as
anyone. A merchant may hold several keys at once (rotation); a revoked key is
kept, marked, so that its signatures are refused by name rather than as unknown.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, RowMapping, func, insert, select, update

from ...adapters.store.schema import merchant_keys, merchants
from ...domain.errors import DomainError

KEY_ID_PREFIX = "key_"
PUBLIC_KEY_BYTES = 32
PEM_BYTES_MAX = 4_096
LABEL_CHARS_MAX = 64


@dataclass(frozen=True)
class MerchantKey:
    id: str
    merchant_id: str
    public_key: bytes  # raw Ed25519
    label: str
    created_at: int
    revoked_at: int | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class SigningKey:
    """What verifying a signature needs to know about its key."""

    key: MerchantKey
    merchant_status: str


def public_key_from_pem(pem: bytes | str) -> bytes:
    """The raw 32 bytes of a PEM-encoded Ed25519 public key; anything else is refused."""
    data = pem.encode() if isinstance(pem, str) else pem
    if len(data) > PEM_BYTES_MAX:
        raise DomainError("public_key_invalid",
                          f"the public key PEM is {len(data)} bytes; at most {PEM_BYTES_MAX}")
    if b"PRIVATE KEY" in data:
        raise DomainError("public_key_invalid", "that is a private key: send only the public "
                          "key, and treat the private key as exposed")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DomainError("public_key_invalid",
                          "the public key is not a PEM-encoded public key "
                          "('-----BEGIN PUBLIC KEY-----')") from None
    if not isinstance(key, Ed25519PublicKey):
        raise DomainError("public_key_invalid",
                          f"the public key is a {type(key).__name__.removeprefix('_')}; "
                          "only Ed25519 keys are accepted")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def check_label(label: str) -> str:
    label = label.strip()
    if len(label) > LABEL_CHARS_MAX or not label.isprintable():
        raise DomainError("key_label_invalid",
                          f"a key label is up to {LABEL_CHARS_MAX} printable characters")
    return label


def insert_key(conn: Connection, *, merchant_id: str, public_key: bytes, label: str,
               now_ns: int) -> MerchantKey:
    """Register a public key for ``merchant_id`` inside the caller's transaction."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise DomainError("public_key_invalid", "an Ed25519 public key is 32 bytes")
    taken = conn.execute(select(merchant_keys.c.id).where(
        merchant_keys.c.public_key == public_key)).first()
    if taken is not None:
        raise DomainError("public_key_registered",
                          "this public key is already registered; generate a new key pair")
    key = MerchantKey(id=KEY_ID_PREFIX + secrets.token_hex(12), merchant_id=merchant_id,
                      public_key=public_key, label=check_label(label), created_at=now_ns,
                      revoked_at=None)
    conn.execute(insert(merchant_keys).values(
        id=key.id, merchant_id=merchant_id, public_key=public_key, label=key.label,
        created_at=now_ns, revoked_at=None))
    return key


def revoke_key(conn: Connection, *, merchant_id: str, key_id: str, now_ns: int,
               signing_key_id: str | None = None) -> MerchantKey:
    """Revoke one of ``merchant_id``'s keys.

    ``signing_key_id`` is the key that signed the request asking for this: a
    merchant cannot revoke the key it is signing with when it is its last
    active one, which would lock it out (staff can; see :mod:`.merchants`).
    """
    lock_merchant(conn, merchant_id)
    row = conn.execute(select(merchant_keys).where(
        merchant_keys.c.id == key_id, merchant_keys.c.merchant_id == merchant_id)
    ).mappings().first()
    if row is None:
        raise DomainError("not_found", f"merchant {merchant_id} has no key {key_id}")
    if row["revoked_at"] is not None:
        raise DomainError("key_already_revoked", f"key {key_id} is already revoked")
    if signing_key_id == key_id:
        active = conn.execute(select(func.count()).select_from(merchant_keys).where(
            merchant_keys.c.merchant_id == merchant_id,
            merchant_keys.c.revoked_at.is_(None))).scalar_one()
        if active <= 1:
            raise DomainError("key_last_active",
                              f"key {key_id} signs this request and is the last active key; "
                              "register another key first")
    conn.execute(update(merchant_keys).where(merchant_keys.c.id == key_id)
                 .values(revoked_at=now_ns))
    return _key({**row, "revoked_at": now_ns})


def lock_merchant(conn: Connection, merchant_id: str) -> None:
    """Serialise changes to one merchant's keys on both databases.

    A no-op write takes the row lock on PostgreSQL and the write lock on SQLite
    before anything is read, so two concurrent revocations cannot both see a
    second active key and leave none.
    """
    conn.execute(update(merchants).where(merchants.c.id == merchant_id)
                 .values(status=merchants.c.status))


def signing_key(conn: Connection, key_id: str) -> SigningKey | None:
    """The key named by a signature's ``keyid``, revoked or not, with its merchant's status."""
    row = conn.execute(
        select(merchant_keys, merchants.c.status.label("merchant_status"))
        .join(merchants, merchants.c.id == merchant_keys.c.merchant_id)
        .where(merchant_keys.c.id == key_id)).mappings().first()
    if row is None:
        return None
    return SigningKey(key=_key(row), merchant_status=row["merchant_status"])


def _key(row: RowMapping | dict[str, Any]) -> MerchantKey:
    return MerchantKey(id=row["id"], merchant_id=row["merchant_id"],
                       public_key=bytes(row["public_key"]), label=row["label"],
                       created_at=row["created_at"], revoked_at=row["revoked_at"])

"""Recovery codes: ten single-use stand-ins for the second factor, stored as keyed digests.

Each code carries 80 random bits, so — as with session tokens — a slow hash
would add nothing against guessing, while it would make every attempt cost
ten Argon2 runs (one per stored code) and hand an attacker a cheap way to
burn server time. A code is stored as HMAC-SHA256 under a server key kept
outside the database: a leaked table alone does not even let anyone test a
guess, and a typed code is found with one indexed equality, then marked used
with a compare-and-set so it works exactly once.

A recovery code stands in for the second factor only, never for the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Connection, delete, func, insert, select, update

from ...adapters.store.schema import recovery_codes
from ...domain.identity.recovery_codes import (
    CODE_BYTES,
    CODES_PER_SET,
    format_code,
    normalise_code,
)
from .sessions import new_id


def digest(key: bytes, code: str) -> str:
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()


def regenerate(conn: Connection, user_id: str, *, key: bytes, now_ns: int) -> list[str]:
    """Replace every code of the user with a fresh set; the codes are returned once."""
    codes = [format_code(secrets.token_bytes(CODE_BYTES)) for _ in range(CODES_PER_SET)]
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    conn.execute(insert(recovery_codes), [
        {"id": new_id("rcc_"), "user_id": user_id, "code_hash": digest(key, code),
         "created_at": now_ns, "used_at": None} for code in codes])
    return codes


def use(conn: Connection, user_id: str, typed: str, *, key: bytes, now_ns: int) -> bool:
    """Mark the matching unused code as used; True if there was one."""
    code = normalise_code(typed)
    if code is None:
        return False
    result = conn.execute(update(recovery_codes).where(
        recovery_codes.c.user_id == user_id, recovery_codes.c.code_hash == digest(key, code),
        recovery_codes.c.used_at.is_(None)).values(used_at=now_ns))
    return result.rowcount == 1


def remaining(conn: Connection, user_id: str) -> int:
    return int(conn.execute(select(func.count()).select_from(recovery_codes).where(
        recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))).scalar_one())


def discard(conn: Connection, user_id: str) -> None:
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))

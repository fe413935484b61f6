"""Operator tokens: the guard of the ledger API until staff sign-in lands.

A token is 256 random bits, shown once; only its SHA-256 is stored. (A hash
made for passwords, such as Argon2id, adds nothing to a secret with this much
entropy, and a fast hash keeps each request's check cheap.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import insert, select

from ..adapters.store import Database
from ..adapters.store.schema import operator_tokens

TOKEN_PREFIX = "pwo_"
TOKEN_BYTES = 32
CACHE_TTL_S = 5.0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(database: Database, *, now_ns: int) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with database.engine.begin() as conn:
        conn.execute(insert(operator_tokens).values(
            id="opt_" + secrets.token_hex(8), token_sha256=_digest(token), created_at=now_ns))
    return token


def has_token(database: Database) -> bool:
    with database.engine.connect() as conn:
        return conn.execute(select(operator_tokens.c.id).limit(1)).first() is not None


class TokenChecker:
    """Answers whether a presented token is a live operator token."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._live: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def check(self, token: str) -> bool:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return False
        if time.monotonic() - self._loaded_at > CACHE_TTL_S:
            self._reload()
        digest = _digest(token)
        # Compare against every live digest so the time taken says nothing of which matched.
        matched = False
        for live in self._live:
            matched |= hmac.compare_digest(live, digest)
        return matched

    def _reload(self) -> None:
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(operator_tokens.c.token_sha256)
                                .where(operator_tokens.c.revoked_at.is_(None))).all()
        self._live = frozenset(r[0] for r in rows)
        self._loaded_at = time.monotonic()

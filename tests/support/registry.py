"""Helpers for the credit registry's tests: two members of staff, an entry made by both,
and every stored value of every table, for the plaintext search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from paywarden.adapters.store import Database
from paywarden.domain.registry import Action
from paywarden.services.registry import Registry

ASKER, APPROVER = "usr_risk_alice", "usr_risk_bob"
YEAR_NS = 365 * 86_400 * 1_000_000_000


def entry_made(registry: Registry, raw: list[tuple[str, str]], *, now_ns: int,
               reason: str = "confirmed_fraud", expires_in_ns: int = YEAR_NS) -> str:
    """A live local entry over ``raw`` (kind, value), asked by one and approved by another."""
    body: dict[str, Any] = {"identifiers": registry.digests(raw), "reason": reason,
                            "evidence_ref": "case:4711", "expires_at": now_ns + expires_in_ns}
    asked = registry.request(Action.CREATE, body, staff_id=ASKER, actor=ASKER)
    done = registry.approve(asked.id, staff_id=APPROVER, actor=APPROVER)
    assert done.entry_id is not None
    return done.entry_id


def every_stored_value(database: Database) -> bytes:
    """Every row of every table, as text: what the plaintext search looks through."""
    found: list[str] = []
    with database.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                found.append(repr(tuple(row)))
    return "\n".join(found).encode()

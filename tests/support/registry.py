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


def applied(registry: Registry, action: Action, body: dict[str, Any], *,
            entry_id: str | None = None) -> str:
    """A change checked as a submission is and applied as the approval engine's executor
    does once a second person approved it (services/approvals/controls.py): for tests of
    the registry itself. The four-eyes path is tested over HTTP (test_registry_api.py)."""
    checked = registry.check_request(action, body, entry_id=entry_id)
    with registry._database.engine.begin() as conn:  # the executor's transaction
        return registry.apply(conn, action, checked, entry_id=entry_id, requested_by=ASKER,
                              approver=APPROVER, approval_id="apr_" + "0" * 24, actor=APPROVER)


def entry_made(registry: Registry, raw: list[tuple[str, str]], *, now_ns: int,
               reason: str = "confirmed_fraud", expires_in_ns: int = YEAR_NS) -> str:
    """A live local entry over ``raw`` (kind, value), submitted by one and approved by
    another."""
    body: dict[str, Any] = {"identifiers": registry.digests(raw), "reason": reason,
                            "evidence_ref": "case:4711", "expires_at": now_ns + expires_in_ns}
    return applied(registry, Action.CREATE, body)


def every_stored_value(database: Database) -> bytes:
    """Every row of every table, as text: what the plaintext search looks through."""
    found: list[str] = []
    with database.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                found.append(repr(tuple(row)))
    return "\n".join(found).encode()

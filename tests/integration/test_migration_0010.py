"""Migration 0010 builds the unique (merchant, order_ref) index on a database that already
holds duplicate order refs: all but the oldest session of each group get a suffix."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from paywarden.adapters.store import Database
from paywarden.adapters.store.database import _alembic_config
from paywarden.adapters.store.schema import checkout_sessions


def _session(n: int, order_ref: str, created_at: int) -> dict[str, object]:
    return {"id": f"cs_{n:024x}", "merchant_id": "mer_1", "order_ref": order_ref,
            "items": "[]", "amount": 1, "currency": "EUR", "return_url": "https://x.example",
            "days_to_ship": 1, "release_after_days": 1, "payment_id": f"pay_{n:024x}",
            "created_at": created_at, "expires_at": created_at + 1}


def test_older_duplicate_order_refs_are_suffixed_so_the_index_can_be_built(
        database: Database) -> None:
    config = _alembic_config(database.url)
    before = ScriptDirectory.from_config(config).get_revision("0010").down_revision
    assert isinstance(before, str)
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, before)
    rows = [_session(1, "A-1", 10), _session(2, "A-1", 20), _session(3, "A-1", 30),
            _session(4, "x" * 128, 10), _session(5, "x" * 128, 20), _session(6, "B-1", 10)]
    with database.engine.begin() as conn:
        for row in rows:
            conn.execute(text(
                "INSERT INTO checkout_sessions (id, merchant_id, order_ref, items, amount, "
                "currency, return_url, days_to_ship, release_after_days, payment_id, "
                "created_at, expires_at) VALUES (:id, :merchant_id, :order_ref, :items, "
                ":amount, :currency, :return_url, :days_to_ship, :release_after_days, "
                ":payment_id, :created_at, :expires_at)"), row)
    database.migrate()
    with database.engine.connect() as conn:
        refs = dict(conn.execute(select(checkout_sessions.c.id, checkout_sessions.c.order_ref)
                                 ).all())
    ids = [str(r["id"]) for r in rows]
    assert refs[ids[0]] == "A-1" and refs[ids[5]] == "B-1"
    assert refs[ids[1]] == f"A-1~{ids[1]}" and refs[ids[2]] == f"A-1~{ids[2]}"
    assert refs[ids[3]] == "x" * 128
    assert refs[ids[4]] == "x" * 100 + f"~{ids[4]}" and len(refs[ids[4]]) == 128

"""The audit log becomes a Merkle tree: audit_entries (leaves), audit_nodes,
audit_tree_heads, audit_head; append-only triggers; audit_events' rows move
into the tree in their order, then the old table goes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from paywarden.domain.audit import leaves, merkle

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_entries", "audit_nodes", "audit_tree_heads")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    size = _move_old_events()
    op.bulk_insert(head, [{"id": 1, "size": size}])
    op.drop_table("audit_events")
    for table in APPEND_ONLY:
        _refuse_changes(table)


def _move_old_events() -> int:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT at, actor, action, object, outcome, detail FROM audit_events ORDER BY seq")).all()
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    known: dict[tuple[int, int], bytes] = {}
    for seq, (at, actor, action, obj, outcome, detail) in enumerate(rows):
        event = leaves.Event(at_ns=at, actor=actor, action=action, object_id=obj,
                             outcome=outcome, detail=json.loads(detail or "{}"))
        leaf = leaves.leaf(seq, event)
        entries.append({"seq": seq, "at": at, "actor": actor, "action": action, "object": obj,
                        "outcome": outcome, "leaf": leaf,
                        "detail": leaves.canonical(leaves.jsonable(event.detail)).decode()})
        for level, idx, h in merkle.append(seq, [merkle.leaf_hash(leaf)], known):
            known[(level, idx)] = h
            nodes.append({"level": level, "idx": idx, "hash": h})
    if entries:
        conn.execute(sa.text(
            "INSERT INTO audit_entries (seq, at, actor, action, object, outcome, detail, leaf) "
            "VALUES (:seq, :at, :actor, :action, :object, :outcome, :detail, :leaf)"), entries)
        conn.execute(sa.text(
            "INSERT INTO audit_nodes (level, idx, hash) VALUES (:level, :idx, :hash)"), nodes)
    return len(entries)


def _refuse_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION paywarden_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; END $$")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION paywarden_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION paywarden_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.drop_table(table)
    op.drop_table("audit_head")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS paywarden_append_only()")
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )

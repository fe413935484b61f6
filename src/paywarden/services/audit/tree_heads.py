"""Signed tree heads: the platform's signed statement of the log's size and root.

:meth:`TreeHeads.sign_now` signs the current tree if it grew since the last head; a
serving process calls it every few seconds (:mod:`paywarden.services.maintenance`),
so a head is never far behind the activity. Two processes signing
the same size race on the primary key; the loser reads the winner's head.
The signed bytes are :func:`paywarden.domain.audit.leaves.tree_head_message`.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store import audit_log as log
from ...adapters.store.schema import audit_tree_heads
from ...domain.audit.leaves import TreeHead, tree_head_message
from ..keys import Keys

PURPOSE = "tree_heads"
_log = structlog.get_logger(__name__)


def _head(row: Row[Any]) -> TreeHead:
    return TreeHead(tree_size=int(row.tree_size), root_hash=bytes(row.root_hash),
                    timestamp=int(row.timestamp), key_id=row.key_id,
                    signature=bytes(row.signature))


def latest(conn: Connection) -> TreeHead | None:
    row = conn.execute(select(audit_tree_heads).order_by(
        audit_tree_heads.c.tree_size.desc()).limit(1)).first()
    return None if row is None else _head(row)


def at_size(conn: Connection, tree_size: int) -> TreeHead | None:
    row = conn.execute(select(audit_tree_heads).where(
        audit_tree_heads.c.tree_size == tree_size)).first()
    return None if row is None else _head(row)


def all_heads(conn: Connection) -> list[TreeHead]:
    return [_head(r) for r in conn.execute(
        select(audit_tree_heads).order_by(audit_tree_heads.c.tree_size))]


class TreeHeads:
    """Signs the audit tree's head with the keyring's ``tree_heads`` key."""

    def __init__(self, database: Database, *, clock: Clock, keys: Keys) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys

    def sign_now(self) -> TreeHead:
        """The head of the tree as it is now, signed; the stored one if nothing changed."""
        engine = self._database.engine
        with engine.connect() as conn:
            sql = log.driver(conn)
            conn.begin()
            size = log.size(sql)
            last = latest(conn)
            if last is not None and last.tree_size >= size:
                return last
            root = log.root(sql, size)
            conn.rollback()
        signer = self._keys.signer(PURPOSE)
        timestamp = self._clock.now_ns() // 1_000_000
        message = tree_head_message(tree_size=size, root_hash=root, timestamp=timestamp,
                                    key_id=signer.key_id)
        head = TreeHead(tree_size=size, root_hash=root, timestamp=timestamp,
                        key_id=signer.key_id, signature=signer.sign(message))
        try:
            with engine.begin() as conn:
                conn.execute(insert(audit_tree_heads).values(
                    tree_size=head.tree_size, root_hash=head.root_hash,
                    timestamp=head.timestamp, key_id=head.key_id, signature=head.signature))
        except IntegrityError:
            with engine.connect() as conn:
                stored = at_size(conn, size)
            if stored is None:
                raise
            return stored
        _log.info("audit.tree_head_signed", tree_size=size, key_id=head.key_id)
        return head

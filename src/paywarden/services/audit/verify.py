"""``paywarden audit verify``: the log checked from its rows alone, then against the data.

1. Every entry: no index missing, the leaf is canonical JSON, says its own
   index, and agrees with the entry's columns.
2. The tree: recomputed leaf by leaf; every stored node must equal the
   recomputed one, and ``audit_head`` must equal the number of entries.
3. Every signed tree head: its signature verifies against its key, and its
   root equals the recomputed root at its size — a history rebuilt after a head
   was signed no longer matches it.
4. The data: each ledger entry's digest equals the digest of the rows now in
   the ledger's tables for its range of timestamps (transfers, and the failed
   transfers it recorded), and no row lies outside every audited range.

Public keys come from the keyring table unless the caller passes keys it
trusts (an auditor should: an insider could replace both the keys and the heads).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, text

from ...adapters.store import Database
from ...domain.audit import leaves, merkle
from ...domain.audit.leaves import TreeHead
from ...domain.ledger import FAILED_COLUMNS
from ...domain.ledger.digests import (
    ACCOUNT_COLUMNS,
    TRANSFER_FACTS,
    TRANSFERS_DIGEST_VERSION,
    rows_digest,
    transfers_digest,
)
from ...domain.timestamps import rfc3339
from . import tree_heads

CHUNK = 5_000
PROBLEMS_MAX = 100
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def verify_audit(database: Database, *, trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
                 progress: Progress | None = None) -> list[Problem]:
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":  # one snapshot for every query below
            conn.execution_options(isolation_level="REPEATABLE READ")
        checker = _Checker(conn, trusted_keys, progress)
        checker.run()
        return checker.problems[:PROBLEMS_MAX]


class _Checker:
    def __init__(self, conn: Connection, trusted: Mapping[str, Ed25519PublicKey] | None,
                 progress: Progress | None) -> None:
        self.conn = conn
        self.keys = dict(trusted) if trusted is not None else _keyring_public_keys(conn)
        self.progress = progress
        self.problems: list[Problem] = []
        self.batches: list[dict[str, Any]] = []

    def fail(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))

    def run(self) -> None:
        heads = tree_heads.all_heads(self.conn)
        head_at = {h.tree_size: h for h in heads}
        total = int(self.conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one())
        frontier: dict[merkle.Node, bytes] = {}  # the perfect subtrees of the tree so far
        made: dict[merkle.Node, bytes] = {}  # nodes completed since the last node check
        size = 0
        for seq, row in self._entries():
            if seq != size:
                self.fail("audit_entry_missing",
                          f"entries {size}…{seq - 1} are missing (deleted rows)")
                return  # indexes after a gap cannot be checked against the tree
            self._check_entry(seq, row)
            for level, idx, h in merkle.append(seq, [merkle.leaf_hash(bytes(row.leaf))],
                                               frontier):
                made[(level, idx)] = h
            size = seq + 1
            frontier = {n: made.get(n) or frontier[n] for n in merkle.frontier(size)}
            if size in head_at:
                self._check_head(head_at[size], merkle.fold(list(frontier.values())))
            if size % CHUNK == 0:
                self._check_nodes(size - CHUNK, size, made)
                made = {}
                if self.progress:
                    self.progress(size, total)
        self._check_nodes(size - size % CHUNK, size, made)
        stored = int(self.conn.execute(text("SELECT size FROM audit_head WHERE id = 1")).scalar_one())
        if stored != size:
            self.fail("audit_head_mismatch", f"audit_head says {stored} entries, the log has {size}")
        if 0 in head_at:
            self._check_head(head_at[0], merkle.EMPTY_ROOT)
        for head in heads:
            if head.tree_size > size:
                self.fail("tree_head_beyond_log", f"a head signs size {head.tree_size}, "
                          f"but the log has {size} entries (entries were removed)")
        self._check_ledger()
        if self.progress:
            self.progress(size, total)

    def _entries(self) -> Iterator[tuple[int, Any]]:
        last = -1
        while True:
            rows = self.conn.execute(text(
                "SELECT seq, at, actor, action, object, outcome, detail, leaf FROM audit_entries "
                "WHERE seq > :last ORDER BY seq LIMIT :n"), {"last": last, "n": CHUNK}).all()
            if not rows:
                return
            for row in rows:
                yield int(row.seq), row
            last = int(rows[-1].seq)

    def _check_nodes(self, lo: int, hi: int, made: dict[merkle.Node, bytes]) -> None:
        """The stored nodes completed by leaves [lo, hi) equal the recomputed ones."""
        rows = self.conn.execute(text(
            "SELECT level, idx, hash FROM audit_nodes WHERE (idx + 1) * power_of_two > :lo "
            "AND (idx + 1) * power_of_two <= :hi".replace(
                "power_of_two", "(CAST(1 AS BIGINT) << level)")), {"lo": lo, "hi": hi}).all()
        stored = {(int(r.level), int(r.idx)): bytes(r.hash) for r in rows}
        for key in sorted(made.keys() | stored.keys()):
            if stored.get(key) != made.get(key):
                what = "missing" if key not in stored else "differs from the entries"
                self.fail("audit_node_mismatch", f"stored tree node {key} {what} "
                          "(the stored tree was rewritten)")
                return

    def _check_entry(self, seq: int, row: Any) -> None:
        raw = bytes(row.leaf)
        try:
            body = json.loads(raw)
            canonical = leaves.canonical(body) == raw
        except (ValueError, leaves.LeafError):
            body, canonical = None, False
        if not canonical or not isinstance(body, dict):
            self.fail("audit_leaf_invalid", f"entry {seq}: the leaf is not canonical JSON")
            return
        columns = {"seq": seq, "time": rfc3339(int(row.at)), "actor": row.actor,
                   "action": row.action, "object": row.object, "outcome": row.outcome,
                   "detail": json.loads(row.detail)}
        differs = sorted(k for k, v in columns.items() if body.get(k) != v)
        if differs:
            self.fail("audit_entry_mismatch",
                      f"entry {seq}: the columns {', '.join(differs)} disagree with the leaf "
                      "(rewritten)")
        if body.get("action", "").startswith("ledger."):
            self.batches.append({"seq": seq, **body})

    def _check_head(self, head: TreeHead, root: bytes) -> None:
        key = self.keys.get(head.key_id)
        if key is None:
            self.fail("tree_head_key_unknown",
                      f"the head at size {head.tree_size} names unknown key {head.key_id}")
        else:
            try:
                key.verify(head.signature, head.message())
            except InvalidSignature:
                self.fail("tree_head_signature_invalid",
                          f"the head at size {head.tree_size} has a bad signature")
        if head.root_hash != root:
            self.fail("tree_head_root_mismatch",
                      f"the log's root at size {head.tree_size} differs from the signed head: "
                      "history was rewritten after it was signed")

    def _check_ledger(self) -> None:
        covered = covered_failed = 0
        for entry in self.batches:
            detail = entry.get("detail") or {}
            first, last = int(detail.get("first", 0)), int(detail.get("last", -1))
            if entry["after"] != leaves.state_digest(detail):
                self.fail("audit_entry_mismatch",
                          f"entry {entry['seq']}: its after-digest does not match its detail")
            if entry["action"] == "ledger.batch":
                covered_failed += self._check_failed(entry["seq"], detail, first, last)
                rows = self._rows("transfers", TRANSFER_FACTS, first, last)
                covered += len(rows)
                what = "transfers"
                digest = _transfers_digest(rows, detail.get("digest_v", 1))
            elif entry["action"] == "ledger.accounts_created":
                rows = self._rows("accounts", ACCOUNT_COLUMNS, first, last)
                what = "accounts"
                digest = rows_digest(rows)
            else:
                continue
            if digest != detail.get("digest"):
                self.fail("ledger_batch_digest_mismatch",
                          f"entry {entry['seq']}: the {what} stored for timestamps "
                          f"{first}…{last} differ from what the batch wrote (changed after commit)")
        total = int(self.conn.execute(text("SELECT count(*) FROM transfers")).scalar_one())
        if total != covered:
            self.fail("transfers_not_audited",
                      f"{total - covered} transfers lie outside every audited ledger batch "
                      "(inserted behind the engine's back)")
        failed = int(self.conn.execute(text("SELECT count(*) FROM transfers_failed")).scalar_one())
        if failed != covered_failed:
            self.fail("transfers_not_audited",
                      f"{failed - covered_failed} failed transfers lie outside every audited "
                      "ledger batch (inserted behind the engine's back)")

    def _check_failed(self, seq: int, detail: dict[str, Any], first: int, last: int) -> int:
        """The failures a batch recorded. Its entry names them only if there were some; a
        row added or moved into another batch's range breaks the count of covered rows."""
        if "failed_digest" not in detail:
            return 0
        rows = self._rows("transfers_failed", FAILED_COLUMNS, first, last)
        if rows_digest(rows) != detail["failed_digest"]:
            self.fail("ledger_batch_digest_mismatch",
                      f"entry {seq}: the failed transfers stored for timestamps {first}…{last} "
                      "differ from what the batch recorded (changed after commit)")
        return len(rows)

    def _rows(self, table: str, columns: tuple[str, ...], first: int, last: int) -> list[Any]:
        return [tuple(r) for r in self.conn.execute(text(
            f"SELECT {', '.join(columns)} FROM {table} "
            "WHERE timestamp >= :first AND timestamp <= :last ORDER BY timestamp"),
            {"first": first, "last": last}).all()]


def _transfers_digest(rows: list[Any], version: object) -> str | None:
    """A batch's transfers digest in the encoding its entry names (none: version 1)."""
    if version == 1:
        return rows_digest(rows)
    if version == TRANSFERS_DIGEST_VERSION:
        return transfers_digest(rows)
    return None  # an unknown version never matches: reported as a mismatch


def _keyring_public_keys(conn: Connection) -> dict[str, Ed25519PublicKey]:
    rows = conn.execute(text(
        "SELECT kid, public_key FROM key_versions WHERE public_key IS NOT NULL")).all()
    return {r.kid: Ed25519PublicKey.from_public_bytes(bytes(r.public_key)) for r in rows}

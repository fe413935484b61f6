"""The audit digests of ledger rows: version 2 as its docstring specifies, version 1 kept."""

from __future__ import annotations

import hashlib
import json
import struct

from paywarden.domain.ledger.digests import rows_digest, transfers_digest

ROWS = [
    (1_700_000_000_000_000_001, "a1", 1, 2, 500, 978, 1, 0, None, 0, None, 0, 0),
    (1_700_000_000_000_000_002, "b2", 2, 3, 2**63 - 1, 978, 7, 4, "a1", 0, "note \"x\"", 1, 0),
]


def spec_digest(rows: list[tuple[object, ...]]) -> str:
    """The encoding written out independently, as an auditor would."""
    body = struct.pack("<q", len(rows))
    for k in (0, 2, 3, 4, 5, 6, 7, 9):
        body += b"".join(struct.pack("<q", r[k]) for r in rows)
    text = [[r[k] for r in rows] for k in (1, 8, 10)]
    body += json.dumps(text, separators=(",", ":")).encode()
    return hashlib.sha256(body).hexdigest()


def test_version_2_hashes_the_bytes_its_docstring_names() -> None:
    assert transfers_digest(ROWS) == spec_digest(ROWS)
    assert transfers_digest([]) == spec_digest([])


def test_version_2_covers_only_the_facts_not_the_balance_snapshots() -> None:
    facts_only = [r[:11] for r in ROWS]
    assert transfers_digest(ROWS) == transfers_digest(facts_only)


def test_every_fact_changes_the_version_2_digest() -> None:
    base = transfers_digest(ROWS)
    for k, other in enumerate((9, "a9", 9, 9, 9, 9, 9, 9, "zz", 9, "")):
        changed = list(ROWS)
        changed[0] = (*ROWS[0][:k], other, *ROWS[0][k + 1:])
        assert transfers_digest(changed) != base, k


def test_moving_a_value_between_rows_changes_the_version_2_digest() -> None:
    swapped = [(*ROWS[0][:4], ROWS[1][4], *ROWS[0][5:]), (*ROWS[1][:4], ROWS[0][4], *ROWS[1][5:])]
    assert transfers_digest(swapped) != transfers_digest(ROWS)


def test_version_1_is_compact_json_of_the_rows() -> None:
    rows = [r[:11] for r in ROWS]
    expected = hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()
    assert rows_digest(rows) == expected

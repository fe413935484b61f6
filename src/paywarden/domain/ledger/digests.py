"""What the audit log says a ledger write stored, as digests the tables can be checked against.

A batch's audit entry carries the range of timestamps it used and the SHA-256
of the rows it inserted, in timestamp order and column order
(``TRANSFER_COLUMNS``; accounts: id, ledger, code, user_data, timestamp — the
columns that never change). ``paywarden audit verify`` reads the same rows
back and recomputes the digest: a row changed, added or removed behind the
engine's back no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

ACCOUNT_COLUMNS = ("id", "ledger", "code", "user_data", "timestamp")


def rows_digest(rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 (hex) of the rows as compact JSON arrays (ints, strings and nulls only)."""
    return hashlib.sha256(
        json.dumps([list(r) for r in rows], separators=(",", ":")).encode()).hexdigest()

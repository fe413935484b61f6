"""The bundled list of the most common passwords, read once per process.

``data/common-passwords.txt.gz`` is the list Django ships (BSD-3-Clause): about
20,000 of the most common leaked passwords, lower-cased and de-duplicated,
compiled by Royce Williams. The policy compares case-folded passwords (and the
word they are built around) against it.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

LIST_PATH = Path(__file__).parent / "data" / "common-passwords.txt.gz"
ENTRIES_MIN = 10_000  # a damaged or truncated list must not silently weaken the policy


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(LIST_PATH, "rt", encoding="utf-8") as f:
        entries = frozenset(line.strip().casefold() for line in f if line.strip())
    if len(entries) < ENTRIES_MIN:
        raise RuntimeError(f"{LIST_PATH} holds {len(entries)} passwords, expected at least "
                           f"{ENTRIES_MIN}: the package is damaged")
    return entries

"""Helpers for tests of sealed data: a keyring without a platform, and the plaintext search."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from paywarden.adapters.clock import Clock
from paywarden.adapters.crypto import LocalMasterKey
from paywarden.adapters.store import Database
from paywarden.services.keys import Keys


def field_keys(database: Database, clock: Clock) -> Keys:
    """A keyring over ``database`` under a random master key, its field keys created."""
    keys = Keys(database, clock=clock, master=LocalMasterKey(os.urandom(32)),
                cryptoperiod_data_days=365, cryptoperiod_signing_days=180,
                publish_retired_days=30, cache_s=60)
    keys.ensure({"data", "blind_index"})
    return keys


def _variants(needle: str | bytes) -> set[bytes]:
    """The needle as UTF-8, UTF-16 (either order) and, for a digit string, with
    separators between its digit groups of four."""
    text = needle.decode() if isinstance(needle, bytes) else needle
    found = {text.encode(), text.encode("utf-16-le"), text.encode("utf-16-be")}
    if re.fullmatch(r"\d{12,19}", text):
        groups = [text[i:i + 4] for i in range(0, len(text), 4)]
        found |= {sep.join(groups).encode() for sep in (" ", "-")}
    return found


def find_plaintext(data: bytes, needles: Iterable[str | bytes]) -> list[str]:
    """Which needles appear in ``data`` (case-insensitive for text), as a list of names."""
    lowered = data.lower()
    return sorted({str(n) for n in needles for v in _variants(n) if v.lower() in lowered})


def assert_no_plaintext(data: bytes, needles: Iterable[str | bytes], *, where: str = "") -> None:
    """Fail if any needle (or its spaced card-number or UTF-16 form) is in ``data``.

    The failure names the needle and where, never the surrounding bytes."""
    found = find_plaintext(data, needles)
    assert not found, f"plaintext {found} found in {where or 'the data'}"

"""Keyed blind indexes: exact-match lookups on encrypted columns.

``HMAC-SHA256(key, encode(label, table, column, normalise(value)))`` in hex. The
key is the keyring's ``blind_index`` secret; table and column are part of the
input, so equal values in two columns do not share an index. Without the key an
index cannot be computed or tested against a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from .envelope import encode_fields

_LABEL = b"paywarden/blind-index/v1"
_REGISTRY_LABEL = b"paywarden/registry-index/v1"
KEY_BYTES_MIN = 32


def normalise(value: str) -> str:
    """NFKC, case-folded, surrounding white space removed: ``" Alice@Example.org"``
    and ``"alice@example.org"`` index alike."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def blind_index(key: bytes, value: str, *, table: str, column: str) -> str:
    if len(key) < KEY_BYTES_MIN:
        raise ValueError(f"a blind-index key is at least {KEY_BYTES_MIN} bytes")
    message = encode_fields(_LABEL, table, column, normalise(value))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def registry_index(key: bytes, kind: str, normalised: str) -> str:
    """The credit registry's keyed hash of an identifier already normalised for its kind
    (domain/registry): the same construction as a blind index under its own label and
    key, so a registry hash never equals any blind index, and the key can be shared with
    other institutions without sharing the platform's blind-index key."""
    if len(key) < KEY_BYTES_MIN:
        raise ValueError(f"a registry-index key is at least {KEY_BYTES_MIN} bytes")
    return hmac.new(key, encode_fields(_REGISTRY_LABEL, kind, normalised),
                    hashlib.sha256).hexdigest()

"""What an audit entry says, as the exact bytes that become a Merkle leaf.

A leaf is the RFC 8785 canonical JSON of one event: its sequence number (the
leaf index), time, actor, action, object, outcome, non-secret detail, and the
SHA-256 digests of the object's state before and after. Canonical JSON lets an
auditor rebuild the bytes from the fields with any RFC 8785 library.

JSON numbers are IEEE doubles (RFC 8785 §3.2.2.3), so nanosecond times and
other integers beyond 2**53 are written as strings.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import rfc8785

from ..timestamps import rfc3339

LEAF_VERSION = 1
TREE_HEAD_CONTEXT = b"PayWarden tree head v1\n"


class LeafError(ValueError):
    """An entry that cannot be written as a leaf (e.g. a number JSON cannot hold)."""


JSON_INT_MAX = 2**53 - 1


def jsonable(value: Any) -> Any:
    """``value`` with every integer JSON cannot hold exactly written as a string."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -JSON_INT_MAX <= value <= JSON_INT_MAX else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# For values of only objects with keys in the Basic Multilingual Plane, arrays, strings,
# integers JSON holds exactly, booleans and null, the standard library's C encoder writes
# the very bytes RFC 8785 does (same escapes, same key order): tests/unit/test_audit_leaves
# checks it against the rfc8785 library. Anything else goes to that library.
_FAST = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                         check_circular=False, allow_nan=False)
_BMP_END = "\U00010000"


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        in_range: bool = -JSON_INT_MAX <= value <= JSON_INT_MAX
        return in_range
    if kind is dict:
        for key, item in value.items():  # loops, not all(): this runs for every leaf
            if type(key) is not str or not (key.isascii() or max(key) < _BMP_END):
                return False
            if type(item) is not str and not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) is not str and not _plain(item):
                return False
        return True
    return False


def canonical(value: Any) -> bytes:
    if _plain(value):
        try:
            return _FAST.encode(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the library says what to do
            pass
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LeafError(f"not canonical JSON: {type(exc).__name__}") from None


def canonical_jsonable(value: Any) -> bytes:
    """``canonical(jsonable(value))``, walking a value that is already plain JSON once
    (``jsonable`` changes nothing in it but tuples, which encode as the lists they become)."""
    if _plain(value):
        try:
            return _FAST.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass
    return canonical(jsonable(value))


def state_digest(state: Any) -> str | None:
    """SHA-256 (hex) of a state's canonical JSON; None for "no state"."""
    if state is None:
        return None
    return hashlib.sha256(canonical_jsonable(state)).hexdigest()






@dataclass(frozen=True, slots=True)
class Event:
    at_ns: int
    actor: str
    action: str
    object_id: str
    outcome: str = "ok"
    detail: dict[str, Any] | None = None
    before: str | None = None  # state_digest of the object before the change
    after: str | None = None


def leaf(seq: int, event: Event) -> bytes:
    return canonical({
        "v": LEAF_VERSION,
        "seq": seq,
        "time": rfc3339(event.at_ns),
        "actor": event.actor,
        "action": event.action,
        "object": event.object_id,
        "outcome": event.outcome,
        "detail": jsonable(event.detail or {}),
        "before": event.before,
        "after": event.after,
    })


def tree_head_message(*, tree_size: int, root_hash: bytes, timestamp: int, key_id: str) -> bytes:
    """The bytes a tree head's Ed25519 signature covers (decision 0009)."""
    return TREE_HEAD_CONTEXT + canonical({
        "tree_size": tree_size,
        "root_hash": base64.b64encode(root_hash).decode(),
        "timestamp": timestamp,
        "key_id": key_id,
    })


@dataclass(frozen=True, slots=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: int  # milliseconds since the epoch, as RFC 9162's TreeHeadData
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return tree_head_message(tree_size=self.tree_size, root_hash=self.root_hash,
                                 timestamp=self.timestamp, key_id=self.key_id)

    def as_json(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size,
                "root_hash": base64.b64encode(self.root_hash).decode(),
                "timestamp": self.timestamp, "key_id": self.key_id,
                "signature": base64.b64encode(self.signature).decode()}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TreeHead:
        try:
            return cls(tree_size=int(body["tree_size"]),
                       root_hash=base64.b64decode(body["root_hash"], validate=True),
                       timestamp=int(body["timestamp"]), key_id=str(body["key_id"]),
                       signature=base64.b64decode(body["signature"], validate=True))
        except (KeyError, TypeError, ValueError) as exc:
            raise LeafError(f"not a tree head: {type(exc).__name__}") from None

"""The manifest: what a backup holds, in canonical JSON, signed.

Fields (all present; unknown fields are refused)::

    format_version      1
    backup_id           "bak_" + 24 hex digits
    created_at          RFC 3339 UTC, from the platform's clock
    database            "sqlite" | "postgresql"
    payload_encoding    "sqlite3+gzip" | "pg_dump-custom+gzip"
    platform_version    paywarden's version that wrote it
    tree_head           the latest signed audit tree head inside the snapshot (its
                        ``as_json()``), or null on a database that has none
    rows                {table: row count} read inside the snapshot itself
    cipher              "AES-256-GCM"
    nonce               base64, 12 bytes
    wrapped_key         base64: the data key wrapped by the master key, context
                        ``b"backup:" + backup_id``
    master_key_id       which master key wrapped it
    signing_kid         the "backups" signing key's id
    signing_public_key  base64url raw Ed25519 public key (informative: see trust.py)
    -- filled in once the payload is written (the "stream fields") --
    snapshot_size       bytes of the plaintext snapshot
    payload_size        bytes of ciphertext
    payload_sha256      hex SHA-256 of the ciphertext
    tag                 base64 GCM tag

Everything but the stream fields is the GCM associated data (:meth:`Manifest.aad`),
so the master key alone authenticates row counts and the tree head, whoever signed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import rfc8785

from .errors import FormatInvalid

FORMAT_VERSION = 1
MANIFEST_BYTES_MAX = 1024 * 1024
TABLES_MAX = 1_000
CIPHER = "AES-256-GCM"
ENCODINGS = {"sqlite": "sqlite3+gzip", "postgresql": "pg_dump-custom+gzip"}
STREAM_FIELDS = ("snapshot_size", "payload_size", "payload_sha256", "tag")
_BACKUP_ID = re.compile(r"bak_[0-9a-f]{24}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True)
class Manifest:
    backup_id: str
    created_at: str
    database: str
    platform_version: str
    tree_head: dict[str, Any] | None
    rows: dict[str, int]
    nonce: str
    wrapped_key: str
    master_key_id: str
    signing_kid: str
    signing_public_key: str
    format_version: int = FORMAT_VERSION
    payload_encoding: str = ""
    cipher: str = CIPHER
    snapshot_size: int = 0
    payload_size: int = 0
    payload_sha256: str = ""
    tag: str = ""

    def __post_init__(self) -> None:
        if not self.payload_encoding and self.database in ENCODINGS:
            object.__setattr__(self, "payload_encoding", ENCODINGS[self.database])

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def canonical(self) -> bytes:
        """The signed bytes: RFC 8785 canonical JSON of every field."""
        return rfc8785.dumps(self.as_json())

    def aad(self) -> bytes:
        """GCM associated data: every field known before the payload is encrypted."""
        core = {k: v for k, v in self.as_json().items() if k not in STREAM_FIELDS}
        return b"paywarden-backup/v1\x00" + rfc8785.dumps(core)

    def sealed(self, *, snapshot_size: int, payload_size: int, payload_sha256: str,
               tag: bytes) -> Manifest:
        return dataclasses.replace(self, snapshot_size=snapshot_size, payload_size=payload_size,
                                   payload_sha256=payload_sha256, tag=b64(tag))

    @property
    def tree_size(self) -> int:
        return int(self.tree_head["tree_size"]) if self.tree_head else 0

    @property
    def nonce_bytes(self) -> bytes:
        return unb64(self.nonce, "nonce")

    @property
    def tag_bytes(self) -> bytes:
        return unb64(self.tag, "tag")

    @property
    def wrapped_key_bytes(self) -> bytes:
        return unb64(self.wrapped_key, "wrapped_key")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise FormatInvalid(f"manifest field {name} is not base64") from None


def parse(data: bytes) -> Manifest:
    """The manifest in ``data``, checked field by field; :class:`FormatInvalid` if not."""
    import json

    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FormatInvalid("manifest is not JSON") from None
    if not isinstance(raw, dict):
        raise FormatInvalid("manifest is not a JSON object")
    names = {f.name for f in dataclasses.fields(Manifest)}
    if set(raw) != names:
        raise FormatInvalid(f"manifest fields differ: missing {sorted(names - set(raw))}, "
                            f"unknown {sorted(set(raw) - names)[:10]}")
    manifest = Manifest(**raw)
    _check(manifest)
    if manifest.canonical() != data:
        raise FormatInvalid("manifest is not in canonical form")
    return manifest


def _check(m: Manifest) -> None:
    strings = ("backup_id", "created_at", "database", "platform_version", "nonce", "wrapped_key",
               "master_key_id", "signing_kid", "signing_public_key", "payload_encoding",
               "cipher", "payload_sha256", "tag")
    for name in strings:
        if not isinstance(getattr(m, name), str):
            raise FormatInvalid(f"manifest field {name} is not a string")
    for name in ("format_version", "snapshot_size", "payload_size"):
        value = getattr(m, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise FormatInvalid(f"manifest field {name} is not a count")
    if m.format_version != FORMAT_VERSION:
        raise FormatInvalid(f"format version {m.format_version} is not {FORMAT_VERSION}")
    if not _BACKUP_ID.fullmatch(m.backup_id):
        raise FormatInvalid("backup_id is malformed")
    if m.database not in ENCODINGS or m.payload_encoding != ENCODINGS[m.database]:
        raise FormatInvalid(f"database kind {m.database!r} / encoding is unknown")
    if m.cipher != CIPHER:
        raise FormatInvalid(f"cipher {m.cipher!r} is unknown")
    if not _SHA256_HEX.fullmatch(m.payload_sha256):
        raise FormatInvalid("payload_sha256 is not a hex SHA-256")
    if len(m.nonce_bytes) != 12 or len(m.tag_bytes) != 16:
        raise FormatInvalid("nonce or tag has the wrong length")
    _check_rows(m.rows)
    if m.tree_head is not None and not (isinstance(m.tree_head, dict) and isinstance(
            m.tree_head.get("tree_size"), int) and isinstance(m.tree_head.get("root_hash"), str)):
        raise FormatInvalid("tree_head is malformed")


def _check_rows(rows: object) -> None:
    if not isinstance(rows, dict) or len(rows) > TABLES_MAX:
        raise FormatInvalid("rows is not a table of counts")
    for table, count in rows.items():
        if not (isinstance(table, str) and _TABLE.fullmatch(table)):
            raise FormatInvalid("rows names a malformed table")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise FormatInvalid(f"rows[{table!r}] is not a count")

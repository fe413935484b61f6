"""The master key: the key-encryption key at the root of the keyring.

Everything secret in the database's ``key_versions`` table is wrapped by it; it
never lives in the database. :class:`MasterKey` is the interface; an external
KMS or HSM implements it (``wrap``/``unwrap`` become calls to the KMS's
encrypt/decrypt with the context as its encryption context or AAD) and is handed
to :class:`~paywarden.services.keys.Keys` instead of :class:`LocalMasterKey`.

:class:`LocalMasterKey` takes 32 bytes from ``PAYWARDEN_MASTER_KEY`` (base64) or,
when that is unset, from the file ``data_dir/keys/master.key`` (created 0600 on
first use). Its ``key_id`` is a digest of the key, never the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import local_secrets
from .errors import UnwrapError

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12
WRAP_FORMAT_V1 = 1
_WRAP_LABEL = b"paywarden/master-wrap/v1\x00"
_KEY_ID_LABEL = b"paywarden/master-key-id/v1\x00"
KEY_ID_HEX = 16  # 64 bits of the digest: names the key, reveals nothing of it


@runtime_checkable
class MasterKey(Protocol):
    """Wraps and unwraps keys; ``context`` is bound as associated data."""

    @property
    def key_id(self) -> str: ...

    def wrap(self, key: bytes, *, context: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, *, context: bytes) -> bytes: ...


class LocalMasterKey:
    """AES-256-GCM key wrapping under a 32-byte key held in process memory."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != MASTER_KEY_BYTES:
            raise ValueError(f"a master key is {MASTER_KEY_BYTES} bytes, got {len(secret)}")
        self._aead = AESGCM(secret)
        self._key_id = "mk_" + hashlib.sha256(_KEY_ID_LABEL + secret).hexdigest()[:KEY_ID_HEX]

    def __repr__(self) -> str:
        return f"LocalMasterKey(key_id={self._key_id!r})"

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return bytes([WRAP_FORMAT_V1]) + nonce + self._aead.encrypt(
            nonce, key, _WRAP_LABEL + context)

    def unwrap(self, blob: bytes, *, context: bytes) -> bytes:
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != WRAP_FORMAT_V1:
            raise UnwrapError("not a wrapped key of a known format")
        nonce, body = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, _WRAP_LABEL + context)
        except InvalidTag:
            raise UnwrapError(f"master key {self._key_id} does not unwrap this key "
                              "(another master key, another context, or tampered)") from None

    @classmethod
    def from_base64(cls, value: str) -> LocalMasterKey:
        try:
            secret = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("PAYWARDEN_MASTER_KEY is not valid base64") from None
        if len(secret) != MASTER_KEY_BYTES:
            raise ValueError(f"PAYWARDEN_MASTER_KEY must decode to {MASTER_KEY_BYTES} bytes")
        return cls(secret)

    @classmethod
    def from_file(cls, path: Path) -> LocalMasterKey:
        """Load the key file, creating it (0600, random) when it does not exist."""
        return cls(local_secrets.load_or_create(path))


def local_master_key(*, master_key: str | None, master_key_file: Path) -> LocalMasterKey:
    """The environment's key when set, else the key file."""
    if master_key:
        return LocalMasterKey.from_base64(master_key)
    return LocalMasterKey.from_file(master_key_file)

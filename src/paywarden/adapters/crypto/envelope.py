"""Envelope encryption of one record (AES-256-GCM), bound to its table, column and row.

Each record gets a fresh random 256-bit data key. The data key encrypts the
record; a key-encryption key (a version of the keyring's ``data`` purpose)
wraps the data key. The record's associated data is a canonical,
length-prefixed encoding of (format, table, column, row id), so a ciphertext
copied to another row or column does not open.

Sealed format 1, all integers big-endian::

    offset  size  field
    0       1     format (1)
    1       4     kek version
    5       2     length W of the wrapped data key
    7       W     wrapped data key: 12-byte nonce + AES-GCM(kek, data key) + 16-byte tag
    7+W     12    record nonce
    19+W    ...   AES-GCM(data key, plaintext) + 16-byte tag

The wrapped data key is bound (as its associated data) to the format and the kek
version, so rewrapping under another version changes only bytes 1..7+W; the
record's ciphertext stays as it is.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import OpenError, SealedFormatError

FORMAT_V1 = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
WRAPPED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES
_HEADER = struct.Struct(">BIH")
_RECORD_LABEL = b"paywarden/envelope/record"
_DEK_LABEL = b"paywarden/envelope/dek"


def encode_fields(*fields: bytes | str) -> bytes:
    """Canonical, unambiguous: each field as a 4-byte length and its (UTF-8) bytes."""
    out = bytearray()
    for field in fields:
        data = field.encode("utf-8") if isinstance(field, str) else field
        out += struct.pack(">I", len(data)) + data
    return bytes(out)


def record_aad(*, table: str, column: str, row_id: str | int, fmt: int = FORMAT_V1) -> bytes:
    return encode_fields(_RECORD_LABEL, bytes([fmt]), table, column, str(row_id))


def _dek_aad(fmt: int, kek_version: int) -> bytes:
    return encode_fields(_DEK_LABEL, bytes([fmt]), struct.pack(">I", kek_version))


@dataclass(frozen=True)
class Sealed:
    """The parts of a sealed value; ``parse`` and ``to_bytes`` are inverses."""

    kek_version: int
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes  # with its tag
    fmt: int = FORMAT_V1

    @classmethod
    def parse(cls, data: bytes) -> Sealed:
        if len(data) < _HEADER.size:
            raise SealedFormatError(f"a sealed value is at least {_HEADER.size} bytes")
        fmt, kek_version, wrapped_len = _HEADER.unpack_from(data)
        if fmt != FORMAT_V1:
            raise SealedFormatError(f"unknown sealed format {fmt}")
        if wrapped_len != WRAPPED_KEY_BYTES:
            raise SealedFormatError(f"wrapped data key of {wrapped_len} bytes in format {fmt}")
        start = _HEADER.size + wrapped_len
        if len(data) < start + NONCE_BYTES + TAG_BYTES:
            raise SealedFormatError("sealed value is truncated")
        return cls(kek_version=kek_version, wrapped_key=bytes(data[_HEADER.size:start]),
                   nonce=bytes(data[start:start + NONCE_BYTES]),
                   ciphertext=bytes(data[start + NONCE_BYTES:]), fmt=fmt)

    def to_bytes(self) -> bytes:
        return (_HEADER.pack(self.fmt, self.kek_version, len(self.wrapped_key))
                + self.wrapped_key + self.nonce + self.ciphertext)


def kek_version_of(data: bytes) -> int:
    """The keyring version a sealed value's data key is wrapped under."""
    return Sealed.parse(data).kek_version


def _check_kek(kek: bytes) -> AESGCM:
    if len(kek) != KEY_BYTES:
        raise ValueError(f"a key-encryption key is {KEY_BYTES} bytes, got {len(kek)}")
    return AESGCM(kek)


def _wrap(kek: bytes, kek_version: int, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _check_kek(kek).encrypt(nonce, data_key, _dek_aad(FORMAT_V1, kek_version))


def _unwrap(kek: bytes, sealed: Sealed, *, table: str, column: str) -> bytes:
    nonce, body = sealed.wrapped_key[:NONCE_BYTES], sealed.wrapped_key[NONCE_BYTES:]
    try:
        return _check_kek(kek).decrypt(nonce, body, _dek_aad(sealed.fmt, sealed.kek_version))
    except InvalidTag:
        raise OpenError(f"the data key of a sealed {table}.{column} does not unwrap under "
                        f"key version {sealed.kek_version} (wrong key or tampered)",
                        table=table, column=column) from None


def seal(plaintext: bytes, *, kek: bytes, kek_version: int, table: str, column: str,
         row_id: str | int) -> bytes:
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(
        nonce, plaintext, record_aad(table=table, column=column, row_id=row_id))
    return Sealed(kek_version=kek_version, wrapped_key=_wrap(kek, kek_version, data_key),
                  nonce=nonce, ciphertext=ciphertext).to_bytes()


def open_sealed(data: bytes, *, kek_for: Callable[[int], bytes], table: str, column: str,
                row_id: str | int) -> bytes:
    """Open a sealed value; ``kek_for(version)`` returns the key-encryption key."""
    sealed = Sealed.parse(data)
    data_key = _unwrap(kek_for(sealed.kek_version), sealed, table=table, column=column)
    try:
        return AESGCM(data_key).decrypt(
            sealed.nonce, sealed.ciphertext,
            record_aad(table=table, column=column, row_id=row_id, fmt=sealed.fmt))
    except InvalidTag:
        raise OpenError(f"a sealed {table}.{column} does not open for this row "
                        "(moved from another row or column, or tampered)",
                        table=table, column=column) from None


def rewrap(data: bytes, *, old_kek: bytes, new_kek: bytes, new_version: int, table: str,
           column: str) -> bytes:
    """The same record with its data key wrapped under ``new_version``; the ciphertext
    is not touched (and not authenticated here: ``open_sealed`` does that on read)."""
    sealed = Sealed.parse(data)
    data_key = _unwrap(old_kek, sealed, table=table, column=column)
    return Sealed(kek_version=new_version, wrapped_key=_wrap(new_kek, new_version, data_key),
                  nonce=sealed.nonce, ciphertext=sealed.ciphertext, fmt=sealed.fmt).to_bytes()

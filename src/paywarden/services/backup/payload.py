"""The payload: the snapshot, gzip-compressed, then AES-256-GCM encrypted, as streams.

Neither direction holds the database in memory: chunks flow through zlib and a
``Cipher(AES, GCM)`` encryptor or decryptor. Decryption releases plaintext before
the tag is checked, so :func:`open_payload` writes into a scratch file that the
caller uses only after it returns; it checks, in this order, the ciphertext's
SHA-256, the GCM tag, then the gzip stream and the snapshot's size.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import DigestMismatch, PayloadInvalid

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
CHUNK_BYTES = 1024 * 1024
GZIP_WBITS = 16 + zlib.MAX_WBITS
COMPRESSION_LEVEL = 6

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Sealed:
    snapshot_size: int
    payload_size: int
    sha256: str
    tag: bytes


def seal(chunks: Iterable[bytes], dst: IO[bytes], *, key: bytes, nonce: bytes, aad: bytes,
         progress: Progress | None = None) -> Sealed:
    """Compress and encrypt ``chunks`` into ``dst``."""
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    compressor = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    digest = hashlib.sha256()
    plain = written = 0

    def emit(data: bytes) -> None:
        nonlocal written
        if data:
            digest.update(data)
            dst.write(data)
            written += len(data)

    for chunk in chunks:
        plain += len(chunk)
        emit(encryptor.update(compressor.compress(chunk)))
        if progress:
            progress(len(chunk))
    emit(encryptor.update(compressor.flush()))
    emit(encryptor.finalize())
    return Sealed(snapshot_size=plain, payload_size=written, sha256=digest.hexdigest(),
                  tag=encryptor.tag)


def open_payload(src: IO[bytes], dst: IO[bytes], *, size: int, key: bytes, nonce: bytes,
                 aad: bytes, tag: bytes, sha256: str, snapshot_size: int,
                 progress: Progress | None = None) -> None:
    """Decrypt and decompress ``size`` bytes of ``src`` into ``dst``, then check them all."""
    decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    inflater = _Inflater(dst, limit=snapshot_size)
    digest = hashlib.sha256()
    remaining = size
    while remaining:
        chunk = src.read(min(CHUNK_BYTES, remaining))
        if not chunk:
            raise PayloadInvalid("payload ended early")
        remaining -= len(chunk)
        digest.update(chunk)
        inflater.feed(decryptor.update(chunk))
        if progress:
            progress(len(chunk))
    if digest.hexdigest() != sha256:
        raise DigestMismatch("the ciphertext's SHA-256 differs from the manifest's")
    try:
        inflater.feed(decryptor.finalize())
    except InvalidTag:
        raise PayloadInvalid("GCM tag does not match (altered ciphertext or manifest, "
                             "or another data key)") from None
    inflater.finish()


class _Inflater:
    """gzip decompression capped at ``limit`` bytes; remembers its first failure so that
    the digest and the tag, which say more, are checked first."""

    def __init__(self, dst: IO[bytes], *, limit: int) -> None:
        self._dst = dst
        self._limit = limit
        self._out = 0
        self._z = zlib.decompressobj(GZIP_WBITS)
        self._failure: str | None = None

    def feed(self, data: bytes) -> None:
        while data and self._failure is None:
            try:
                out = self._z.decompress(data, CHUNK_BYTES)
            except zlib.error:
                self._failure = "payload is not a gzip stream"
                return
            self._out += len(out)
            if self._out > self._limit:
                self._failure = f"snapshot exceeds its declared {self._limit} bytes"
                return
            self._dst.write(out)
            data = self._z.unconsumed_tail

    def finish(self) -> None:
        if self._failure is None:
            self.feed(self._z.unconsumed_tail)
            try:
                tail = self._z.flush()
            except zlib.error:
                tail, self._failure = b"", "payload is not a gzip stream"
            self._out += len(tail)
            if self._out <= self._limit:
                self._dst.write(tail)
        if self._failure is None and not self._z.eof:
            self._failure = "gzip stream is incomplete"
        if self._failure is None and (self._z.unused_data or self._out != self._limit):
            self._failure = f"snapshot is {self._out} bytes, manifest says {self._limit}"
        if self._failure is not None:
            raise PayloadInvalid(self._failure)

"""The backup file's layout, and writing it durably.

::

    offset    size   field
    0         8      magic  b"PWBACKUP"
    8         2      layout version, big-endian (1)
    10        4      manifest length N, big-endian, at most 1 MiB
    14        N      manifest: RFC 8785 canonical JSON (manifest.py)
    14+N      64     Ed25519 signature over those N bytes ("backups" signing key)
    78+N      P      ciphertext: gzip stream of the snapshot, AES-256-GCM; P is the
                     manifest's payload_size and the file ends there

The GCM tag, the ciphertext's SHA-256 and the wrapped data key are in the
manifest, so the signature covers them. The file is written under a temporary
name in the target's directory (mode 0600), fsynced, renamed into place and the
directory fsynced: a crash leaves either no backup or a whole one.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import FormatInvalid
from .manifest import MANIFEST_BYTES_MAX, Manifest, parse

MAGIC = b"PWBACKUP"
LAYOUT_VERSION = 1
SIGNATURE_BYTES = 64
_PREFIX = struct.Struct(">8sHI")
COPY_CHUNK_BYTES = 1024 * 1024
FILE_MODE = 0o600


@dataclass(frozen=True)
class Header:
    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    payload_offset: int


def header_bytes(manifest_bytes: bytes, signature: bytes) -> bytes:
    if len(manifest_bytes) > MANIFEST_BYTES_MAX or len(signature) != SIGNATURE_BYTES:
        raise ValueError("manifest too large or signature of the wrong size")
    return _PREFIX.pack(MAGIC, LAYOUT_VERSION, len(manifest_bytes)) + manifest_bytes + signature


def read_header(f: IO[bytes], *, file_size: int) -> Header:
    """Parse the header of an open backup; refuse a wrong magic, layout or length."""
    prefix = f.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size:
        raise FormatInvalid("file is too short to be a backup")
    magic, version, length = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise FormatInvalid("not a PayWarden backup (wrong magic)")
    if version != LAYOUT_VERSION:
        raise FormatInvalid(f"layout version {version} is not {LAYOUT_VERSION}")
    if length > MANIFEST_BYTES_MAX:
        raise FormatInvalid(f"manifest length {length} exceeds {MANIFEST_BYTES_MAX}")
    manifest_bytes = f.read(length)
    signature = f.read(SIGNATURE_BYTES)
    if len(manifest_bytes) != length or len(signature) != SIGNATURE_BYTES:
        raise FormatInvalid("file is truncated inside its header")
    manifest = parse(manifest_bytes)
    offset = _PREFIX.size + length + SIGNATURE_BYTES
    if file_size != offset + manifest.payload_size:
        state = "truncated" if file_size < offset + manifest.payload_size else "followed by"
        raise FormatInvalid(f"payload is {state} extra bytes: file has {file_size} bytes, "
                            f"manifest says {offset + manifest.payload_size}")
    return Header(manifest=manifest, manifest_bytes=manifest_bytes, signature=signature,
                  payload_offset=offset)


def temp_path(near: Path, suffix: str) -> Path:
    """A fresh name in ``near``'s directory, created empty with mode 0600."""
    path = near.parent / f".{near.name}.{secrets.token_hex(6)}.{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)
    return path


def write_archive(out: Path, header: bytes, payload: Path,
                  progress: Callable[[int], None] | None = None) -> None:
    """Write ``header`` then ``payload``'s bytes to ``out`` atomically and durably."""
    tmp = temp_path(out, "tmp")
    try:
        with open(tmp, "wb") as dst, open(payload, "rb") as src:
            dst.write(header)
            while chunk := src.read(COPY_CHUNK_BYTES):
                dst.write(chunk)
                if progress:
                    progress(len(chunk))
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, out)
        fsync_dir(out.parent)
    finally:
        tmp.unlink(missing_ok=True)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

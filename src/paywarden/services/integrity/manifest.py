"""The signed release manifest: made and signed at release, read and checked at serve.

The release key is an Ed25519 key of its own: not one of the platform's keys (a
server that could sign its own manifest could bless its own trojan). Its private
half stays with the release engineer or CI (a PEM file, optionally under a
passphrase); the servers pin its public half, ``ed25519:<base64 of the 32 bytes>``
(``PAYWARDEN_RELEASE_KEY``).

A manifest is one JSON file: the body of ``domain.integrity.manifest_body`` and a
``signature`` over its canonical form (``domain.integrity.signed_part``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ...domain.integrity import FORMAT, SIGNATURE_ALGORITHM, manifest_body, signed_part

KEY_PREFIX = "ed25519:"
MANIFEST_BYTES_MAX = 16 * 1024 * 1024


class ManifestRefused(Exception):
    """The manifest cannot be trusted; ``reason`` ends the sentence "the release manifest …"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReleaseKeyInvalid(ValueError):
    pass


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """``ed25519:<base64 of 32 bytes>``; :class:`ReleaseKeyInvalid` otherwise."""
    if not text.startswith(KEY_PREFIX):
        raise ReleaseKeyInvalid(f"a release key starts with {KEY_PREFIX!r}")
    try:
        raw = base64.b64decode(text.removeprefix(KEY_PREFIX), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ReleaseKeyInvalid("a release key is the base64 of 32 bytes") from None


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def new_release_key(path: Path, passphrase: bytes | None) -> Ed25519PublicKey:
    """A new release key, its private half written to ``path`` (0600, never replaced)."""
    private = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase
        else serialization.NoEncryption())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return private.public_key()


def load_release_key(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase or None)
    except (ValueError, TypeError) as exc:
        raise ReleaseKeyInvalid(f"{path} is not a release key that this passphrase opens: "
                                f"{type(exc).__name__}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseKeyInvalid(f"{path} is not an Ed25519 key")
    return key


def signed_manifest(*, private: Ed25519PrivateKey, package: str, version: str,
                    created_at: str, files: Mapping[str, str]) -> dict[str, Any]:
    body = manifest_body(package=package, version=version, created_at=created_at, files=files)
    signature = private.sign(signed_part(body))
    return {**body, "signature": {
        "algorithm": SIGNATURE_ALGORITHM, "key_id": key_id(private.public_key()),
        "value": base64.b64encode(signature).decode("ascii")}}


def read_manifest(path: Path, key: Ed25519PublicKey, *, package: str,
                  version: str) -> dict[str, str]:
    """The files a manifest signed by ``key`` names for ``package`` at ``version``.

    :class:`ManifestRefused` when it is missing, unreadable, not signed by the pinned
    key, or for another package or version.
    """
    try:
        if path.stat().st_size > MANIFEST_BYTES_MAX:
            raise ManifestRefused(f"at {path} is too large")
        body = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ManifestRefused(f"is missing ({path})") from None
    except (OSError, ValueError) as exc:
        raise ManifestRefused(f"at {path} is unreadable ({type(exc).__name__})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ManifestRefused(f"at {path} is not a {FORMAT}")
    signature = body.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != SIGNATURE_ALGORITHM:
        raise ManifestRefused("is not signed")
    try:
        key.verify(base64.b64decode(str(signature.get("value")), validate=True),
                   signed_part(body))
    except (InvalidSignature, binascii.Error, ValueError):
        raise ManifestRefused("is not signed by the pinned release key "
                              f"({key_id(key)})") from None
    if body.get("package") != package or body.get("version") != version:
        raise ManifestRefused(f"is for {body.get('package')} {body.get('version')}, "
                              f"not this {package} {version}")
    files = body.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ManifestRefused("names its files wrongly")
    return files

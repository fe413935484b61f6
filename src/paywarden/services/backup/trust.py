"""Whom a restore believes: the signature, and the master key behind it.

The manifest names its signing key (``signing_kid``) and carries the public key,
but a key that vouches for itself proves nothing: anyone can re-sign an edited
manifest with a key of their own. So the public key is taken, in this order, from

1. the restoring platform's keyring (``keys.public_key(kid)``): the
   signature must verify under it;
2. a JWKS the operator names (``--trust-jwks FILE_OR_URL``, e.g. a saved copy of
   ``/.well-known/jwks.json``): the kid must be in it and the signature verify;
3. otherwise the carried key checks the signature for integrity only, and trust
   comes from the master key: the data key is wrapped by it (context
   ``backup:<id>``), and every manifest field but the payload's digest, size and
   tag — including the signing key id and public key, the row counts and the tree
   head — is the GCM associated data. Only a holder of this platform's master key
   can produce a payload that decrypts, so an edited or re-signed manifest fails
   the tag; a backup of another platform fails the unwrap.

In every case the data key must unwrap and the tag must verify before anything
is restored; the signature adds that the backup came from a key of the platform.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ...adapters.crypto.errors import UnwrapError
from .archive import Header
from .errors import FormatInvalid, KeyUnwrapFailed, SignatureInvalid, SignerUntrusted
from .manifest import Manifest

JWKS_BYTES_MAX = 256 * 1024
JWKS_FETCH_TIMEOUT_S = 10.0

KeyLookup = Callable[[str], Ed25519PublicKey | None]


def check_signature(header: Header, *, keyring: KeyLookup,
                    jwks: dict[str, Ed25519PublicKey] | None) -> str:
    """Verify the manifest's signature; return what vouched for the key."""
    manifest = header.manifest
    kid = manifest.signing_kid
    known = keyring(kid)
    if known is not None:
        _verify(known, header, f"the platform's key {kid}")
        return "keyring"
    if jwks is not None:
        trusted = jwks.get(kid)
        if trusted is None:
            raise SignerUntrusted(f"backup signing key {kid!r} is not in the trusted JWKS")
        _verify(trusted, header, f"key {kid} of the trusted JWKS")
        return "jwks"
    _verify(carried_key(manifest), header, f"the carried key {kid}")
    return "master-key"


def carried_key(manifest: Manifest) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64url(manifest.signing_public_key))
    except ValueError:
        raise FormatInvalid("signing_public_key is not an Ed25519 public key") from None


def _verify(key: Ed25519PublicKey, header: Header, which: str) -> None:
    try:
        key.verify(header.signature, header.manifest_bytes)
    except InvalidSignature:
        raise SignatureInvalid(f"the manifest does not verify under {which}") from None


def unwrap_data_key(manifest: Manifest, master: Any) -> bytes:
    """The data key, unwrapped by this platform's master key, or :class:`KeyUnwrapFailed`."""
    try:
        key = master.unwrap(manifest.wrapped_key_bytes,
                            context=b"backup:" + manifest.backup_id.encode("ascii"))
    except UnwrapError:
        raise KeyUnwrapFailed(
            f"this platform's master key ({master.key_id}) does not unwrap the backup's "
            f"data key (wrapped under {manifest.master_key_id}): another platform's backup, "
            "or an altered one") from None
    if len(key) != 32:
        raise KeyUnwrapFailed("the unwrapped data key is not 32 bytes")
    return bytes(key)


def load_jwks(source: str) -> dict[str, Ed25519PublicKey]:
    """Ed25519 keys by kid from a JWKS file or http(s) URL."""
    if source.startswith(("https://", "http://")):
        import httpx

        try:
            response = httpx.get(source, timeout=JWKS_FETCH_TIMEOUT_S, follow_redirects=False)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SignerUntrusted(f"cannot fetch the JWKS at {source}: {exc}") from None
        body = response.content
    else:
        try:
            body = Path(source).read_bytes()
        except OSError as exc:
            raise SignerUntrusted(f"cannot read the JWKS {source}: {exc.strerror}") from None
    if len(body) > JWKS_BYTES_MAX:
        raise SignerUntrusted(f"the JWKS {source} exceeds {JWKS_BYTES_MAX} bytes")
    return parse_jwks(body, source)


def parse_jwks(body: bytes, source: str) -> dict[str, Ed25519PublicKey]:
    try:
        keys = json.loads(body)["keys"]
    except (ValueError, KeyError, TypeError):
        raise SignerUntrusted(f"{source} is not a JWKS") from None
    found: dict[str, Ed25519PublicKey] = {}
    for jwk in keys if isinstance(keys, list) else []:
        if not (isinstance(jwk, dict) and jwk.get("kty") == "OKP"
                and jwk.get("crv") == "Ed25519" and isinstance(jwk.get("kid"), str)
                and isinstance(jwk.get("x"), str)):
            continue
        try:
            found[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(_unb64url(jwk["x"]))
        except (ValueError, FormatInvalid):
            continue
    return found


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise FormatInvalid("a key is not base64url") from None

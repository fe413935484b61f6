"""The JSON Web Key Set: public keys of the published signing purposes.

One JWK per key (RFC 8037 OKP, ``alg`` "Ed25519" of RFC 9864): active keys and
keys retired less than ``publish_retired_ns`` ago, so signatures made just before
a rotation still verify. Never the CA key, never a private part: each JWK is built
here field by field, not copied from a key object.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.jwk import OKPKey

from .purposes import ACTIVE, PUBLISHED
from .store import KeyVersion


def jwk(version: KeyVersion) -> dict[str, str]:
    if version.public_key is None:
        raise ValueError(f"key {version.kid} has no public key")
    public = OKPKey.import_key(Ed25519PublicKey.from_public_bytes(version.public_key))
    parts = public.as_dict(private=False)
    return {"kty": "OKP", "crv": "Ed25519", "x": str(parts["x"]), "kid": version.kid,
            "use": "sig", "alg": "Ed25519"}


def published(version: KeyVersion, *, now_ns: int, publish_retired_ns: int) -> bool:
    if version.purpose not in PUBLISHED or version.public_key is None:
        return False
    if version.state == ACTIVE:
        return True
    return version.retired_at is not None and now_ns - version.retired_at <= publish_retired_ns


def jwks(versions: list[KeyVersion], *, now_ns: int, publish_retired_ns: int) -> dict[str, Any]:
    return {"keys": [jwk(v) for v in versions
                     if published(v, now_ns=now_ns, publish_retired_ns=publish_retired_ns)]}

"""Detached Ed25519 signatures over a clearing message's exact bytes (decision 0053).

The signed bytes are ``b"paywarden-clearing-v1\\0" + sender + b"\\0" + body``: the
context string keeps a clearing signature from ever verifying as any other PayWarden
signature, and the sender's BIC inside the signed bytes means a message re-sent under
another participant's name fails. The sender is a BIC (letters and digits only), so no
NUL in it can shift where the body starts. Signing the archived bytes, not a
canonicalised tree, lets anyone verify a message later from the archive alone.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ...domain.clearing.messages import BIC_PATTERN, check_bic

CONTEXT = b"paywarden-clearing-v1\0"
SIGNATURE_BYTES = 64


def signed_bytes(sender: str, body: bytes) -> bytes:
    return CONTEXT + sender.encode("ascii") + b"\0" + body


def sign(private_key: Ed25519PrivateKey, sender: str, body: bytes) -> bytes:
    """The 64-byte signature of ``body`` sent by ``sender`` (a BIC: ``bic_invalid``
    otherwise)."""
    return private_key.sign(signed_bytes(check_bic(sender), body))


def verify(public_key: Ed25519PublicKey, sender: str, body: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``sender``'s over ``body``; False for anything malformed."""
    if not (isinstance(sender, str) and BIC_PATTERN.match(sender)
            and isinstance(signature, bytes) and len(signature) == SIGNATURE_BYTES):
        return False
    try:
        public_key.verify(signature, signed_bytes(sender, body))
    except InvalidSignature:
        return False
    return True

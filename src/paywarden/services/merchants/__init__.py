"""Merchants, their Ed25519 keys, and verifying the requests they sign."""

from .keys import MerchantKey, SigningKey, public_key_from_pem
from .merchants import ACTIVE, SUSPENDED, Merchant, Merchants, NewMerchant
from .nonces import ClaimUnavailable, Nonces
from .signatures import SignatureRefused, SignatureVerifier, SignedRequest, VerifiedSignature

__all__ = [
    "ACTIVE",
    "SUSPENDED",
    "ClaimUnavailable",
    "Merchant",
    "MerchantKey",
    "Merchants",
    "NewMerchant",
    "Nonces",
    "SignatureRefused",
    "SignatureVerifier",
    "SignedRequest",
    "SigningKey",
    "VerifiedSignature",
    "public_key_from_pem",
]
